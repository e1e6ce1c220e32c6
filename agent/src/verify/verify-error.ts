/** A failure that ends `verify` or `baseline` with exit code 2 and a one-line reason. */
export class VerifyError extends Error {
  readonly code = 'VERIFY_ERROR';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VerifyError';
  }
}
