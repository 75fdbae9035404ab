/**
 * Why a call to a partner ended without an answer the caller can be given: every caller of a
 * partner (the pipeline, the dialects, the outbox) tells the failures apart by `failure`.
 */
export type UpstreamFailure = 'timeout' | 'refused' | 'tls' | 'network' | 'tooLarge' | 'breakerOpen' | 'busy';

export class UpstreamError extends Error {
  constructor(
    readonly failure: UpstreamFailure,
    message: string,
    options?: { cause?: unknown; retryAfterMs?: number },
  ) {
    super(message, options);
    this.name = 'UpstreamError';
    this.retryAfterMs = options?.retryAfterMs;
  }

  /** breakerOpen, busy: when it makes sense to try again */
  readonly retryAfterMs?: number;
}
