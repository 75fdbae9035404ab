/** The ICCID as AID.02 (5.4) and SGP.22 (5.2.1) write it. */

/** 19 to 22 digits (AID.02 5.4; SGP.22 5.2.1 pads a 19-digit one to 20 with `F`) */
export const ICCID_PATTERN = /^[0-9]{19,22}[fF]?$/;

/** the ICCID without SGP.22's filler F (5.2.1): the form the hub keys, compares and tells the CMP,
 * whichever way a partner system writes it */
export function normalizeIccid(iccid: string): string {
  return iccid.replace(/[fF]$/, '');
}
