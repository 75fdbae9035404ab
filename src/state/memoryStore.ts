/**
 * The in-memory Store for a single hub node and the quick start. Entries expire like Redis keys:
 * lazily on read, and by a sweep so that an idle hub does not keep dead entries.
 */
import {
  pairKey,
  type BindResult,
  type PendingActivation,
  type ReplayClaim,
  type Store,
  type StoredAnswer,
  type TokenBinding,
  type BindingState,
  type EsimProfile,
} from './store';
import { randomUUID } from 'node:crypto';
import type { RateLimit } from '../config/types';
import { LocalGcra, type AdmitResult, type GcraResult, type LimitCheck } from './gcra';
import { MemoryOutbox } from './memoryOutbox';

interface Entry<T> {
  value: T;
  expiresAt: number;
}

type Replay = { fingerprint: string; answer?: StoredAnswer };

class ExpiringMap<T> {
  private readonly entries = new Map<string, Entry<T>>();

  get(key: string): T | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: T, ttlSeconds: number): void {
    this.entries.set(key, { value, expiresAt: Date.now() + ttlSeconds * 1000 });
  }

  /** a new value, the same expiry */
  replace(key: string, value: T): void {
    const entry = this.entries.get(key);
    if (entry) entry.value = value;
  }

  delete(key: string): boolean {
    return this.entries.delete(key);
  }

  *values(): Iterable<T> {
    const now = Date.now();
    for (const entry of this.entries.values()) if (entry.expiresAt > now) yield entry.value;
  }

  sweep(now: number): void {
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
  }
}

export class MemoryStore implements Store {
  readonly kind = 'memory';
  readonly outbox = new MemoryOutbox();
  private readonly bindings = new ExpiringMap<Record<string, BindingState>>();
  private readonly pending = new ExpiringMap<PendingActivation>();
  private readonly requests = new ExpiringMap<string>();
  private readonly replays = new ExpiringMap<Replay>();
  private readonly locks = new Map<string, { owner: string; expiresAt: number }>();
  private readonly profiles = new ExpiringMap<EsimProfile>();
  private readonly subscriptions = new ExpiringMap<Set<string>>();
  private readonly profileRequests = new ExpiringMap<string>();
  private readonly limits = new LocalGcra();
  private readonly sweeper: NodeJS.Timeout;

  constructor(sweepIntervalMs = 60000) {
    this.sweeper = setInterval(() => {
      const now = Date.now();
      for (const map of [this.bindings, this.pending, this.requests, this.replays, this.profiles, this.subscriptions, this.profileRequests]) map.sweep(now);
    }, sweepIntervalMs);
    this.sweeper.unref();
  }

  async getTokenBinding(token: string): Promise<TokenBinding | undefined> {
    const pairs = this.bindings.get(token);
    return pairs ? { pairs: { ...pairs } } : undefined;
  }

  async bindToken(token: string, msp: string, cmp: string, ttlSeconds: number): Promise<BindResult> {
    const pairs = this.bindings.get(token) ?? {};
    if (Object.keys(pairs).some((pair) => !pair.startsWith(`${msp} `))) return 'conflict';
    this.bindings.set(token, { ...pairs, [pairKey(msp, cmp)]: 'active' }, ttlSeconds);
    return 'bound';
  }

  async invalidateToken(token: string, msp: string, cmp: string, ttlSeconds: number): Promise<void> {
    const pairs = this.bindings.get(token) ?? {};
    this.bindings.set(token, { ...pairs, [pairKey(msp, cmp)]: 'invalidated' }, ttlSeconds);
  }

  async addPendingActivation(pending: PendingActivation, ttlSeconds: number): Promise<void> {
    this.pending.set(pending.requestId, pending, ttlSeconds);
  }

  async getPendingActivation(requestId: string): Promise<PendingActivation | undefined> {
    return this.pending.get(requestId);
  }

  async listPendingActivations(msp: string, cmp: string, token: string): Promise<PendingActivation[]> {
    return [...this.pending.values()].filter((p) => p.msp === msp && p.cmp === cmp && p.mspToken === token);
  }

  async countPendingActivations(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const p of this.pending.values()) counts[p.msp] = (counts[p.msp] ?? 0) + 1;
    return counts;
  }

  async replacePendingActivation(pending: PendingActivation): Promise<boolean> {
    if (this.pending.get(pending.requestId) === undefined) return false;
    this.pending.replace(pending.requestId, pending);
    return true;
  }

  async consumePendingActivation(pending: PendingActivation): Promise<boolean> {
    return this.pending.get(pending.requestId) !== undefined && this.pending.delete(pending.requestId);
  }

  async rememberRequest(key: string, fingerprint: string, ttlSeconds: number): Promise<string | undefined> {
    const before = this.requests.get(key);
    if (before === undefined) this.requests.set(key, fingerprint, ttlSeconds);
    return before;
  }

  async rateLimit(key: string, limit: RateLimit, maxWaitMs: number): Promise<GcraResult> {
    return this.limits.take(key, limit, maxWaitMs);
  }

  async admit(checks: readonly LimitCheck[]): Promise<AdmitResult> {
    return this.limits.admit(checks);
  }

  async claimReplay(key: string, fingerprint: string, ttlSeconds: number): Promise<ReplayClaim> {
    const existing = this.replays.get(key);
    if (!existing) {
      this.replays.set(key, { fingerprint }, ttlSeconds);
      return { state: 'claimed' };
    }
    return existing.answer
      ? { state: 'done', fingerprint: existing.fingerprint, answer: existing.answer }
      : { state: 'inflight', fingerprint: existing.fingerprint };
  }

  async completeReplay(key: string, fingerprint: string, answer: StoredAnswer, ttlSeconds: number): Promise<void> {
    this.replays.set(key, { fingerprint, answer }, ttlSeconds);
  }

  async releaseReplay(key: string): Promise<void> {
    this.replays.delete(key);
  }

  async acquireLock(key: string, ttlMs: number): Promise<string | undefined> {
    const held = this.locks.get(key);
    if (held && held.expiresAt > Date.now()) return undefined;
    const owner = randomUUID();
    this.locks.set(key, { owner, expiresAt: Date.now() + ttlMs });
    return owner;
  }

  async releaseLock(key: string, owner: string): Promise<void> {
    if (this.locks.get(key)?.owner === owner) this.locks.delete(key);
  }

  async saveProfile(profile: EsimProfile, ttlSeconds: number): Promise<void> {
    const subscription = `${profile.msp} ${profile.mspToken}`;
    this.profiles.set(`${profile.msp} ${profile.iccid}`, profile, ttlSeconds);
    this.subscriptions.set(subscription, new Set(this.subscriptions.get(subscription)).add(profile.iccid), ttlSeconds);
    this.profileRequests.set(`${profile.msp} ${profile.activationCodeRequestId}`, profile.iccid, ttlSeconds);
  }

  async getProfile(msp: string, iccid: string): Promise<EsimProfile | undefined> {
    return this.profiles.get(`${msp} ${iccid}`);
  }

  async listProfiles(msp: string, mspToken: string): Promise<EsimProfile[]> {
    const iccids = this.subscriptions.get(`${msp} ${mspToken}`) ?? [];
    return [...iccids].flatMap((iccid) => this.profiles.get(`${msp} ${iccid}`) ?? []);
  }

  async findProfileByRequest(msp: string, activationCodeRequestId: string): Promise<EsimProfile | undefined> {
    const iccid = this.profileRequests.get(`${msp} ${activationCodeRequestId}`);
    return iccid === undefined ? undefined : this.profiles.get(`${msp} ${iccid}`);
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }
}
