/**
 * Config loading: schema, defaults, environment variables, cross-checks between routes and partners.
 * Every problem names the file, the partner or route, and the field.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../../src/config/load';
import { DIALECTS } from '../../../src/dialects';
import { digest } from '../../../src/config/credentials';
import { configWarnings } from '../../../src/config/warnings';
import type { Es2plusSettings } from '../../../src/dialects/es2plus/settings';
import type { TelcoapiSettings } from '../../../src/dialects/telcoapi/settings';
import type { DevicemgmtSettings } from '../../../src/dialects/devicemgmt/settings';
import { createPki } from '../../support/certs';
import { writeConfig, type PartnerSpec } from '../../support/testHub';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'aidgw-config-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const DEFAULT_POLICY = {
  timeoutMs: 10000,
  tokenBinding: 'learn',
  responseValidation: 'warn',
  rateLimit: undefined,
  retries: { attempts: 2, baseDelayMs: 100, maxDelayMs: 2000 },
  bridge: true,
  bridgeTimeoutMs: 60000,
  storeAndForward: false,
  correlation: 'off',
};

const msp: PartnerSpec = { id: 'mspA', role: 'msp', apiKey: 'k1', upstreamUrl: 'http://127.0.0.1:9001' };
const cmp: PartnerSpec = { id: 'cmpA', role: 'cmp', apiKey: 'k2', upstreamUrl: 'https://cmp.example/base/' };

function problemsOf(load: () => unknown): readonly string[] {
  try {
    load();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

function writePartner(name: string, yaml: string): void {
  writeFileSync(path.join(dir, 'partners', name), yaml);
}

describe('a valid config', () => {
  test('is loaded, frozen, with defaults applied', () => {
    writeConfig(dir, [msp, cmp], { routes: [{ from: '*', to: '*' }] });
    const config = loadConfig(dir, DIALECTS, {});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.partners.get('mspA'))).toBe(true);
    expect(config.settings).toEqual({
      bodyLimitBytes: 65536,
      requestIdTtlSeconds: 86400,
      tokenBindingTtlSeconds: 34560000,
      pendingActivationTtlSeconds: 259200,
      replayTtlSeconds: 604800,
      outboxHorizonSeconds: 86400,
      outboxRetryBaseMs: 1000,
      outboxRetryMaxMs: 300000,
      outboxClaimIdleMs: 30000,
      outboxPollMs: 250,
      memoryStoreMaxEntries: 100000,
      authFailuresPerAddressAndClient: 20,
      authFailuresPerAddress: 100,
      authFailuresPerClient: 100,
      authFailureWindowSeconds: 300,
      environment: 'production',
      journeys: true,
      journeyMaxEvents: 100,
      journeyFullIdentifiers: false,
      journeyStuckAwaitingCodeSeconds: 900,
      journeyStuckAwaitingCsimStatusSeconds: 21600,
    });
    expect(config.routes.find('cmpA', 'mspA', 'requestActivationCode')).toEqual({ ...DEFAULT_POLICY, timeoutMs: 3000 });
    expect(config.partners.get('mspA')?.upstream.breaker).toEqual({
      scope: 'partner',
      errorThresholdPercentage: 50,
      volumeThreshold: 5,
      windowMs: 10000,
      resetTimeoutMs: 10000,
    });
    expect(config.partners.get('mspA')?.rateLimit).toBeUndefined();
    expect(config.routes.find('cmpA', 'mspA', 'sendCsimStatus')?.timeoutMs).toBe(10000);
  });

  test('keeps secrets as digests only, and the outbound credential for use', () => {
    writeConfig(dir, [msp, cmp], { routes: [] });
    const partner = loadConfig(dir, DIALECTS, {}).partners.get('mspA');
    expect(partner?.inbound.apiKeyDigests).toEqual([digest('k1')]);
    expect(JSON.stringify(partner?.inbound)).not.toContain('k1');
    expect(partner?.upstream.auth).toEqual({ kind: 'apiKey', apiKey: 'hub-key-at-mspA' });
  });

  test('a hashed key (sha256:<hex>) is taken as the digest', () => {
    writeConfig(dir, [{ ...msp, apiKey: `sha256:${digest('clear').toString('hex')}` }], { routes: [] });
    expect(loadConfig(dir, DIALECTS, {}).partners.get('mspA')?.inbound.apiKeyDigests).toEqual([digest('clear')]);
  });

  test('${NAME} and ${NAME:-default} are taken from the environment', () => {
    writeConfig(
      dir,
      [
        { ...msp, apiKey: '${KEY_A}' },
        { ...cmp, apiKey: 'pre-${KEY_B:-fallback}' },
      ],
      { routes: [] },
    );
    const config = loadConfig(dir, DIALECTS, { KEY_A: 'from-env' });
    expect(config.partners.get('mspA')?.inbound.apiKeyDigests).toEqual([digest('from-env')]);
    expect(config.partners.get('cmpA')?.inbound.apiKeyDigests).toEqual([digest('pre-fallback')]);
  });

  test('route policies: route over defaults over the built-in ones', () => {
    writeConfig(dir, [msp, cmp], {
      defaults: { timeoutMs: 5000, tokenBinding: 'strict' },
      routes: [
        { from: 'cmpA', to: 'mspA', responseValidation: 'refuse' },
        { from: 'mspA', to: 'cmpA', timeoutMs: 700, tokenBinding: 'off' },
      ],
    });
    const config = loadConfig(dir, DIALECTS, {});
    expect(config.routes.find('cmpA', 'mspA', 'requestActivationCode')).toEqual({
      ...DEFAULT_POLICY,
      timeoutMs: 5000,
      tokenBinding: 'strict',
      responseValidation: 'refuse',
    });
    expect(config.routes.find('mspA', 'cmpA', 'sendMspToken')).toEqual({ ...DEFAULT_POLICY, timeoutMs: 700, tokenBinding: 'off' });
  });

  test('rate limits: the burst defaults to the whole budget of one period', () => {
    writeConfig(dir, [{ ...msp, extra: { rateLimit: { requests: 10, perSeconds: 1 } } }, cmp], {
      defaults: { retries: { attempts: 4 } },
      routes: [{ from: 'mspA', to: 'cmpA', rateLimit: { requests: 5, perSeconds: 60, burst: 2 }, retries: { baseDelayMs: 50 }, storeAndForward: true }],
    });
    const config = loadConfig(dir, DIALECTS, {});
    expect(config.partners.get('mspA')?.rateLimit).toEqual({ requests: 10, perSeconds: 1, burst: 10 });
    const route = config.routes.find('mspA', 'cmpA', 'sendMspToken');
    expect(route?.rateLimit).toEqual({ requests: 5, perSeconds: 60, burst: 2 });
    expect(route?.retries).toEqual({ attempts: 4, baseDelayMs: 50, maxDelayMs: 2000 });
    expect(route?.storeAndForward).toBe(true);
  });

  test('an upstream with a base path, TLS files and basic credentials', () => {
    const issued = createPki().client('hub at cmpA');
    writeFileSync(path.join(dir, 'c.pem'), issued.cert);
    writeFileSync(path.join(dir, 'k.pem'), issued.key);
    writeConfig(
      dir,
      [
        {
          ...cmp,
          extra: {
            upstream: {
              url: 'https://cmp.example/aid/',
              auth: { basic: { username: 'u', password: 'p' } },
              tls: { cert: 'c.pem', key: 'k.pem' },
              connections: 4,
            },
          },
        },
      ],
      { routes: [] },
    );
    const upstream = loadConfig(dir, DIALECTS, {}).partners.get('cmpA')?.upstream;
    expect(upstream?.url.pathname).toBe('/aid/');
    expect(upstream?.auth).toEqual({ kind: 'basic', username: 'u', password: 'p' });
    expect(upstream?.tls?.cert?.toString()).toBe(issued.cert);
    expect(upstream?.tls?.rejectUnauthorized).toBe(true);
    expect(upstream?.connections).toBe(4);
  });
});

const ES2 = 'es2plus: { functionRequesterIdentifier: hub, smdpAddress: smdp.example.com, profileTypes: { personal: PT1 }, callback: { apiKeys: [cb] } }';

describe('an ES2+ operator', () => {
  test('is loaded with its es2plus settings and their defaults', () => {
    writeConfig(dir, [], { routes: [] });
    writePartner('g.yaml', `id: mspG\nrole: msp\ndialect: es2plus\ninbound: { apiKeys: [k] }\nupstream: { url: "https://smdp.example:6443" }\n${ES2}\n`);
    const partner = loadConfig(dir, DIALECTS, {}).partners.get('mspG');
    expect(partner?.dialect).toBe('es2plus');
    // the dialect's typed settings, built by its module (dialects/es2plus/settings.ts)
    const settings = partner?.settings as Es2plusSettings;
    expect(settings).toMatchObject({
      functionRequesterIdentifier: 'hub',
      adminProtocol: 'gsma/rsp/v2.5.0',
      smdpAddress: 'smdp.example.com',
      profilesPerSubscription: 1,
      webhook: undefined,
    });
    expect([...settings.profileTypes]).toEqual([['personal', 'PT1']]);
    expect(settings.callback.apiKeyDigests).toEqual([digest('cb')]);
  });

  test.each([
    ['es2plus on a CMP', 'role: cmp\ndialect: es2plus', ES2, 'dialect es2plus is for MSPs'],
    ['dialect es2plus without its block', 'role: msp\ndialect: es2plus', '', 'es2plus: required with dialect es2plus'],
    ['an es2plus block on an aid02 MSP', 'role: msp', ES2, 'es2plus: only allowed with dialect es2plus'],
    [
      'a $ in the SM-DP+ address',
      'role: msp\ndialect: es2plus',
      ES2.replace('smdp.example.com', '"smdp$x.com"'),
      'es2plus.smdpAddress: the SM-DP+ address must be an FQDN',
    ],
    ['no profile type', 'role: msp\ndialect: es2plus', ES2.replace('{ personal: PT1 }', '{}'), 'es2plus.profileTypes: must NOT have fewer than 1 properties'],
    [
      'n below 1',
      'role: msp\ndialect: es2plus',
      ES2.replace('callback:', 'profilesPerSubscription: 0, callback:'),
      'es2plus.profilesPerSubscription: must be >= 1',
    ],
    [
      'no callback credential',
      'role: msp\ndialect: es2plus',
      ES2.replace('{ apiKeys: [cb] }', '{}'),
      'es2plus.callback: must NOT have fewer than 1 properties',
    ],
    [
      'a malformed X-Admin-Protocol',
      'role: msp\ndialect: es2plus',
      ES2.replace('callback:', 'adminProtocol: v2, callback:'),
      'es2plus.adminProtocol: must match pattern',
    ],
  ])('%s is refused', (_what, head, block, expected) => {
    writeConfig(dir, [], { routes: [] });
    writePartner('g.yaml', `id: mspG\n${head}\ninbound: { apiKeys: [k] }\nupstream: { url: "https://smdp.example" }\n${block}\n`);
    expect(problemsOf(() => loadConfig(dir, DIALECTS, {}))).toEqual([expect.stringContaining(expected)]);
  });
});

const TELCO =
  'telcoapi: { mno: M1, profileTypes: { personal: { platformType: OPERATIONAL, iccids: { from: "894901000000000000", to: "894901000000000999" } } }, webhookSecrets: [s-0123456789abcdef] }';

describe('a TelcoAPI operator', () => {
  test("is loaded with its telcoapi settings, the seed's rate limits and a bearer credential", () => {
    writeConfig(dir, [], { routes: [] });
    writePartner(
      't.yaml',
      `id: mspT\nrole: msp\ndialect: telcoapi\ninbound: { apiKeys: [k] }\nupstream: { url: "https://api.telco.example", auth: { bearer: tok.en-1 } }\n${TELCO}\n`,
    );
    const partner = loadConfig(dir, DIALECTS, {}).partners.get('mspT');
    expect(partner?.upstream.auth).toEqual({ kind: 'bearer', token: 'tok.en-1' });
    const settings = partner?.settings as TelcoapiSettings;
    expect(settings).toMatchObject({ mno: 'M1', profilesPerSubscription: 1, webhookToleranceSeconds: 300, webhook: undefined });
    expect(settings.profileTypes.get('personal')).toEqual({
      platformType: 'OPERATIONAL',
      name: 'personal',
      iccids: { from: 894901000000000000n, to: 894901000000000999n, digits: 18 },
    });
    // the seed's table: per minute, spaced evenly
    expect(settings.rateLimits).toEqual({
      profileCreation: { requests: 100, perSeconds: 60, burst: 1 },
      deviceRegistration: { requests: 30, perSeconds: 60, burst: 1 },
      activationCodeGeneration: { requests: 100, perSeconds: 60, burst: 1 },
    });
  });

  test.each([
    [
      'an ICCID block running backwards',
      TELCO.replace('to: "894901000000000999"', 'to: "894900000000000999"'),
      'telcoapi.profileTypes.personal.iccids: from and to must have the same number of digits, from <= to',
    ],
    [
      'an ICCID block of two lengths',
      TELCO.replace('to: "894901000000000999"', 'to: "8949010000000009999"'),
      'telcoapi.profileTypes.personal.iccids: from and to must have the same number of digits',
    ],
    [
      'a platform profile type the seed does not name',
      TELCO.replace('OPERATIONAL', 'PREMIUM'),
      'telcoapi.profileTypes.personal.platformType: must be one of OPERATIONAL, PROVISIONING, TESTING',
    ],
    ['a short webhook secret', TELCO.replace('s-0123456789abcdef', 'short'), 'telcoapi.webhookSecrets[0]: must NOT have fewer than 16 characters'],
    [
      'three webhook secrets',
      TELCO.replace('[s-0123456789abcdef]', '[s-0123456789abcdef, t-0123456789abcdef, u-0123456789abcdef]'),
      'telcoapi.webhookSecrets: must NOT have more than 2 items',
    ],
  ])('%s is refused', (_what, block, expected) => {
    writeConfig(dir, [], { routes: [] });
    writePartner('t.yaml', `id: mspT\nrole: msp\ndialect: telcoapi\ninbound: { apiKeys: [k] }\nupstream: { url: "https://api.telco.example" }\n${block}\n`);
    expect(problemsOf(() => loadConfig(dir, DIALECTS, {}))).toEqual([expect.stringContaining(expected)]);
  });
});

describe('a device-management CMP', () => {
  const DM = 'devicemgmt: { webhook: { url: "https://backoffice.fleet.example/events" } }';

  test('is loaded with its devicemgmt settings and their defaults', () => {
    writeConfig(dir, [], { routes: [] });
    writePartner('f.yaml', `id: cmpF\nrole: cmp\ndialect: devicemgmt\ninbound: { apiKeys: [k] }\nupstream: { url: "https://remotemanager.example" }\n${DM}\n`);
    const settings = loadConfig(dir, DIALECTS, {}).partners.get('cmpF')?.settings as DevicemgmtSettings;
    expect(settings).toMatchObject({
      enable: 'separate',
      onTokenInvalid: 'delete',
      pollIntervalSeconds: 30,
      giveUpSeconds: 3600,
      deviceCacheSeconds: 3600,
      reconcileIntervalSeconds: 900,
      inventoryQuery: undefined,
    });
    expect(settings.webhook.url.href).toBe('https://backoffice.fleet.example/events');
  });

  test.each([
    ['devicemgmt on an MSP', 'role: msp\ndialect: devicemgmt', DM, 'dialect devicemgmt is for CMPs'],
    ['no back-office webhook', 'role: cmp\ndialect: devicemgmt', 'devicemgmt: { enable: never }', "devicemgmt: must have required property 'webhook'"],
    [
      'an enable mode the platform does not have',
      'role: cmp\ndialect: devicemgmt',
      DM.replace('webhook:', 'enable: sometimes, webhook:'),
      'devicemgmt.enable: must be one of multistep, separate, never',
    ],
    [
      'a give-up shorter than 5 seconds',
      'role: cmp\ndialect: devicemgmt',
      DM.replace('webhook:', 'giveUpSeconds: 1, webhook:'),
      'devicemgmt.giveUpSeconds: must be >= 5',
    ],
  ])('%s is refused', (_what, head, block, expected) => {
    writeConfig(dir, [], { routes: [] });
    writePartner('f.yaml', `id: cmpF\n${head}\ninbound: { apiKeys: [k] }\nupstream: { url: "https://remotemanager.example" }\n${block}\n`);
    expect(problemsOf(() => loadConfig(dir, DIALECTS, {}))).toEqual([expect.stringContaining(expected)]);
  });
});

describe("a partner's touchpoint", () => {
  const TP = (redirects: string) => `touchpoint: { displayName: X, portal: { production: "https://portal.example/login" }, redirects: [${redirects}] }`;

  test('is loaded with its agreed redirects read', () => {
    writeConfig(dir, [], { routes: [] });
    writePartner(
      't.yaml',
      `id: cmpT\nrole: cmp\ninbound: { apiKeys: [k] }\nupstream: { url: "https://cmp.example" }\n${TP('"*.cmp.de", www.cmp.de, "https://app.cmp.de:8443", "cmpapp:"')}\n`,
    );
    const touchpoint = loadConfig(dir, DIALECTS, {}).partners.get('cmpT')?.touchpoint;
    expect(touchpoint?.redirects).toEqual([
      { kind: 'wildcard', suffix: '.cmp.de' },
      { kind: 'host', host: 'www.cmp.de' },
      { kind: 'origin', origin: 'https://app.cmp.de:8443' },
      { kind: 'scheme', scheme: 'cmpapp:' },
    ]);
    expect(touchpoint?.portal.get('production')?.href).toBe('https://portal.example/login');
  });

  test.each([
    ['javascript:', '"javascript:"'],
    ['a wildcard in the middle', '"www.*.cmp.de"'],
    ['an origin with a path', '"https://app.cmp.de/path"'],
    ['user info', '"https://user@app.cmp.de"'],
  ])('an agreed redirect that is %s is refused', (_what, entry) => {
    writeConfig(dir, [], { routes: [] });
    writePartner('t.yaml', `id: cmpT\nrole: cmp\ninbound: { apiKeys: [k] }\nupstream: { url: "https://cmp.example" }\n${TP(entry)}\n`);
    expect(problemsOf(() => loadConfig(dir, DIALECTS, {}))).toEqual([expect.stringContaining('touchpoint.redirects[0]: not a domain')]);
  });
});

describe('problems are named by file, partner and field', () => {
  test.each([
    [
      'an unknown role',
      'id: mspX\nrole: car\ninbound: { apiKeys: [k] }\nupstream: { url: "http://x" }\n',
      'partners/x.yaml:2:1 (partner mspX): role: must be one of msp, cmp',
    ],
    [
      'an id with characters AID.02 does not allow',
      'id: msp-x\nrole: msp\ninbound: { apiKeys: [k] }\nupstream: { url: "http://x" }\n',
      'partners/x.yaml:1:1 (partner msp-x): id: must match pattern',
    ],
    [
      'a missing upstream',
      'id: mspX\nrole: msp\ninbound: { apiKeys: [k] }\n',
      "partners/x.yaml (partner mspX): (file): must have required property 'upstream'",
    ],
    [
      'a url that is not http(s)',
      'id: mspX\nrole: msp\ninbound: { apiKeys: [k] }\nupstream: { url: "ftp://x" }\n',
      'partners/x.yaml:4:13 (partner mspX): upstream.url: must match pattern',
    ],
    [
      'a misspelt key',
      'id: mspX\nrole: msp\ninbound: { apiKey: [k] }\nupstream: { url: "http://x" }\n',
      'partners/x.yaml:3:12 (partner mspX): inbound.apiKey: unknown key; did you mean apiKeys?',
    ],
    [
      'no inbound credential',
      'id: mspX\nrole: msp\ninbound: {}\nupstream: { url: "http://x" }\n',
      'partners/x.yaml:3:1 (partner mspX): inbound: must NOT have fewer than 1 properties',
    ],
    [
      'an empty api key',
      'id: mspX\nrole: msp\ninbound: { apiKeys: [""] }\nupstream: { url: "http://x" }\n',
      'partners/x.yaml:3:22 (partner mspX): inbound.apiKeys[0]: must NOT have fewer than 1 characters',
    ],
    [
      'two outbound credentials',
      'id: mspX\nrole: msp\ninbound: { apiKeys: [k] }\nupstream: { url: "http://x", auth: { apiKey: a, basic: { username: u, password: p } } }\n',
      'partners/x.yaml:4:30 (partner mspX): upstream.auth: must NOT have more than 1 properties',
    ],
    [
      'a client cert without its key',
      'id: mspX\nrole: msp\ninbound: { apiKeys: [k] }\nupstream: { url: "http://x", tls: { cert: c.pem } }\n',
      'partners/x.yaml:4:30 (partner mspX): upstream.tls: must have property key when property cert is present',
    ],
    [
      'a malformed fingerprint',
      'id: mspX\nrole: msp\ninbound: { certificates: [ { fingerprint256: "AB:CD" } ] }\nupstream: { url: "http://x" }\n',
      'partners/x.yaml:3:30 (partner mspX): inbound.certificates[0].fingerprint256: must match pattern',
    ],
    ['YAML that does not parse', 'id: [unclosed\n', 'partners/x.yaml: '],
    [
      'an unset environment variable',
      'id: mspX\nrole: msp\ninbound: { apiKeys: ["${NOT_SET}"] }\nupstream: { url: "http://x" }\n',
      'partners/x.yaml:3:22 (partner mspX): inbound.apiKeys[0]: environment variable NOT_SET is not set',
    ],
  ])('%s', (_what, yaml, expected) => {
    writeConfig(dir, [], { routes: [] });
    writePartner('x.yaml', yaml);
    expect(problemsOf(() => loadConfig(dir, DIALECTS, {}))).toEqual([expect.stringContaining(expected)]);
  });

  test('a TLS file that cannot be read names the field and the file', () => {
    writeConfig(dir, [{ ...cmp, extra: { upstream: { url: 'https://x', tls: { ca: 'missing-ca.pem' } } } }], { routes: [] });
    expect(problemsOf(() => loadConfig(dir, DIALECTS, {}))).toEqual([
      expect.stringContaining('partners/cmpA.yaml:10:5: upstream.tls.ca: cannot read missing-ca.pem'),
    ]);
  });

  test('two files with the same id', () => {
    writeConfig(dir, [msp], { routes: [] });
    writePartner('again.yaml', 'id: mspA\nrole: msp\ninbound: { apiKeys: [k] }\nupstream: { url: "https://x" }\n');
    expect(problemsOf(() => loadConfig(dir, DIALECTS, {}))).toEqual(['partners/mspA.yaml: id mspA is already used by partners/again.yaml']);
  });

  test('routes naming unknown partners, joining two MSPs, or giving a role operations it does not call', () => {
    writeConfig(dir, [msp, { ...msp, id: 'mspB' }, cmp], {
      routes: [
        { from: 'cmpZ', to: 'mspA' },
        { from: 'mspA', to: 'mspB' },
        { from: 'cmpA', to: '*', operations: ['sendMspToken'] },
        { from: 'mspA', to: 'cmpA', operations: ['requestActivationCode'] },
      ],
    });
    expect(problemsOf(() => loadConfig(dir, DIALECTS, {}))).toEqual([
      'routes.yaml:2:5: routes[0].from: no partner has the id cmpZ',
      'routes.yaml:4:5: routes[1]: mspA and mspB are both msps; a route joins an MSP and a CMP',
      'routes.yaml:8:5: routes[2].operations: sendMspToken is called by msps, not by cmps',
      'routes.yaml:12:5: routes[3].operations: requestActivationCode is called by cmps, not by msps',
    ]);
  });

  test('two routes claiming the same pair and operation', () => {
    writeConfig(dir, [msp, cmp], {
      routes: [
        { from: 'cmpA', to: 'mspA' },
        { from: 'cmpA', to: 'mspA', operations: ['sendCsimStatus'] },
      ],
    });
    expect(problemsOf(() => loadConfig(dir, DIALECTS, {}))).toEqual([
      'routes.yaml:4:5: routes[1]: cmpA -> mspA (sendCsimStatus) is already defined by routes.yaml: routes[0]',
    ]);
  });

  test.each([
    [{ routes: [{ from: 'cmpA' }] }, "routes.yaml:2:5: routes[0]: must have required property 'to'"],
    [{ routes: [{ from: 'cmpA', to: 'mspA', timeoutMs: 0 }] }, 'routes.yaml:4:5: routes[0].timeoutMs: must be >= 1'],
    [{ routes: [{ from: 'cmpA', to: 'mspA', tokenBinding: 'maybe' }] }, 'routes.yaml:4:5: routes[0].tokenBinding: must be one of strict, learn, off'],
    [{ routes: [{ from: 'cmpA', to: 'mspA', operations: ['fly'] }] }, 'routes.yaml:5:9: routes[0].operations[0]: must be one of'],
    [{ routes: [], settings: { bodyLimitBytes: 10 } }, 'routes.yaml:3:3: settings.bodyLimitBytes: must be >= 1024'],
    [{ routes: [], extra: true }, 'routes.yaml:2:1: extra: unknown key'],
    [{}, "routes.yaml: (file): must have required property 'routes'"],
  ])('routes.yaml %j', (routes, expected) => {
    writeConfig(dir, [msp, cmp], routes);
    expect(problemsOf(() => loadConfig(dir, DIALECTS, {}))).toEqual([expect.stringContaining(expected)]);
  });

  test('all problems are reported at once', () => {
    writeConfig(dir, [], { routes: [{ from: 'a', to: 'b', timeoutMs: -5 }] });
    writePartner('one.yaml', 'id: one\nrole: x\n');
    writePartner('two.yaml', 'id: two\nrole: msp\ninbound: { apiKeys: [k] }\nupstream: { url: "nope" }\n');
    expect(problemsOf(() => loadConfig(dir, DIALECTS, {})).length).toBeGreaterThanOrEqual(4);
  });

  test("route problems are told beside a partner file's schema problems, each with its line and column, a misspelt key with the key it meant", () => {
    writeConfig(dir, [msp, cmp], {
      routes: [
        { from: 'cmpA', to: 'mspA' },
        { from: 'cmpZ', to: 'mspA' },
        { from: 'cmpB', to: 'mspA' },
      ],
    });
    // cmpB's file has a schema problem: a route naming cmpB is not told "no partner has the id cmpB" besides
    writePartner('cmpB.yaml', 'id: cmpB\nrole: cmp\ninbound:\n  apiKeys: [k]\nupstream:\n  url: "https://cmp.example"\n  tsl: { ca: ca.pem }\n');
    expect(problemsOf(() => loadConfig(dir, DIALECTS, {}))).toEqual([
      'partners/cmpB.yaml:7:3 (partner cmpB): upstream.tsl: unknown key; did you mean tls?',
      'routes.yaml:4:5: routes[1].from: no partner has the id cmpZ',
    ]);
  });

  test('a missing partners folder', () => {
    writeFileSync(path.join(dir, 'routes.yaml'), 'routes: []\n');
    expect(problemsOf(() => loadConfig(dir, DIALECTS, {}))).toEqual([expect.stringContaining('cannot read the partners folder')]);
  });
});

describe('AID.02 section 6: two-way TLS is the default', () => {
  test('an http:// upstream off loopback is refused unless the partner says insecure: true; loopback is fine', () => {
    writeConfig(dir, [{ ...msp, upstreamUrl: 'http://msp.example:8080' }], { routes: [] });
    expect(problemsOf(() => loadConfig(dir, DIALECTS, {}))).toEqual([
      'partners/mspA.yaml:8:3: upstream.url: plain http:// to msp.example:8080 needs upstream.insecure: true (AID.02 6 requires TLS)',
    ]);
    writeConfig(dir, [{ ...msp, extra: { upstream: { url: 'http://msp.example:8080', insecure: true } } }], { routes: [] });
    const config = loadConfig(dir, DIALECTS, {});
    expect(configWarnings(config, DIALECTS)).toEqual([expect.stringContaining('plain HTTP to msp.example:8080')]);
    for (const url of ['http://127.0.0.1:9', 'http://localhost:9', 'http://[::1]:9']) {
      writeConfig(dir, [{ ...msp, upstreamUrl: url }], { routes: [] });
      expect(configWarnings(loadConfig(dir, DIALECTS, {}), DIALECTS)).toEqual([]);
    }
  });

  test('a CMP reached with no API key is warned about: "An API key SHALL be used for each request to CMP CESIM MSP API"', () => {
    writeConfig(dir, [{ ...cmp, extra: { upstream: { url: 'https://cmp.example/', auth: { basic: { username: 'u', password: 'p' } } } } }], { routes: [] });
    expect(configWarnings(loadConfig(dir, DIALECTS, {}), DIALECTS)).toEqual([expect.stringContaining('no API key toward this CMP')]);
  });

  test('a fleet CMP (dialect devicemgmt) reached at its platform with basic auth is not warned about: its upstream is no CMP API', () => {
    const platform = { url: 'https://platform.example/', auth: { basic: { username: 'u', password: 'p' } } };
    writeConfig(
      dir,
      [{ ...cmp, extra: { dialect: 'devicemgmt', upstream: platform, devicemgmt: { webhook: { url: 'https://backoffice.example/events' } } } }],
      { routes: [] },
    );
    expect(configWarnings(loadConfig(dir, DIALECTS, {}), DIALECTS)).toEqual([]);
  });
});
