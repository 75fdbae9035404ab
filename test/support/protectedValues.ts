/**
 * The values no log line may carry, gathered from what a test world's partners exchanged:
 * DESIGN.md "Data that must not leak" (phoneNumber, iv, activationCode, api-key, authorization,
 * account ids, EIDs) and the ids the hub keeps out of its logs (ICCIDs, msp_tokens, MatchingIDs),
 * whatever a dialect calls them, and each in every spelling a partner or the hub writes it.
 */

/** member and header names whose string values are protected, as AID.02 and the dialects' partners spell them */
const PROTECTED = new Set([
  'iccid',
  'swappediccid',
  'replaceiccid',
  'eid',
  'msp_token',
  'msptoken',
  'activationcode',
  'activation_code',
  'matchingid',
  'matching_id',
  'qrcode',
  'phonenumber',
  'iv',
  'account_id',
  'accountid',
  'api-key',
  'authorization',
  'password',
]);

export class ProtectedValues {
  readonly values = new Set<string>();

  /** a value, with the spellings it also travels in */
  add(value: string): this {
    this.values.add(value);
    // an ICCID of 19 digits is F-padded on the eSIM side (SGP.22 5.2.1), the hub's own spelling is without
    if (/^\d{19}$/.test(value)) this.values.add(`${value}F`);
    if (/^\d{19}[Ff]$/.test(value)) this.values.add(value.slice(0, 19));
    // an activation code (SGP.22 4.1: 1$SM-DP+ address$MatchingID) and the QR payload carry the MatchingID
    const code = /^(?:LPA:)?1\$[^$]+\$([^$]+)/.exec(value);
    if (code) {
      this.values.add(code[1]);
      this.values.add(value.replace(/^LPA:/, ''));
    }
    return this;
  }

  /** every protected member of a JSON value (at any depth), or protected header of a header map */
  addFrom(found: unknown): this {
    if (Array.isArray(found)) {
      for (const item of found) this.addFrom(item);
    } else if (found !== null && typeof found === 'object') {
      for (const [name, value] of Object.entries(found)) {
        if (typeof value === 'string' && PROTECTED.has(name.toLowerCase()) && value.length >= 8) this.add(value);
        else this.addFrom(value);
      }
    }
    return this;
  }

  /** how many gathered values match `pattern`: a scan of nothing proves nothing */
  count(pattern: RegExp): number {
    return [...this.values].filter((v) => pattern.test(v)).length;
  }

  /** the gathered values some log line carries (none, when the hub keeps them out) */
  loggedIn(logs: readonly string[]): string[] {
    const text = logs.join('\n');
    return [...this.values].filter((v) => text.includes(v));
  }
}
