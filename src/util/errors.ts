// The one error type for bad user input: the CLI prints its message as a single line and exits non-zero.

/** An error caused by the user's input (a file, a flag, a field). Its message names what and where, and what was expected. */
export class UserError extends Error {
  override name = 'UserError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Throws a UserError unless `cond` holds. */
export function check(cond: unknown, message: string): asserts cond {
  if (!cond) throw new UserError(message);
}
