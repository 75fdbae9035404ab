/**
 * The activation code of SGP.22 section 4.1, as the ES2+ seed's "Activation Code Structure" table
 * defines it: `1$<SM-DP+ address>$<MatchingID>[$<SM-DP+ OID>][$1]`, at most 255 characters; the
 * same string prefixed `LPA:` when it goes into a QR code.
 */

export interface ActivationCodeParts {
  /** the SM-DP+ FQDN */
  readonly smdpAddress: string;
  /** AC_Token */
  readonly matchingId: string;
  /** the SM-DP+ OID in CERT.DPauth.ECDSA */
  readonly smdpOid?: string;
  /** the end user must enter a confirmation code */
  readonly confirmationCodeRequired?: boolean;
}

export const MAX_ACTIVATION_CODE_LENGTH = 255;
const AC_FORMAT = '1';
const DELIMITER = '$';
export const QR_PREFIX = 'LPA:';

// ISO/IEC 18004 table 5 (alphanumeric mode) without '$'; DNS names are case-insensitive, so a
// lower-case address is checked in its upper-case form
const ALPHANUMERIC = /^[0-9A-Z %*+\-./:]+$/;
const FQDN = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const OID = /^[0-2](?:\.(?:0|[1-9][0-9]*))+$/;

export class ActivationCodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ActivationCodeError';
  }
}

export function buildActivationCode(parts: ActivationCodeParts): string {
  const { smdpAddress, matchingId, smdpOid, confirmationCodeRequired } = parts;
  if (!FQDN.test(smdpAddress) || !ALPHANUMERIC.test(smdpAddress.toUpperCase())) {
    throw new ActivationCodeError(`the SM-DP+ address must be an FQDN in the QR alphanumeric set without '$' (got ${JSON.stringify(smdpAddress)})`);
  }
  if (matchingId.length === 0 || !ALPHANUMERIC.test(matchingId.toUpperCase())) {
    throw new ActivationCodeError(`the MatchingID must be non-empty and in the QR alphanumeric set without '$' (got ${JSON.stringify(matchingId)})`);
  }
  if (smdpOid !== undefined && !OID.test(smdpOid)) {
    throw new ActivationCodeError(`the SM-DP+ OID must be a dotted object identifier (got ${JSON.stringify(smdpOid)})`);
  }
  const fields = [AC_FORMAT, smdpAddress, matchingId];
  // the OID field is kept, empty, when only the confirmation code flag follows it
  if (smdpOid !== undefined || confirmationCodeRequired) fields.push(smdpOid ?? '');
  if (confirmationCodeRequired) fields.push('1');
  const code = fields.join(DELIMITER);
  if (code.length > MAX_ACTIVATION_CODE_LENGTH) {
    throw new ActivationCodeError(`the activation code would be ${code.length} characters; at most ${MAX_ACTIVATION_CODE_LENGTH} are allowed`);
  }
  return code;
}

/** the text a QR code carries */
export function qrCodePayload(activationCode: string): string {
  return QR_PREFIX + activationCode;
}

/** reads an activation code (with or without `LPA:`); fields past the defined ones are ignored, as
 * SGP.22 tells a device to do */
export function parseActivationCode(text: string): ActivationCodeParts {
  const code = text.startsWith(QR_PREFIX) ? text.slice(QR_PREFIX.length) : text;
  if (code.length > MAX_ACTIVATION_CODE_LENGTH) throw new ActivationCodeError('the activation code is longer than 255 characters');
  const [format, smdpAddress, matchingId, smdpOid, flag] = code.split(DELIMITER);
  if (format !== AC_FORMAT) throw new ActivationCodeError(`AC_Format must be "1" (got ${JSON.stringify(format)})`);
  if (!smdpAddress || matchingId === undefined) throw new ActivationCodeError('the SM-DP+ address and the MatchingID are required');
  return {
    smdpAddress,
    matchingId,
    smdpOid: smdpOid ? smdpOid : undefined,
    confirmationCodeRequired: flag === '1',
  };
}
