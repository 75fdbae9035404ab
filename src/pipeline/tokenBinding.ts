/**
 * msp_token semantics (AID.02 4.1-4.4, 7.3, 7.4, 7.9). The hub learns from every Send MSP Token
 * answered 201 which MSP issued which token to which CMP; a token used between any other pair is
 * "not found" (code 20), so a CMP can never probe another CMP's users. After Notify MSP Token
 * Invalid or Request Invalidate MSP Token, Request Activation Code is refused (code 21) while every
 * other operation still passes: the token stays for the deletions that follow, and is never
 * removed while it lives (4.4.1 [5]): every use starts its lifetime again.
 * Tokens the hub has never seen pass or are refused per route (`tokenBinding: strict | learn | off`);
 * always refused where the MSP's dialect says the hub issues its tokens itself (policy `tokens:
 * strict`: the hub knows every one). `learn` learns per pair:
 * a token federated before the hub, with several CMPs of the MSP that issued it, is learnt for
 * each pair that uses it, as long as the hub never saw the MSP issue it (then it knows the pairs).
 */
import type { Partner } from '../config/types';
import { HubError } from '../errors/catalogue';
import { pairKey, type TokenBinding } from '../state/tokenBindings';
import { bestEffort } from '../errors/storeCalls';
import { need, succeeded, type HubContext, type PipelineDeps, type Stage } from './types';

/** Send MSP Token: a token another MSP issued is refused (23); answered 201, the pair is bound */
export function issueToken(deps: PipelineDeps): Stage {
  return async (ctx, next) => {
    const { msp, cmp } = pairOf(ctx);
    const token = (ctx.state.body as { msp_token: string | null }).msp_token;
    const binding = need(ctx.state.checked, 'checked').binding;
    if (binding && !issuedBy(binding, msp)) throw new HubError('tokenAssigned');
    await next();
    if (token !== null && succeeded(ctx)) await bestEffort(ctx.state, 'bind token', bind(ctx, deps, token, msp, cmp));
  };
}

export interface TokenUse {
  /** Request Activation Code: an invalidated token gets no code (21) */
  readonly refuseInvalidated: boolean;
  /** Notify MSP Token Invalid, Request Invalidate MSP Token: answered 2xx, the pair's binding is invalidated */
  readonly invalidates: boolean;
}

/** every operation on `{msp_token}`: the token must be this pair's (20), per `use` */
export function useToken(deps: PipelineDeps, use: TokenUse): Stage {
  return async (ctx, next) => {
    const { msp, cmp } = pairOf(ctx);
    const policy = tokenPolicyOf(ctx, msp);
    const ttl = ctx.state.runtime.config.settings.tokenBindingTtlSeconds;
    const token = need(ctx.state.params.msp_token, 'msp_token');
    // read (and its lifetime renewed) by stateChecks, unless the policy is off
    const binding = need(ctx.state.checked, 'checked').binding;
    const state = binding?.pairs[pairKey(msp.id, cmp.id)];
    const learning = state === undefined && policy === 'learn' && (!binding || onlyLearnedBy(binding, msp));
    if (binding && state === undefined && !learning) throw new HubError('tokenNotFound');
    if (state === 'invalidated' && use.refuseInvalidated) throw new HubError('tokenInvalidated');
    if (!binding && policy === 'strict') throw new HubError('tokenNotFound', { detail: 'the hub has no record of this msp_token for this pair' });
    await next();
    if (!succeeded(ctx)) return;
    if (use.invalidates) await bestEffort(ctx.state, 'invalidate token', deps.store.bindings.invalidate(token, msp.id, cmp.id, ttl));
    else if (learning) await bestEffort(ctx.state, 'learn token', bind(ctx, deps, token, msp, cmp, 'learned'));
  };
}

/** where the hub itself issues the MSP's tokens, one it never saw issued is no token */
export function tokenPolicyOf(ctx: HubContext, msp: Partner): 'strict' | 'learn' | 'off' {
  return ctx.state.runtime.dialectFor(msp).policy?.tokens ?? need(ctx.state.route, 'route').tokenBinding;
}

export function pairOf(ctx: HubContext): { msp: Partner; cmp: Partner } {
  const caller = need(ctx.state.caller, 'caller');
  const target = need(ctx.state.target, 'target');
  return caller.role === 'msp' ? { msp: caller, cmp: target } : { msp: target, cmp: caller };
}

function issuedBy(binding: TokenBinding, msp: Partner): boolean {
  return Object.keys(binding.pairs).every((pair) => pair.startsWith(`${msp.id} `));
}

/** the MSP's token, only ever learnt from use: the hub never saw to whom it was issued */
function onlyLearnedBy(binding: TokenBinding, msp: Partner): boolean {
  return issuedBy(binding, msp) && !Object.values(binding.pairs).includes('active');
}

async function bind(ctx: HubContext, deps: PipelineDeps, token: string, msp: Partner, cmp: Partner, state: 'active' | 'learned' = 'active'): Promise<void> {
  const ttl = ctx.state.runtime.config.settings.tokenBindingTtlSeconds;
  const result = await deps.store.bindings.bind(token, msp.id, cmp.id, ttl, state);
  if (result === 'conflict') ctx.state.log.warn({ msp: msp.id, cmp: cmp.id }, 'token already issued by another MSP; binding not recorded');
}
