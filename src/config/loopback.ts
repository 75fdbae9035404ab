/** Addresses that never leave the machine: where plain HTTP carries nothing AID.02 6 protects. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare) || /^::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare);
}

/** AID.02 6: two-way TLS. Plain http:// leaves the machine only where the file says so */
export function checkPlainHttp(target: { url: string; insecure?: boolean }, name: string, where: string, problems: string[]): void {
  const url = new URL(target.url);
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname) && target.insecure !== true) {
    problems.push(`${where}: ${name}.url: plain http:// to ${url.host} needs ${name}.insecure: true (AID.02 6 requires TLS)`);
  }
}
