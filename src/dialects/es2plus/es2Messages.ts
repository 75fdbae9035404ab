/**
 * ES2+ messages (SGP.22 section 5.3 and 6.5): every request carries a header with the caller's
 * `functionRequesterIdentifier` and a `functionCallIdentifier` unique per call; every answer
 * carries `header.functionExecutionStatus`. A function that fails still answers HTTP 200: the
 * outcome is in the status, never in the HTTP code.
 */

export const ES2PLUS_PATH = '/gsma/rsp2/es2plus';

export type Es2Function = 'downloadOrder' | 'confirmOrder' | 'cancelOrder' | 'releaseProfile';

export type ExecutionStatus = 'Executed-Success' | 'Executed-WithWarning' | 'Failed' | 'Expired';
const STATUSES: readonly string[] = ['Executed-Success', 'Executed-WithWarning', 'Failed', 'Expired'];

export interface StatusCodeData {
  readonly subjectCode: string;
  readonly reasonCode: string;
  readonly subjectIdentifier?: string;
  readonly message?: string;
}

export interface FunctionExecutionStatus {
  readonly status: ExecutionStatus;
  readonly statusCodeData?: StatusCodeData;
}

export interface Es2Answer {
  readonly execution: FunctionExecutionStatus;
  /** the function's output data (iccid, matchingId, smdpAddress, ...) */
  readonly data: Readonly<Record<string, unknown>>;
}

export class Es2ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Es2ProtocolError';
  }
}

export function requestBody(requester: string, callId: string, input: Readonly<Record<string, unknown>>): string {
  return JSON.stringify({ header: { functionRequesterIdentifier: requester, functionCallIdentifier: callId }, ...input });
}

/** true for the two statuses that mean the function was carried out */
export function executed(status: FunctionExecutionStatus): boolean {
  return status.status === 'Executed-Success' || status.status === 'Executed-WithWarning';
}

/** reads an ES2+ answer body; anything that is not one is a protocol error */
export function parseAnswer(body: string): Es2Answer {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new Es2ProtocolError('the answer is not JSON');
  }
  if (!isObject(json)) throw new Es2ProtocolError('the answer is not a JSON object');
  const { header, ...data } = json;
  if (!isObject(header)) throw new Es2ProtocolError('the answer has no header');
  return { execution: parseExecutionStatus(header.functionExecutionStatus), data };
}

export function parseExecutionStatus(value: unknown): FunctionExecutionStatus {
  if (!isObject(value)) throw new Es2ProtocolError('header.functionExecutionStatus is missing');
  const { status, statusCodeData } = value;
  if (typeof status !== 'string' || !STATUSES.includes(status)) {
    throw new Es2ProtocolError(`functionExecutionStatus.status ${JSON.stringify(status)} is not one of ${STATUSES.join(', ')}`);
  }
  if (statusCodeData === undefined) return { status: status as ExecutionStatus };
  if (!isObject(statusCodeData) || typeof statusCodeData.subjectCode !== 'string' || typeof statusCodeData.reasonCode !== 'string') {
    throw new Es2ProtocolError('statusCodeData needs subjectCode and reasonCode');
  }
  return {
    status: status as ExecutionStatus,
    statusCodeData: {
      subjectCode: statusCodeData.subjectCode,
      reasonCode: statusCodeData.reasonCode,
      subjectIdentifier: typeof statusCodeData.subjectIdentifier === 'string' ? statusCodeData.subjectIdentifier : undefined,
      message: typeof statusCodeData.message === 'string' ? statusCodeData.message : undefined,
    },
  };
}

/** the statuses SGP.22 defines for a notification point (seed 1.5: "Executed-Success,
 * Executed-WithWarning, Failed"); `Expired` is a function's status, never a notification's */
export const NOTIFICATION_STATUSES: readonly ExecutionStatus[] = ['Executed-Success', 'Executed-WithWarning', 'Failed'];
/** SGP.22 section 4.3.1 (seed: "^[0-9]{32}$") */
export const EID_PATTERN = /^[0-9]{32}$/;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
