export {
  createFluxClient,
  type CallOptions,
  type FetchLike,
  type FluxClient,
  type FluxClientOptions,
  type ImageToImageInput,
  type ImageToImageOutput,
} from "./client.js";
export type { AuthScheme } from "./credentials.js";
export {
  FluxApiError,
  FluxConfigError,
  FluxError,
  FluxNetworkError,
  FluxResponseError,
  FluxValidationError,
  type FalErrorBody,
  type FluxIssue,
} from "./errors.js";
export { checkInput, checkOutput } from "./validation.js";
export { imageToImageInputSchema, imageToImageExamples } from "../generated/spec.js";
export type { components, paths } from "../generated/image-to-image.js";
