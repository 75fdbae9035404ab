/**
 * The services an inbound route gets for its request (dialects/inbound.ts), made from the
 * pipeline's own steps: the same credential checks, login throttle and body limits as an AID.02
 * operation, without handing the route the pipeline's dependencies.
 */
import type { InboundServices } from '../dialects/inbound';
import { authenticatePartner, checkCredentials, refused, refuseIfThrottled } from '../pipeline/authenticate';
import { readJsonBody, readRawBody } from '../pipeline/readBody';
import type { HubContext, PipelineDeps } from '../pipeline/types';

export function inboundServices(ctx: HubContext, deps: PipelineDeps): InboundServices {
  return {
    config: ctx.state.runtime.config,
    metrics: deps.metrics,
    authenticateClient: (clientErrorStatus) => authenticatePartner(ctx, deps, clientErrorStatus),
    checkCredentials: (inbound, required) => checkCredentials(ctx, inbound, required),
    refuseIfThrottled: (clientId) => refuseIfThrottled(ctx, deps, clientId),
    refused: (refusal, clientId) => refused(ctx, deps, refusal, clientId),
    readJson: (clientErrorStatus, required) => readJsonBody(ctx, clientErrorStatus, required),
    readRaw: () => readRawBody(ctx),
  };
}
