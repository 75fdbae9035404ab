/**
 * What each step of an AID.02 operation hands the next (operations.ts runs them in order): the
 * route yields a `Routed`, the body's reading, validation and one spelling of ids a `Request`
 * whose body has its operation's type, the state checks a `Checked`. A step takes what the one
 * before it produced, so a step put too early does not compile.
 */
import type { Partner, RouteSettings } from '../config/types';
import type { DialectAnswer } from '../dialects/dialect';
import type { ApiOperation } from '../openapi/apis';
import type { OperationId } from '../openapi/operations';
import type { PendingActivation, ReplayClaim } from '../state/ledger';
import type { Checked as StateRead } from '../state/requestChecks';
import type { RequestIds } from './types';

/** who calls whom for what, and the policies routes.yaml sets for it */
export interface Routed {
  readonly operation: ApiOperation;
  readonly caller: Partner;
  readonly target: Partner;
  readonly route: RouteSettings;
}

/** the members the hub itself reads of a body, as its schema (Annex B) holds them once validated */
interface BodiesRead {
  readonly sendMspToken: { readonly msp_token: string | null };
  readonly requestActivationCode: { readonly activationCodeRequestID: string };
  readonly submitActivationCode: { readonly activationCodeRequestID: string | null };
}

/** an operation's body as the hub reads it: what it reads typed, the rest the partner's */
export type BodyOf<Id extends OperationId> = Id extends keyof BodiesRead ? BodiesRead[Id] : unknown;

/** the request validated, with its ids in one spelling: what the partner will receive */
export interface Request<Id extends OperationId = OperationId> extends Routed {
  /** the ids of AID.02 5.1 as canonicalIds spelt them, each one present (5.1: all mandatory) */
  readonly ids: RequestIds & { readonly requestId: string; readonly correlationId: string };
  /** the path parameters, canonical, with the operation's documented query parameters */
  readonly params: Readonly<Record<string, string>>;
  /** the path and query the partner receives */
  readonly forwardPath: string;
  /** the bytes forwarded: as they came, or re-serialised where an id in them was respelt */
  readonly rawBody?: Buffer;
  readonly body: BodyOf<Id>;
}

/** what the state said before the partner is called (rateLimitsAndChecks.ts) */
export interface Checked extends StateRead {
  /** what makes two requests the same request (target, method, path, body) */
  readonly fingerprint: string;
}

/** Request Activation Code: what the state said of the activation request it claims */
export interface Claimed extends Checked {
  readonly activation: PendingActivation;
  readonly claim: ReplayClaim;
}

/** the partner's answer as the caller gets it (dispatch.ts), checked against the operation's
 * document where the hub forwards it (validateResponse.ts) */
export interface Answered {
  readonly answer: DialectAnswer;
  /** the answer's JSON as the check read it (where its status documents a body) */
  readonly json: unknown;
  /** false where the status documents no body: the caller gets none, whatever the partner sent */
  readonly content: boolean;
  /** the hub answered 201 itself: the MSP slower than the budget, or the delivery stored */
  readonly by?: 'bridged' | 'stored';
}
