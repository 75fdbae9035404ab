/**
 * The steps of an AID.02 operation hand each other typed values (src/pipeline/request.ts), so that
 * a step put before the one whose value it needs does not compile. The `@ts-expect-error` lines
 * below are that claim: `npm test` type-checks the tests first, and fails where one of them
 * compiles after all. At run time: every operation of both Annex B documents has its handler.
 */
import path from 'node:path';
import { Apis } from '../../src/openapi/apis';
import { OPERATION_IDS } from '../../src/openapi/operations';
import { afterCall } from '../../src/pipeline/afterCall';
import { claimOrReplay, refuseReusedId } from '../../src/pipeline/idempotency';
import { operationHandlers } from '../../src/pipeline/operations';
import { checkState } from '../../src/pipeline/rateLimitsAndChecks';
import type { Answered, Checked, Request, Routed } from '../../src/pipeline/request';
import { admitIssue } from '../../src/pipeline/tokenBinding';
import type { HubContext, PipelineDeps } from '../../src/pipeline/types';

/** type-checked, never run: each call hands a step the value of a step before the one it needs */
export function tooEarly(ctx: HubContext, deps: PipelineDeps, routed: Routed, request: Request, checked: Checked, answered: Answered): void {
  // @ts-expect-error the state checks need the validated request, not only its route
  void checkState(ctx, deps, routed, { token: null, renew: false });
  // @ts-expect-error the request id is decided on what the state checks read
  refuseReusedId(request, request);
  // @ts-expect-error the claim is what Request Activation Code's own checks took
  void claimOrReplay(deps, request, checked);
  // @ts-expect-error Send MSP Token's check reads its typed body: another operation's request is refused
  admitIssue(request as Request<'requestActivationCode'>, checked);
  // @ts-expect-error what is kept after the call needs the call's answer
  void afterCall(ctx, deps, request, {}, checked);
  void answered;
}

test('every AID.02 operation of both Annex B documents has its handler', async () => {
  const apis = await Apis.load(path.join(__dirname, '..', '..', 'spec'));
  const handlers = operationHandlers({ apis } as PipelineDeps, new Set());
  expect([...handlers.keys()].sort()).toEqual([...OPERATION_IDS].sort());
  for (const handle of handlers.values()) expect(typeof handle).toBe('function');
});
