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
import type { Checked, Request, Routed } from './request';
import type { HubContext, PipelineDeps } from './types';

/** what the pair's binding becomes once the partner has answered 2xx (afterCall.ts) */
export interface TokenWrite {
  readonly write: 'bind' | 'learn' | 'invalidate';
  readonly token: string;
  readonly msp: Partner;
  readonly cmp: Partner;
}

/** Send MSP Token: a token another MSP issued is refused (23); answered 201, the pair is bound */
export function admitIssue(request: Request<'sendMspToken'>, checked: Checked): TokenWrite | undefined {
  const { msp, cmp } = pairOf(request);
  const token = request.body.msp_token;
  if (checked.binding && !issuedBy(checked.binding, msp)) throw new HubError('tokenAssigned');
  return token === null ? undefined : { write: 'bind', token, msp, cmp };
}

export interface TokenUse {
  /** Request Activation Code: an invalidated token gets no code (21) */
  readonly refuseInvalidated: boolean;
  /** Notify MSP Token Invalid, Request Invalidate MSP Token: answered 2xx, the pair's binding is invalidated */
  readonly invalidates: boolean;
}

/** every operation on `{msp_token}`: the token must be this pair's (20), per `use` */
export function admitUse(request: Request, checked: Checked, use: TokenUse, policy: TokenPolicy): TokenWrite | undefined {
  const { msp, cmp } = pairOf(request);
  const token = request.params.msp_token;
  // read (and its lifetime renewed) by the state checks, unless the policy is off
  const binding = checked.binding;
  const state = binding?.pairs[pairKey(msp.id, cmp.id)];
  const learning = state === undefined && policy === 'learn' && (!binding || onlyLearnedBy(binding, msp));
  if (binding && state === undefined && !learning) throw new HubError('tokenNotFound');
  if (state === 'invalidated' && use.refuseInvalidated) throw new HubError('tokenInvalidated');
  if (!binding && policy === 'strict') throw new HubError('tokenNotFound', { detail: 'the hub has no record of this msp_token for this pair' });
  if (use.invalidates) return { write: 'invalidate', token, msp, cmp };
  return learning ? { write: 'learn', token, msp, cmp } : undefined;
}

export type TokenPolicy = 'strict' | 'learn' | 'off';

/** the route's policy; where the hub itself issues the MSP's tokens, one it never saw issued is no token */
export function tokenPolicyOf(ctx: HubContext, routed: Routed): TokenPolicy {
  return ctx.state.runtime.dialectFor(pairOf(routed).msp).policy?.tokens ?? routed.route.tokenBinding;
}

function pairOf(routed: Routed): { msp: Partner; cmp: Partner } {
  const { caller, target } = routed;
  return caller.role === 'msp' ? { msp: caller, cmp: target } : { msp: target, cmp: caller };
}

function issuedBy(binding: TokenBinding, msp: Partner): boolean {
  return Object.keys(binding.pairs).every((pair) => pair.startsWith(`${msp.id} `));
}

/** the MSP's token, only ever learnt from use: the hub never saw to whom it was issued */
function onlyLearnedBy(binding: TokenBinding, msp: Partner): boolean {
  return issuedBy(binding, msp) && !Object.values(binding.pairs).includes('active');
}

/** the binding written; a failed write is logged, the answer stands */
export function writeToken(ctx: HubContext, deps: PipelineDeps, { write, token, msp, cmp }: TokenWrite): Promise<void> {
  const ttl = ctx.state.runtime.config.settings.tokenBindingTtlSeconds;
  if (write === 'invalidate') return bestEffort(ctx.state, 'invalidate token', deps.store.bindings.invalidate(token, msp.id, cmp.id, ttl));
  const bound = deps.store.bindings.bind(token, msp.id, cmp.id, ttl, write === 'bind' ? 'active' : 'learned').then((result) => {
    if (result === 'conflict') ctx.state.log.warn({ msp: msp.id, cmp: cmp.id }, 'token already issued by another MSP; binding not recorded');
  });
  return bestEffort(ctx.state, write === 'bind' ? 'bind token' : 'learn token', bound);
}
