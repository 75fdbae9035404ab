/**
 * The `aid02` dialect: the partner speaks AID.02 itself, so the message is forwarded as received
 * (the body byte for byte: the encrypted phone number is never touched) and the answer comes back
 * as the partner gave it.
 */
import type { Upstream } from '../../upstream/upstream';
import type { Dialect, DialectAnswer, DialectCall } from '../dialect';

export function createAid02Dialect(upstream: Upstream): Dialect {
  return {
    call(call: DialectCall): Promise<DialectAnswer> {
      return upstream.request({
        operation: call.operation,
        method: call.method,
        path: call.path,
        headers: call.headers,
        body: call.body,
        timeoutMs: call.timeoutMs,
      });
    },
  };
}
