/**
 * The `aid02` dialect: the partner speaks AID.02 itself, so the message is forwarded as received
 * (the body byte for byte: the encrypted phone number is never touched) and the answer comes back
 * as the partner gave it. It takes no settings of its own.
 */
import type { DialectModule } from '../dialect';

export const aid02: DialectModule = {
  name: 'aid02',
  upstreamIsAid02: true,
  roles: ['msp', 'cmp'],
  build: (_partner, _settings, services) => ({
    call: (call) =>
      services.upstream.request({
        operation: call.operation,
        method: call.method,
        path: call.path,
        headers: call.headers,
        body: call.body,
        timeoutMs: call.timeoutMs,
      }),
  }),
};
