// The one error base every Shoal layer throws, with a stable machine-readable code.
// Errors become exit codes, 403s or closed connections only at the edges.

export class ShoalError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ShoalError";
    this.code = code;
  }
}

/** True when `err` is a ShoalError, optionally with the given code. */
export function isShoalError(err: unknown, code?: string): err is ShoalError {
  return err instanceof ShoalError && (code === undefined || err.code === code);
}
