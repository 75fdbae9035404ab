/**
 * A partner's answer as undici's dispatcher hands it over, read by a handler of its own: the
 * status, the three headers the hub passes on or needs (Retry-After only when it is one), and the
 * body, bounded in size and, with the rest of the call, in time. `Pool.request` wraps the same
 * events in a stream and a promise per step; an AID.02 answer is one or two chunks, kept as they
 * come.
 */
import type { Dispatcher } from 'undici';
import { deadlineIn, type Deadline } from '../deadlineWheel';
import type { UpstreamResponse } from './upstream';
import { UpstreamError } from '../errors/upstreamError';

type Done = (err: unknown, answer?: UpstreamResponse) => void;

export class PartnerAnswer implements Dispatcher.DispatchHandler {
  private readonly started = performance.now();
  private readonly deadline: Deadline;
  private controller: Dispatcher.DispatchController | undefined = undefined;
  /** why the call ended early (its deadline, an answer too large); the call is answered once */
  private ended: UpstreamError | undefined = undefined;
  private settled = false;
  private status = 0;
  private headers: Record<string, string | string[] | undefined> = {};
  private readonly chunks: Buffer[] = [];
  private size = 0;

  constructor(
    timeoutMs: number,
    private readonly maxBytes: number,
    private readonly done: Done,
  ) {
    // from the pool's queue to the answer's last byte; a call still queued is answered at once
    this.deadline = deadlineIn(timeoutMs, () => this.end(new UpstreamError('timeout', `no answer within ${timeoutMs} ms`)));
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.ended !== undefined) controller.abort(this.ended);
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    this.status = statusCode;
    this.headers = headers;
    if (Number(single(headers['content-length'])) > this.maxBytes) this.end(this.tooLarge());
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.size += chunk.length;
    if (this.size > this.maxBytes) this.end(this.tooLarge());
    else this.chunks.push(chunk);
  }

  onResponseEnd(): void {
    if (this.settled) return;
    this.settle(undefined, {
      status: this.status,
      contentType: single(this.headers['content-type']),
      retryAfter: saneRetryAfter(single(this.headers['retry-after'])),
      body: this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.size),
      durationMs: performance.now() - this.started,
    });
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    if (!this.settled) this.settle(this.ended ?? err);
  }

  /** the call ends here: answered with `reason`, and undici told to stop */
  private end(reason: UpstreamError): void {
    if (this.settled) return;
    this.ended = reason;
    this.controller?.abort(reason);
    this.settle(reason);
  }

  private settle(err: unknown, answer?: UpstreamResponse): void {
    this.settled = true;
    this.deadline.cancel();
    this.done(err, answer);
  }

  private tooLarge(): UpstreamError {
    return new UpstreamError('tooLarge', `the answer exceeds ${this.maxBytes} bytes`);
  }
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** RFC 9110 10.2.3: delay-seconds (here at most a day) or an IMF-fixdate; anything else is not
 * passed on, so a partner cannot put arbitrary text into the caller's headers */
const RETRY_AFTER =
  /^(?:[0-9]{1,5}|(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT)$/;
const MAX_RETRY_AFTER_SECONDS = 86400;

function saneRetryAfter(value: string | undefined): string | undefined {
  if (value === undefined || !RETRY_AFTER.test(value)) return undefined;
  return /^[0-9]+$/.test(value) && Number(value) > MAX_RETRY_AFTER_SECONDS ? String(MAX_RETRY_AFTER_SECONDS) : value;
}
