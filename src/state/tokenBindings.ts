/**
 * Who issued an msp_token to whom (AID.02 4.1-4.4): per token, each MSP-CMP pair's state. A token
 * belongs to the MSP that issued it; another MSP can never bind it.
 */

/** `active`: the hub saw the MSP issue the token to the CMP (Send MSP Token, or an import);
 * `learned`: a token federated before the hub, learnt from its first successful use by the pair */
export type BindingState = 'active' | 'learned' | 'invalidated';

/** `pairs` maps `${msp} ${cmp}` to the binding's state */
export interface TokenBinding {
  readonly pairs: Readonly<Record<string, BindingState>>;
}

export type BindResult = 'bound' | 'conflict';

export function pairKey(msp: string, cmp: string): string {
  return `${msp} ${cmp}`;
}

export interface TokenBindings {
  /** the binding; with `renewTtlSeconds` its lifetime starts again (AID.02 4.4.1 [5]: the token
   * is never removed while it is in use) */
  get(token: string, renewTtlSeconds?: number): Promise<TokenBinding | undefined>;
  /** records that `msp` issued `token` to `cmp` (`active`), or that the pair used it (`learned`,
   * which never replaces what the pair has); refuses a token another MSP already issued */
  bind(token: string, msp: string, cmp: string, ttlSeconds: number, state?: 'active' | 'learned'): Promise<BindResult>;
  invalidate(token: string, msp: string, cmp: string, ttlSeconds: number): Promise<void>;
}
