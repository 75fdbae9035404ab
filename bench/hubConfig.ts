/** The config the single-route benches run the hub on: cmpA asks mspA (the bench's upstream), no
 * rate limit in the way, token binding learnt; `route` and `settings` add to the route and the settings. */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { dump as stringify } from 'js-yaml';

export function writeHubConfig(dir: string, upstreamUrl: string, extra: { readonly route?: object; readonly settings?: object } = {}): void {
  mkdirSync(path.join(dir, 'partners'), { recursive: true });
  const unlimited = { requests: 1000000000, perSeconds: 60 };
  writeFileSync(
    path.join(dir, 'partners', 'cmpA.yaml'),
    stringify({ id: 'cmpA', role: 'cmp', rateLimit: unlimited, inbound: { apiKeys: ['bench-key'] }, upstream: { url: 'http://127.0.0.1:1' } }),
  );
  writeFileSync(
    path.join(dir, 'partners', 'mspA.yaml'),
    stringify({ id: 'mspA', role: 'msp', inbound: { apiKeys: ['k'] }, upstream: { url: upstreamUrl, auth: { apiKey: 'hub-key' }, connections: 64 } }),
  );
  writeFileSync(
    path.join(dir, 'routes.yaml'),
    stringify({
      ...(extra.settings && { settings: extra.settings }),
      defaults: { tokenBinding: 'learn' },
      routes: [{ from: 'cmpA', to: 'mspA', rateLimit: unlimited, ...extra.route }],
    }),
  );
}

/** a Request Activation Code of cmpA to mspA (the config above) with a fresh request id: its
 * headers and body */
export function activationCodeRequest(): { headers: Record<string, string>; body: string } {
  const id = randomUUID();
  return {
    headers: {
      'api-key': 'bench-key',
      'client-id': 'cmpA',
      'target-id': 'mspA',
      'cmp-request-id': id,
      'correlation-id': id,
      'content-type': 'application/json',
    },
    body: JSON.stringify({
      profileType: 'personal',
      deviceType: 'tcu',
      eid: '89049032000001000000000831934057',
      activationCodeRequestID: id,
      replaceIccid: null,
    }),
  };
}
