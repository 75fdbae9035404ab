/**
 * A dialect turns an AID.02 operation into its partner's calls and back. It sees the operation and
 * the message, never Koa's context.
 */
import type { OperationId } from '../openapi/operations';
import type { UpstreamResponse } from '../upstream/upstream';

/** an AID.02 operation, or an event the hub owes an ES2+ operator's back office (its webhook) */
export type DialectOperation = OperationId | 'operatorEvent';

export interface DialectCall {
  readonly operation: DialectOperation;
  readonly method: string;
  /** the AID.02 path and query, built from `params` */
  readonly path: string;
  /** the path and query parameters the pipeline matched, decoded and canonical: a dialect reads
   * these and never splits the path again */
  readonly params: Readonly<Record<string, string>>;
  /** the AID.02 headers to pass on (ids, content type, trace context); never the caller's credential */
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Buffer;
  readonly timeoutMs: number;
}

export type DialectAnswer = UpstreamResponse;

export interface Dialect {
  call(call: DialectCall): Promise<DialectAnswer>;
}

/** a partner's answer that means it took the message */
export function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}
