/**
 * Everything the hub keeps once the partner has answered, in one step, in the order the state
 * needs it: Request Activation Code's outcome (the answer a retry gets again, 201 as pending, a
 * refusal forgotten: idempotency.ts), Send Activation Code's request settled, then the pair's
 * token bound, learnt or invalidated (tokenBinding.ts). Only a 2xx settles a request or moves a
 * token. A write that fails is logged and the answer stands: the partner has acted on the request.
 */
import { isSuccess } from '../dialects/dialect';
import { bestEffort } from '../errors/storeCalls';
import type { PendingActivation } from '../state/ledger';
import { keepAnswer } from './idempotency';
import type { Answered, Request } from './request';
import { writeToken, type TokenWrite } from './tokenBinding';
import type { HubContext, PipelineDeps } from './types';

export interface AfterCall {
  /** Request Activation Code: the activation request its call held */
  readonly activation?: PendingActivation;
  /** Send Activation Code: the activation request the delivery answers */
  readonly delivered?: PendingActivation;
  readonly token?: TokenWrite;
}

export async function afterCall(ctx: HubContext, deps: PipelineDeps, request: Request, after: AfterCall, answered: Answered): Promise<void> {
  if (after.activation) await keepAnswer(ctx, deps, request, after.activation, answered);
  if (!isSuccess(answered.answer.status)) return;
  if (after.delivered) await bestEffort(ctx.state, 'consume pending activation', deps.activations.delivered(after.delivered));
  if (after.token) await writeToken(ctx, deps, after.token);
}
