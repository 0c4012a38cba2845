/**
 * The engine's error base class. Every error the engine throws carries a stable `code`
 * that callers branch on (never the message text) and, where there is one, the `cause`.
 * Expected outcomes (a duplicate, a rejected message, a dead letter) are not errors:
 * they are discriminated unions returned by the functions that produce them.
 */
export class PacslinkError extends Error {
  /** Stable machine-readable code, e.g. `ERR_CONFIG`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PacslinkError';
    this.code = code;
  }

  /** A plain object that can cross a worker boundary; see {@link fromPlain}. */
  toPlain(): PlainError {
    return { code: this.code, message: this.message };
  }
}

/** An error as it travels between threads: `{ code, message }` plus optional details. */
export interface PlainError {
  code: string;
  message: string;
  [detail: string]: unknown;
}

/** Rebuilds an error that crossed a worker boundary as a plain object. */
export function fromPlain(plain: PlainError): PacslinkError {
  return new PacslinkError(plain.code, plain.message);
}

/** Bad command-line usage or configuration; the CLI exits with code 2. */
export class UsageError extends PacslinkError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_USAGE', message, options);
    this.name = 'UsageError';
  }
}
