/** Fixtures of the touchpoint tests: an account id shaped as AID.02 5.2's example, and URLs. */

/** a JWT account id (AID.02 5.2: header, payload with exp, ver, sid, iat; signature) expiring at `exp` */
export function accountId(exp: number): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ exp, ver: '6789', sid: 'a625211a-2cba-4136-aa8b-34c390b8a7d7', iat: exp - 600 })}.c2lnbmF0dXJl`;
}

export function validAccountId(): string {
  return accountId(Math.floor(Date.now() / 1000) + 3600);
}
