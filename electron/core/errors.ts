/**
 * The one error type the engine throws on purpose. `message` says what happened in a DBA's
 * words; `hint` says what to do about it. Anything else reaching the CLI is a bug.
 */
export class QuiesceError extends Error {
  readonly code: string;
  readonly hint: string | undefined;

  constructor(code: string, message: string, hint?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'QuiesceError';
    this.code = code;
    this.hint = hint;
  }
}

export function describeError(error: unknown): string {
  if (error instanceof QuiesceError) return error.hint ? `${error.message} ${error.hint}` : error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

/** Node's fs errors carry a `code`; this narrows to them without `any`. */
export function errnoCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string'
    ? error.code
    : undefined;
}
