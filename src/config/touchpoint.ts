/**
 * A partner file's `touchpoint:` block: the partner's portal login URL per environment, the name and
 * logo a CMP app shows when the user picks an MSP (AID.02 4.1 [2]), and the redirects agreed with
 * the partner (7.1), each read by touchpoints/redirectPolicy.ts.
 */
import { agreedRedirect } from './redirectPolicy';
import type { Environment, Touchpoint } from './types';

export interface RawTouchpoint {
  displayName: string;
  logoUrl?: string;
  portal: Partial<Record<Environment, string>>;
  redirects: string[];
}

export function touchpointOf(raw: RawTouchpoint | undefined, where: string, problems: string[]): Touchpoint | undefined {
  if (!raw) return undefined;
  const before = problems.length;
  const redirects = raw.redirects.flatMap((entry, i) => {
    const agreed = agreedRedirect(entry);
    if (!agreed)
      problems.push(
        `${where}: touchpoint.redirects[${i}]: not a domain (*.example.com, www.example.com), an origin (https://host[:port]) or an app's URL scheme (app:)`,
      );
    return agreed ? [agreed] : [];
  });
  const portal = new Map<Environment, URL>();
  for (const [environment, url] of Object.entries(raw.portal) as [Environment, string][]) {
    try {
      portal.set(environment, new URL(url));
    } catch {
      problems.push(`${where}: touchpoint.portal.${environment}: not a URL`);
    }
  }
  if (problems.length > before) return undefined;
  return Object.freeze({ displayName: raw.displayName, logoUrl: raw.logoUrl, portal, redirects: Object.freeze(redirects) });
}
