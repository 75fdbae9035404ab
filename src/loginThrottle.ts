/**
 * Failed authentications, throttled per source address and per claimed client-id (a known
 * partner's id only: an unknown one names nobody to protect, and counting it would let a caller
 * fill the store). The counts are shared through the store, so every hub instance counts every
 * failure. Each instance keeps the blocks it has learnt from those counts: a blocked caller is
 * refused before its credential is checked, and a good request pays no store round trip. A
 * success resets nothing: one address's login never clears another's failures.
 */
import type { HubSettings } from './config/types';
import type { Store } from './state/store';

/** blocks remembered at once; the oldest is forgotten first (its count stays in the store) */
const MAX_BLOCKS = 10000;

export class LoginThrottle {
  private readonly blocks = new Map<string, number>();

  constructor(private readonly store: Store) {}

  /** ms until the caller may try again; 0 when neither its address nor its client-id is blocked */
  blockedFor(address: string, clientId: string | undefined): number {
    const now = Date.now();
    let longest = 0;
    for (const { key } of countsOf(address, clientId)) {
      const until = this.blocks.get(key);
      if (until === undefined) continue;
      if (until <= now) this.blocks.delete(key);
      else longest = Math.max(longest, until - now);
    }
    return longest;
  }

  /** counts a failure; ms until the caller may try again when it went over a limit, else 0 */
  async failed(address: string, clientId: string | undefined, settings: HubSettings): Promise<number> {
    const counted = countsOf(address, clientId);
    const counts = await this.store.limits.countFailures(counted.map((c) => c.key), settings.authFailureWindowSeconds);
    const now = Date.now();
    let longest = 0;
    counts.forEach(({ count, resetAt }, i) => {
      if (count <= counted[i].limitOf(settings) || resetAt <= now) return;
      this.block(counted[i].key, resetAt);
      longest = Math.max(longest, resetAt - now);
    });
    return longest;
  }

  private block(key: string, until: number): void {
    this.blocks.delete(key);
    if (this.blocks.size >= MAX_BLOCKS) this.blocks.delete(this.blocks.keys().next().value as string);
    this.blocks.set(key, until);
  }
}

interface Counted {
  readonly key: string;
  limitOf(settings: HubSettings): number;
}

/** what a failure is counted under, each count with its own limit */
function countsOf(address: string, clientId: string | undefined): Counted[] {
  const byAddress: Counted = { key: `addr ${address}`, limitOf: (s) => s.authFailuresPerAddress };
  return clientId === undefined ? [byAddress] : [byAddress, { key: `client ${clientId}`, limitOf: (s) => s.authFailuresPerClient }];
}
