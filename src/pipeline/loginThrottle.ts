/**
 * Failed authentications, counted so that guessing stays expensive without handing anyone a
 * lockout of someone else (OWASP Authentication Cheat Sheet, "Account Lockout": a lockout any
 * caller can trigger is a denial of service). Client-ids are no secret: they travel in headers.
 *   - per (address, client-id): past `authFailuresPerAddressAndClient`, that address's requests
 *     for that client-id are 429 until the window ends (the brute force itself);
 *   - per address: past `authFailuresPerAddress`, a higher limit, that address's requests are 429,
 *     but for a client-id the address has proven (a guesser that rotates client-ids);
 *   - per client-id (a known partner's only: an unknown one names nobody, and counting it would
 *     let a caller fill the store): past `authFailuresPerClient`, a metric and a log line, and every
 *     request for it from an address that has not proven it waits SLOW_MS before its credential is
 *     checked. Nothing is refused: guesses from many addresses become slow, the partner keeps working.
 * An address proves a client-id by presenting its right credential; proven, it is not held back by
 * the failures of other addresses, nor of other client-ids at its own address, for a window.
 * The counts are shared through the store, so every hub instance counts every failure. Each
 * instance keeps what it has learnt from those counts and its own proofs: a good request pays no
 * store round trip. A success resets no count.
 */
import type { HubSettings } from '../config/types';
import type { Store } from '../state/store';

/** entries remembered at once per kind; the oldest is forgotten first (a count stays in the store) */
const MAX_REMEMBERED = 10000;
/** the wait of a request for a client-id under guessing, from an address that has not proven it */
export const SLOW_MS = 1000;
/** a proof's window is renewed by a good request at most this often */
const PROOF_RENEWAL_MS = 1000;

/** a client-id whose failures went past its limit, reported once per window per instance */
export type OnGuessed = (clientId: string) => void;

export class LoginThrottle {
  /** 'addr …' and 'pair …' keys: ms time until which they are refused */
  private readonly blocks = new Map<string, number>();
  /** client-ids under guessing: until when their requests are slowed */
  private readonly slowed = new Map<string, number>();
  /** 'pair …' keys that presented the right credential: until when */
  private readonly proven = new Map<string, number>();

  constructor(
    private readonly store: Store,
    private readonly onGuessed: OnGuessed = () => undefined,
  ) {}

  /** ms until the caller may try again; 0 when it is not held back */
  blockedFor(address: string, clientId: string | undefined): number {
    const now = Date.now();
    const pair = clientId === undefined ? undefined : pairKey(address, clientId);
    let longest = pair === undefined ? 0 : this.remaining(this.blocks, pair, now);
    if (pair === undefined || this.remaining(this.proven, pair, now) === 0) longest = Math.max(longest, this.remaining(this.blocks, addressKey(address), now));
    return longest;
  }

  /** ms to wait before the credential is checked: the client-id is under guessing and this
   * address has not proven it */
  slowFor(address: string, clientId: string | undefined): number {
    if (clientId === undefined) return 0;
    const now = Date.now();
    if (this.remaining(this.slowed, clientId, now) === 0) return 0;
    return this.remaining(this.proven, pairKey(address, clientId), now) > 0 ? 0 : SLOW_MS;
  }

  /** the address presented the client-id's right credential. A proof is renewed at most once per
   * PROOF_RENEWAL_MS: every good request would otherwise write the map twice (its entry taken out
   * and put back last, for the order in which the oldest is forgotten) */
  succeeded(address: string, clientId: string, settings: HubSettings): void {
    const key = pairKey(address, clientId);
    const until = Date.now() + settings.authFailureWindowSeconds * 1000;
    const known = this.proven.get(key);
    if (known !== undefined && until - known < PROOF_RENEWAL_MS) return;
    remember(this.proven, key, until);
  }

  /** counts a failure; ms until the caller may try again when it went over a limit, else 0 */
  async failed(address: string, clientId: string | undefined, settings: HubSettings): Promise<number> {
    const counted = countsOf(address, clientId, settings);
    const counts = await this.store.limits.countFailures(
      counted.map((c) => c.key),
      settings.authFailureWindowSeconds,
    );
    const now = Date.now();
    counts.forEach(({ count, resetAt }, i) => {
      const { key, limit } = counted[i];
      if (count <= limit || resetAt <= now) return;
      if (key.startsWith(CLIENT)) this.guessed(key.slice(CLIENT.length), resetAt, now);
      else remember(this.blocks, key, resetAt);
    });
    return this.blockedFor(address, clientId);
  }

  private guessed(clientId: string, until: number, now: number): void {
    if (this.remaining(this.slowed, clientId, now) === 0) this.onGuessed(clientId);
    remember(this.slowed, clientId, until);
  }

  /** ms left of an entry, 0 (and forgotten) when there is none or it has passed */
  private remaining(entries: Map<string, number>, key: string, now: number): number {
    const until = entries.get(key);
    if (until === undefined) return 0;
    if (until > now) return until - now;
    entries.delete(key);
    return 0;
  }
}

const CLIENT = 'client ';

function addressKey(address: string): string {
  return `addr ${address}`;
}

function pairKey(address: string, clientId: string): string {
  return `pair ${address} ${clientId}`;
}

function remember(entries: Map<string, number>, key: string, until: number): void {
  entries.delete(key);
  if (entries.size >= MAX_REMEMBERED) entries.delete(entries.keys().next().value as string);
  entries.set(key, until);
}

/** what a failure is counted under, each count with its own limit */
function countsOf(address: string, clientId: string | undefined, settings: HubSettings): { key: string; limit: number }[] {
  const byAddress = { key: addressKey(address), limit: settings.authFailuresPerAddress };
  if (clientId === undefined) return [byAddress];
  return [
    byAddress,
    { key: pairKey(address, clientId), limit: settings.authFailuresPerAddressAndClient },
    { key: `${CLIENT}${clientId}`, limit: settings.authFailuresPerClient },
  ];
}
