/**
 * Builds the Koa app: the request pipeline, in order, top to bottom. Each stage is one file in
 * pipeline/; see DESIGN.md "A request's way through the hub".
 */
import Koa from 'koa';
import { authenticate } from './pipeline/authenticate';
import { canonicalIds } from './pipeline/canonicalIds';
import { context } from './pipeline/context';
import { dispatch } from './pipeline/dispatch';
import { idempotency } from './pipeline/idempotency';
import { inboundRoutes } from './pipeline/inboundRoutes';
import { matchOperation } from './pipeline/matchOperation';
import { pendingActivation } from './pipeline/pendingActivation';
import { rateLimit } from './pipeline/rateLimit';
import { readBody } from './pipeline/readBody';
import { respond } from './pipeline/respond';
import { route } from './pipeline/route';
import { tokenBinding } from './pipeline/tokenBinding';
import type { HubState, PipelineDeps } from './pipeline/types';
import type { Switchable } from './measurementSwitches';
import { validateRequest } from './pipeline/validateRequest';
import { validateResponse } from './pipeline/validateResponse';

export function buildApp(deps: PipelineDeps, switchedOff: ReadonlySet<Switchable> = new Set()): Koa<HubState> {
  const app = new Koa<HubState>();
  app.proxy = false;
  // errors are answered and logged by `respond`; Koa's own printing would duplicate them
  app.silent = true;
  const stages = [
    context(deps), //           ids, logger, timer, the runtime in service
    respond(deps), //           error -> AID.02 body; access log; metrics
    inboundRoutes(deps), //     the dialects' own paths (partner systems' callbacks)
    matchOperation(deps), //    method + path -> operation (404, 405)
    authenticate(deps), //      credential must belong to client-id (401)
    route(), //                 role, target (93), routes.yaml (403)
    rateLimit(deps), //         the caller's and the route's limits (429)
    readBody(), //              application/json, size limit, parse (60, 91)
    ...(switchedOff.has('requestValidation') ? [] : [validateRequest(deps)]), // OpenAPI: headers, path, query, body (60, 91)
    canonicalIds(), //          one spelling of every UUID; the path forwarded built from the params
    tokenBinding(deps), //      msp_token issued to this pair? (20, 21, 23)
    idempotency(deps), //       request id reuse (39); activation code replay
    pendingActivation(deps), // async activation codes: record 201s, match deliveries (30)
    validateResponse(deps), //  the partner's answer against the spec
    dispatch(deps), //          the target's dialect does the work
  ];
  for (const stage of stages) app.use(stage);
  return app;
}
