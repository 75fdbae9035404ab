/**
 * Each AID.02 operation's chain of steps, built once when the hub starts, in the spirit of
 * KrakenD's per-endpoint stacks: what an operation does is decided here, never by a step branching
 * on the operation at request time. Every chain starts with the same front (authentication, the
 * route, the body and its validation, one spelling of ids, the state checks); the route then picks the
 * rest among variants built here too (the bridge only where the route bridges, store and forward
 * only where it is set).
 */
import compose from 'koa-compose';
import type { RouteSettings } from '../config/types';
import type { Switchable } from '../measurementSwitches';
import { recordJourney } from './journey';
import type { ApiOperation } from '../openapi/apis';
import type { OperationId } from '../openapi/operations';
import { authenticate } from './authenticate';
import { callerWork } from './callerWork';
import { canonicalIds } from './canonicalIds';
import { callBridged, callOnce, callWithRetries, storeAndForward } from './dispatch';
import { replayActivation, uniqueRequestId } from './idempotency';
import { settlePending } from './settlePending';
import { readBody } from './readBody';
import { route } from './route';
import { stateChecks } from './rateLimitsAndChecks';
import { issueToken, useToken } from './tokenBinding';
import type { HubContext, PipelineDeps, Stage } from './types';
import { validateRequest } from './validateRequest';
import { validateResponse } from './validateResponse';

/** operations whose repetition cannot duplicate an effect (AID.02 7.9, 7.10): retried */
const IDEMPOTENT: ReadonlySet<OperationId> = new Set(['requestProfileStatus', 'requestInvalidateFederatedID']);

/** the operations after which the pair's token is invalidated (AID.02 7.4, 7.9) */
const INVALIDATING: ReadonlySet<OperationId> = new Set(['notifyMspTokenInvalid', 'requestInvalidateFederatedID']);

/** the chain per operation */
export function operationChains(deps: PipelineDeps, switchedOff: ReadonlySet<Switchable>): ReadonlyMap<OperationId, Stage> {
  return new Map(deps.apis.all.map((op) => [op.id, chainOf(op, deps, switchedOff)]));
}

function chainOf(op: ApiOperation, deps: PipelineDeps, switchedOff: ReadonlySet<Switchable>): Stage {
  const rest = restOf(op.id, deps);
  // the router has set the operation and its decoded path parameters
  return compose<HubContext>([
    authenticate(deps), //                        credential must belong to client-id (401)
    route(), //                                   role, target (93), routes.yaml (403)
    readBody(), //                                application/json, size limit, parse (60, 91)
    ...(switchedOff.has('requestValidation') ? [] : [validateRequest(deps)]), // OpenAPI (60, 91)
    canonicalIds(), //                            one spelling of every UUID; the path forwarded
    recordJourney(deps), //                       the user's journey hears how the request ended
    // rate limits (429), the token's binding, the request id, the activation claim: one round trip
    stateChecks(deps, { tokenInBody: op.id === 'sendMspToken', activation: op.id === 'requestActivationCode', delivery: op.id === 'submitActivationCode' }),
    (ctx, next) => rest(ctx.state.route as RouteSettings)(ctx, next),
  ]);
}

/** after the front: the operation's own steps, in the variant the route asks for */
function restOf(id: OperationId, deps: PipelineDeps): (route: RouteSettings) => Stage {
  const own: Stage[] = [
    // msp_token issued to this pair? (20, 21, 23)
    id === 'sendMspToken' ? issueToken(deps) : useToken(deps, { refuseInvalidated: id === 'requestActivationCode', invalidates: INVALIDATING.has(id) }),
    // request id reuse (39); Request Activation Code: claimed, its first answer replayed
    id === 'requestActivationCode' ? replayActivation(deps) : uniqueRequestId(),
    // asynchronous activation codes: the delivery matched to its request (30)
    ...(id === 'submitActivationCode' ? [settlePending(deps)] : []),
  ];
  const chain = (...last: Stage[]) => compose<HubContext>([...own, ...last]);
  if (id === 'requestActivationCode') {
    // the caller's own dialect hears the request and its answer (callerWork.ts)
    const bridged = chain(callerWork(), validateResponse(deps), callBridged(deps));
    const direct = chain(callerWork(), validateResponse(deps), callOnce(deps));
    return (route) => (route.bridge ? bridged : direct);
  }
  if (id === 'sendCsimStatus') {
    const stored = chain(storeAndForward(deps));
    const direct = chain(validateResponse(deps), callOnce(deps));
    return (route) => (route.storeAndForward ? stored : direct);
  }
  const only = chain(validateResponse(deps), IDEMPOTENT.has(id) ? callWithRetries(deps) : callOnce(deps));
  return () => only;
}
