/** The request's checks in memory: the ports' own steps, one after the other. */
import type { Ledger } from '../ledger';
import type { RateLimits } from '../rateLimits';
import type { Checked, Checks, RequestChecks } from '../requestChecks';
import { StoreFullError } from '../../errors/storeFullError';
import type { TokenBindings } from '../tokenBindings';

export class MemoryRequestChecks implements RequestChecks {
  constructor(
    private readonly limits: RateLimits,
    private readonly bindings: TokenBindings,
    private readonly ledger: Ledger,
  ) {}

  /** the request id is a safety net: a full store skips it rather than refuse the request (a retry
   * replayed from what the store holds needs no room) */
  private async remember(key: string, fingerprint: string, ttlSeconds: number): Promise<string | undefined> {
    try {
      return await this.ledger.rememberRequest(key, fingerprint, ttlSeconds);
    } catch (err) {
      if (err instanceof StoreFullError) return undefined;
      throw err;
    }
  }

  async check(checks: Checks): Promise<Checked> {
    const limits = await this.limits.admit(checks.limits);
    if (!limits.allowed) return { limits };
    const { token, requestId, activation, delivery } = checks;
    return {
      limits,
      binding: token && (await this.bindings.get(token.token, token.renewTtlSeconds)),
      previousFingerprint: requestId && (await this.remember(requestId.key, requestId.fingerprint, requestId.ttlSeconds)),
      claim: activation && (await this.ledger.claimActivation(activation.pending, activation.fingerprint, activation.claimMs, activation.ttlSeconds)),
      delivery: delivery && { pending: await this.ledger.getPending(delivery.cmp, delivery.requestId) },
    };
  }
}
