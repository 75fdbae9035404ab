/**
 * What an ES2+ status code (SGP.22 section 5.3, the seed's "Specific status codes" tables) means
 * for the CMP that asked: one table, also printed in docs/dialects/es2plus.md (a test keeps the two in step). A
 * status no row names is the MSP's internal error
 * (500, code 90); the SM-DP+'s own words always go to the log.
 */
import type { ErrorKind } from '../../errors/catalogue';
import type { FunctionExecutionStatus } from './es2Messages';

export interface Es2Mapping {
  readonly subjectCode: string;
  readonly reasonCode: string;
  /** what the SM-DP+ says, in the seed's words */
  readonly meaning: string;
  readonly answer: ErrorKind;
}

export const ES2_ERROR_TABLE: readonly Es2Mapping[] = [
  { subjectCode: '8.2.5', reasonCode: '3.7', meaning: 'Profile Type: Unavailable (no more profiles of the type)', answer: 'noActivationCode' },
  { subjectCode: '8.2.5', reasonCode: '3.9', meaning: 'Profile Type: Unknown', answer: 'profileTypeUnknown' },
  { subjectCode: '8.2.5', reasonCode: '3.8', meaning: 'Profile Type: Refused (not the type of the ICCID)', answer: 'profileTypeUnsupported' },
  { subjectCode: '8.1.1', reasonCode: '2.1', meaning: 'EID: Invalid', answer: 'invalidEid' },
  { subjectCode: '8.1.1', reasonCode: '3.8', meaning: 'EID: Refused', answer: 'invalidEid' },
  { subjectCode: '8.1.1', reasonCode: '3.10', meaning: 'EID: Invalid Association (another EID is bound to the ICCID)', answer: 'noActivationCode' },
  { subjectCode: '8.2.1', reasonCode: '3.3', meaning: 'Profile ICCID: Already in Use', answer: 'noActivationCode' },
  { subjectCode: '8.2.1', reasonCode: '3.9', meaning: 'Profile ICCID: Unknown', answer: 'noActivationCode' },
  { subjectCode: '8.2.1', reasonCode: '3.5', meaning: 'Profile ICCID: Invalid Transition', answer: 'noActivationCode' },
  { subjectCode: '8.2.6', reasonCode: '3.3', meaning: 'Matching ID: Already in Use', answer: 'noActivationCode' },
  { subjectCode: '8.2.1', reasonCode: '1.2', meaning: 'Profile ICCID: Not Allowed (the hub may not act on it)', answer: 'smdpFailed' },
  { subjectCode: '1.6', reasonCode: '2.2', meaning: 'Function: Mandatory Element Missing', answer: 'smdpFailed' },
];

export function mapEs2Failure(execution: FunctionExecutionStatus): Es2Mapping | undefined {
  const data = execution.statusCodeData;
  if (!data) return undefined;
  return ES2_ERROR_TABLE.find((row) => row.subjectCode === data.subjectCode && row.reasonCode === data.reasonCode);
}

/** the kind of answer a failed (or expired) ES2+ function gives the CMP */
export function answerKindOf(execution: FunctionExecutionStatus): ErrorKind {
  return mapEs2Failure(execution)?.answer ?? 'smdpFailed';
}
