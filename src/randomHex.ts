/**
 * Random hex for trace and span ids. randomUUID draws from a cached entropy pool, several times
 * cheaper per call than randomBytes; its 122 random bits are plenty for W3C trace context.
 */
import { randomUUID } from 'node:crypto';

export function randomHex(length: 16 | 32): string {
  // a UUID's 32 hex digits, of which two nibbles (version, variant) are fixed; a span id takes
  // the 16 that follow the version
  const hex = randomUUID().replace(/-/g, '');
  return length === 32 ? hex : hex.slice(16);
}
