/**
 * What a TelcoAPI platform's error code (the seed's "Error Codes" table) means for the CMP that
 * asked: one table, also printed in docs/dialects/telcoapi.md (a test keeps the two in step). A code no row names
 * is the MSP's internal error (500, code 90); the platform's own words always go to the log.
 */
import { HubError, type ErrorKind } from '../../errors/catalogue';

export interface PlatformMapping {
  readonly code: string;
  /** what the platform says, in the seed's words */
  readonly meaning: string;
  readonly answer: ErrorKind;
}

export const PLATFORM_ERROR_TABLE: readonly PlatformMapping[] = [
  { code: 'INVALID_EID', meaning: 'The provided eUICC identifier is invalid', answer: 'invalidEid' },
  { code: 'DEVICE_NOT_COMPATIBLE', meaning: 'Device is not compatible with the profile', answer: 'noActivationCode' },
  { code: 'PROFILE_LIMIT_REACHED', meaning: 'Device has reached maximum number of profiles', answer: 'noActivationCode' },
  { code: 'OPERATION_NOT_PERMITTED', meaning: 'The requested operation is not allowed', answer: 'noActivationCode' },
  { code: 'PROFILE_NOT_FOUND', meaning: 'The requested profile does not exist', answer: 'noActivationCode' },
  { code: 'INVALID_ACTIVATION_CODE', meaning: 'The provided activation code is invalid or expired', answer: 'platformFailed' },
  { code: 'PROFILE_DOWNLOAD_FAILED', meaning: 'Failed to download profile to device', answer: 'platformFailed' },
  { code: 'NETWORK_ERROR', meaning: 'Network communication error with SM-DP+', answer: 'platformUnavailable' },
  // the platform's SM-DP+ (or the platform itself) refusing: the MSP's service is unavailable, not broken for this request
  { code: 'AUTHENTICATION_FAILED', meaning: 'Failed to authenticate with SM-DP+', answer: 'platformUnavailable' },
  { code: 'RATE_LIMIT_EXCEEDED', meaning: 'API rate limit has been exceeded', answer: 'upstreamBusy' },
];

/** an answer of the platform that is not a success: its HTTP status and error code */
export class PlatformError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly code: string,
    message: string,
    readonly retryAfterSeconds?: number,
    /** the seed's `details.field`: the member of the request the platform refused */
    readonly field?: string,
  ) {
    super(message);
    this.name = 'PlatformError';
  }
}

export function mapPlatformError(code: string): PlatformMapping | undefined {
  return PLATFORM_ERROR_TABLE.find((row) => row.code === code);
}

/** the hub's answer to the CMP for a platform error; a rate limit or an unavailable platform (503)
 * says when to come back: the platform's Retry-After, else in a second */
export function answerFor(err: PlatformError): HubError {
  const kind = mapPlatformError(err.code)?.answer ?? 'platformFailed';
  const headers = kind === 'upstreamBusy' || kind === 'platformUnavailable' ? { 'retry-after': String(err.retryAfterSeconds ?? 1) } : undefined;
  return new HubError(kind, { clientErrorStatus: 422, headers });
}
