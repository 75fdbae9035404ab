/**
 * Random hex for trace and span ids. randomUUID draws from a cached entropy pool, several times
 * cheaper per call than randomBytes; its 122 random bits are plenty for W3C trace context.
 */
import { randomUUID } from 'node:crypto';

export function randomHex(length: 16 | 32): string {
  // a UUID's 32 hex digits, of which two nibbles (version, variant) are fixed; a span id takes
  // the 16 that follow the version
  const uuid = randomUUID();
  const low = uuid.slice(19, 23) + uuid.slice(24);
  return length === 32 ? uuid.slice(0, 8) + uuid.slice(9, 13) + uuid.slice(14, 18) + low : low;
}
