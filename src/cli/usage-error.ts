/** A command line that cannot run as given (a bad flag, a missing file): exit code 2, nothing sent. */
export class UsageError extends Error {
  override name = "UsageError";
}
