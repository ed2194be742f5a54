// The spec's input schema as flags: names, types, and values converted without losing a digit.
import { describe, expect, it } from "vitest";
import { imageToImageFlags, imageToImageInputSchema } from "../../generated/endpoint-data.js";
import { flagIssue, inputFromFlags as inputOf, specFlagOptions, specFlagsHelp, type SpecFlag } from "../../src/cli/flags.js";
import { checkInput } from "../../src/image-to-image.js";

const specFlags: readonly SpecFlag[] = imageToImageFlags;
const inputFromFlags = (values: Record<string, unknown>, flags: readonly SpecFlag[] = specFlags) => inputOf(values, flags);

describe("the spec's flags", () => {
  it("one flag per parameter of the spec, generated with its type, null and required from the schema; booleans with a --no- form", () => {
    expect(specFlags.map((f) => f.parameter)).toEqual(Object.keys(imageToImageInputSchema.properties));
    for (const flag of specFlags) {
      const schema = imageToImageInputSchema.properties[flag.parameter as keyof typeof imageToImageInputSchema.properties];
      expect(flag.schema).toEqual(schema);
      expect(flag.flag).toBe(flag.parameter.replaceAll("_", "-"));
      expect(flag.required).toBe((imageToImageInputSchema.required as readonly string[]).includes(flag.parameter));
      expect([flag.type, ...(flag.nullable ? ["null"] : [])].sort()).toEqual([schema.type].flat().sort());
    }
    expect(specFlags.find((f) => f.parameter === "seed")).toMatchObject({ type: "integer", nullable: true });
    const options = specFlagOptions(specFlags);
    expect(options["num-inference-steps"]).toEqual({ type: "string" });
    expect(options["enable-safety-checker"]).toEqual({ type: "boolean" });
    expect(options["no-enable-safety-checker"]).toEqual({ type: "boolean" });
  });

  it("converts by the spec's type; a seed above 2^53 keeps every digit; text that is no number is kept for the validator", () => {
    const input = inputFromFlags({
      strength: "0.5",
      "num-images": "3",
      seed: "15860307465884635512",
      "no-sync-mode": true,
      "enable-safety-checker": true,
      "guidance-scale": "lots",
      prompt: "42",
    });
    expect(input).toEqual({
      strength: 0.5,
      num_images: 3,
      seed: 15860307465884635512n,
      sync_mode: false,
      enable_safety_checker: true,
      guidance_scale: "lots",
      prompt: "42",
    });
    expect(inputFromFlags({ seed: "null" })).toEqual({ seed: null });
    expect(inputFromFlags({ "num-images": "", strength: "0x1", "guidance-scale": "Infinity" })).toEqual({
      num_images: "",
      strength: "0x1",
      guidance_scale: "Infinity",
    });
    expect(inputFromFlags({ strength: " .5 ", "guidance-scale": "1e1" })).toEqual({ strength: 0.5, guidance_scale: 10 });
  });

  it("names the flag in the validator's message", () => {
    const [issue] = checkInput({ image_url: "https://x.test/a.png", prompt: "p", num_inference_steps: 51 });
    expect(flagIssue(issue!, specFlags)).toBe("--num-inference-steps: must be <= 50, got 51");
  });
});

it("a flag the generator adds for a new parameter reaches --help and the request with no other edit", () => {
  // As generate.mjs writes a number and a nullable choice (test/full/second-endpoint.test.ts runs it on another schema).
  const flags: SpecFlag[] = [
    ...specFlags,
    { flag: "lora-scale", parameter: "lora_scale", type: "number", nullable: false, required: false, schema: { type: "number", minimum: 0, maximum: 2, default: 1, description: "How much the LoRA weighs." } },
    { flag: "style", parameter: "style", type: "string", nullable: true, required: false, schema: { type: ["string", "null"], enum: ["photo", "anime", null], description: "A style." } },
  ];
  expect(specFlagOptions(flags)).toMatchObject({ "lora-scale": { type: "string" }, style: { type: "string" } });
  const help = specFlagsHelp(flags).replace(/\s+/g, " ");
  expect(help).toContain("--lora-scale NUM number, 0 to 2, default 1. How much the LoRA weighs.");
  expect(help).toContain("--style CHOICE one of photo, anime, or null. A style.");
  expect(inputFromFlags({ "lora-scale": "1.5", style: "null" }, flags)).toEqual({ lora_scale: 1.5, style: null });
});
