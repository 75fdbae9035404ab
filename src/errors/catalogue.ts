/**
 * Every error the hub itself produces: its AID.02 code (AID.02 section 5.5, table 10; 200-300 is the
 * range the spec reserves for proprietary codes), HTTP status and message, including the answers it
 * gives as the MSP of an operator without an AID.02 backend (each such dialect's errorMapping.ts maps
 * its partner's errors onto these). Errors of partners that speak AID.02 never pass through here:
 * they are forwarded unchanged.
 */

/** `clientError` marks errors whose status is the operation's documented client error: 400 where
 * the operation documents 400 (only Notify MSP Token Invalid does), 422 otherwise. */
export type StatusRule = number | 'clientError';

export interface CatalogueEntry {
  readonly status: StatusRule;
  readonly code: string;
  readonly message: string;
}

export const catalogue = {
  invalidSyntax: { status: 'clientError', code: '91', message: 'Invalid request syntax' },
  emptyBody: { status: 'clientError', code: '60', message: 'The request body is empty or contains null values' },
  requestIdReused: { status: 'clientError', code: '39', message: 'The request ID was already used for a different request' },
  unsupportedMediaType: { status: 415, code: '91', message: 'Invalid request syntax: the content type must be application/json' },
  payloadTooLarge: { status: 413, code: '91', message: 'Invalid request syntax: the request body is too large' },
  malformedRequest: { status: 400, code: '91', message: 'Invalid request syntax: the HTTP request is malformed' },
  headersTooLarge: { status: 431, code: '91', message: 'Invalid request syntax: the request headers are too large' },
  requestTimeout: { status: 408, code: '91', message: 'Invalid request syntax: the request was not complete in time' },
  clientAborted: { status: 400, code: '91', message: 'The client closed the connection before its request was complete' },
  unauthenticated: { status: 401, code: '201', message: 'The authentication failed' },
  routeForbidden: { status: 403, code: '202', message: 'The client may not call this target' },
  wrongRole: { status: 403, code: '203', message: 'The operation is not offered to this client or target' },
  unknownPath: { status: 404, code: '204', message: 'No AID.02 operation has this path' },
  methodNotAllowed: { status: 405, code: '205', message: 'The method is not allowed on this path' },
  unknownTarget: { status: 404, code: '93', message: 'The partner identified by target-id could not be found' },
  tokenNotFound: { status: 404, code: '20', message: 'The msp_token was not found' },
  tokenInvalidated: { status: 404, code: '21', message: 'The msp_token was found but is no longer valid' },
  tokenAssigned: { status: 422, code: '23', message: 'The msp_token is already assigned to a user' },
  requestNotMatched: { status: 422, code: '30', message: 'The activationCodeRequestID could not be matched.' },
  correlationMismatch: { status: 422, code: '92', message: 'The correlation-id does not match' },
  rateLimited: { status: 429, code: '206', message: 'Too many requests' },
  redirectNotAgreed: { status: 400, code: '208', message: 'The redirect_uri is not one the partner agreed' },
  accountIdRefused: { status: 400, code: '209', message: 'The id is not an account id the hub passes on' },
  tooManyFailedLogins: { status: 429, code: '206', message: 'Too many failed authentication attempts' },
  noActivationCode: { status: 422, code: '49', message: 'No activation code can be created' },
  profileTypeUnknown: { status: 422, code: '50', message: 'Profile type unknown' },
  profileTypeUnsupported: { status: 422, code: '51', message: 'The specified profile type is unsupported for this request' },
  invalidEid: { status: 423, code: '207', message: 'Invalid eid' },
  profileNotFound: { status: 422, code: '61', message: 'The profile with this ICCID could not be found' },
  profileNotLinked: { status: 422, code: '62', message: 'The profile with this ICCID is not linked to this msp_token' },
  profileStatusNotFound: {
    status: 404,
    code: '65',
    message: 'The msp_token identified by the federated_id or the profile(s) identified by the ICCID could not be found',
  },
  smdpUnavailable: { status: 503, code: '90', message: "The MSP's SM-DP+ cannot be reached" },
  smdpFailed: { status: 500, code: '90', message: "The MSP's SM-DP+ could not carry out the request" },
  platformUnavailable: { status: 503, code: '90', message: "The MSP's eSIM platform or its SM-DP+ cannot be reached" },
  platformFailed: { status: 500, code: '90', message: "The MSP's eSIM platform could not carry out the request" },
  requestInProgress: { status: 503, code: '90', message: 'The same activation code request is still being processed' },
  subscriptionBusy: { status: 503, code: '90', message: 'Another request for the same subscription is still being processed' },
  breakerOpen: { status: 503, code: '90', message: 'The target partner is failing; the hub does not call it for now' },
  upstreamBusy: { status: 503, code: '90', message: 'The target partner has no room for this request in time' },
  upstreamUnreachable: { status: 502, code: '90', message: 'The target partner could not be reached' },
  upstreamTimeout: { status: 504, code: '90', message: 'The target partner did not answer in time' },
  upstreamInvalidResponse: { status: 502, code: '90', message: 'The target partner answered outside the AID.02 specification' },
  stateUnavailable: { status: 503, code: '90', message: 'The hub state store is unavailable' },
  stateFull: { status: 503, code: '90', message: 'The hub holds all the state it may; try again later' },
  internal: { status: 500, code: '90', message: 'Internal Server Error' },
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorKind = keyof typeof catalogue;

export interface HubErrorOptions {
  /** the status for `clientError` entries, from the operation's documented responses */
  clientErrorStatus?: number;
  /** added to the message after a colon: what exactly was wrong */
  detail?: string;
  headers?: Record<string, string>;
  cause?: unknown;
}

export class HubError extends Error {
  readonly kind: ErrorKind;
  readonly status: number;
  readonly code: string;
  readonly headers: Record<string, string>;

  constructor(kind: ErrorKind, options: HubErrorOptions = {}) {
    const entry: CatalogueEntry = catalogue[kind];
    super(options.detail ? `${entry.message}: ${options.detail}` : entry.message, { cause: options.cause });
    this.name = 'HubError';
    this.kind = kind;
    this.code = entry.code;
    this.status = entry.status === 'clientError' ? (options.clientErrorStatus ?? 422) : entry.status;
    this.headers = options.headers ?? {};
  }

  /** the AID.02 error body (section 5.5, table 9) */
  toBody(): { code: string; error: string } {
    return { code: this.code, error: this.message };
  }
}

/** Maps anything thrown to the HubError that answers it; unknown errors become code 90. */
export function toHubError(err: unknown): HubError {
  if (err instanceof HubError) return err;
  return new HubError('internal', { cause: err });
}
