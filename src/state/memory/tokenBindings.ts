/** Token bindings in memory. */
import type { Budget, ExpiringMap } from './expiringMap';
import { pairKey, type BindResult, type BindingState, type TokenBinding, type TokenBindings } from '../tokenBindings';

export class MemoryTokenBindings implements TokenBindings {
  private readonly tokens: ExpiringMap<Record<string, BindingState>>;

  constructor(budget: Budget) {
    this.tokens = budget.map();
  }

  async get(token: string, renewTtlSeconds?: number): Promise<TokenBinding | undefined> {
    const pairs = this.tokens.get(token);
    if (pairs && renewTtlSeconds !== undefined) this.tokens.set(token, pairs, renewTtlSeconds);
    return pairs ? { pairs: { ...pairs } } : undefined;
  }

  async bind(token: string, msp: string, cmp: string, ttlSeconds: number, state: 'active' | 'learned' = 'active'): Promise<BindResult> {
    const pairs = this.tokens.get(token) ?? {};
    if (Object.keys(pairs).some((pair) => !pair.startsWith(`${msp} `))) return 'conflict';
    const pair = pairKey(msp, cmp);
    this.tokens.set(token, { ...pairs, [pair]: state === 'learned' ? (pairs[pair] ?? 'learned') : state }, ttlSeconds);
    return 'bound';
  }

  async invalidate(token: string, msp: string, cmp: string, ttlSeconds: number): Promise<void> {
    const pairs = this.tokens.get(token) ?? {};
    this.tokens.set(token, { ...pairs, [pairKey(msp, cmp)]: 'invalidated' }, ttlSeconds);
  }
}
