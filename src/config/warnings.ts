/**
 * What a valid configuration does that AID.02 section 6 advises against: check-config prints it,
 * the hub logs it when it starts. Section 6: "two-way TLS" between the parties, and "An API key
 * SHALL be used for each request to CMP CESIM MSP API".
 */
import { dialectNamed, type DialectConfigs } from './dialects';
import { isLoopbackHost } from './loopback';
import type { Config } from './types';

export function configWarnings(config: Config, dialects: DialectConfigs): string[] {
  const warnings: string[] = [];
  for (const partner of config.partners.values()) {
    const dialect = dialectNamed(dialects, partner.dialect);
    const targets = [{ name: 'upstream', url: partner.upstream.url }, ...(dialect.endpoints?.(partner.settings) ?? [])];
    for (const { name, url } of targets) {
      if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
        warnings.push(`${partner.file}: ${name}: plain HTTP to ${url.host} (insecure: true); AID.02 6 requires TLS`);
      }
    }
    // a CMP whose upstream is a dialect's platform is not reached at an AID.02 API
    if (partner.role === 'cmp' && dialect.upstreamIsAid02 && partner.upstream.auth.kind !== 'apiKey') {
      warnings.push(`${partner.file}: upstream.auth: no API key toward this CMP; AID.02 6: "An API key SHALL be used for each request to CMP CESIM MSP API"`);
    }
  }
  return warnings;
}
