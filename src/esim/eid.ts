/**
 * The EID (eUICC identifier, SGP.29): 32 digits whose last two are check digits, ISO/IEC 7064
 * MOD 97-10 (as in an IBAN): the whole number is 1 modulo 97.
 */

export const EID_DIGITS = /^[0-9]{32}$/;

/** 32 digits with the right check digits */
export function isValidEid(eid: string): boolean {
  return EID_DIGITS.test(eid) && BigInt(eid) % 97n === 1n;
}

/** a valid EID from its first 30 digits */
export function eidWithCheckDigits(first30: string): string {
  const check = 98n - ((BigInt(first30) * 100n) % 97n);
  return first30 + check.toString().padStart(2, '0');
}
