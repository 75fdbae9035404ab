/**
 * Failed logins (issue 10.8, issue 29.4): guessing stays expensive, and nobody can lock a partner
 * out by failing in its name (OWASP Authentication Cheat Sheet, "Account Lockout": a lockout any
 * caller can trigger is a denial of service). Counted per (address, client-id), per address at a
 * higher limit, and per client-id (slowed, never refused), shared through the store. Requests come
 * from several loopback addresses (127.0.0.2, ...), each its own source as far as the hub can tell.
 * The hub's default limits unless a test says otherwise.
 */
import { randomUUID } from 'node:crypto';
import { Agent } from 'undici';
import { DEFAULT_SETTINGS } from '../../src/config/load';
import { FakePartner } from '../support/fakePartner';
import { paths } from '../support/messages';
import { TestHub, type PartnerSpec } from '../support/testHub';
import { uniquePrefix } from '../support/redis';

const DEFAULTS = {
  authFailuresPerAddressAndClient: DEFAULT_SETTINGS.authFailuresPerAddressAndClient,
  authFailuresPerAddress: DEFAULT_SETTINGS.authFailuresPerAddress,
  authFailuresPerClient: DEFAULT_SETTINGS.authFailuresPerClient,
  authFailureWindowSeconds: DEFAULT_SETTINGS.authFailureWindowSeconds,
};

let msp: FakePartner;
const agents = new Map<string, Agent>();

beforeAll(async () => {
  msp = await FakePartner.start();
});
afterAll(async () => {
  await msp.close();
  await Promise.all([...agents.values()].map((a) => a.close()));
});

function specs(): PartnerSpec[] {
  return [
    { id: 'mspA', role: 'msp', apiKey: 'key-mspA', upstreamUrl: msp.url },
    { id: 'cmpA', role: 'cmp', apiKey: 'key-cmpA', upstreamUrl: msp.url },
    { id: 'cmpB', role: 'cmp', apiKey: 'key-cmpB', upstreamUrl: msp.url },
    { id: 'cmpC', role: 'cmp', apiKey: 'key-cmpC', upstreamUrl: msp.url },
  ];
}

function startHub(settings: Record<string, number> = DEFAULTS, redisKeyPrefix?: string): Promise<TestHub> {
  return TestHub.start({ partners: specs(), routes: { settings, routes: [{ from: '*', to: '*' }] }, redisKeyPrefix });
}

/** a client that connects from `address` */
function from(address: string): Agent {
  let agent = agents.get(address);
  if (!agent) {
    agent = new Agent({ localAddress: address });
    agents.set(address, agent);
  }
  return agent;
}

const profileStatus = (hub: TestHub, as: string, apiKey: string, address: string) =>
  hub.call({ as, to: 'mspA', method: 'GET', path: paths.requestProfileStatus(randomUUID()), headers: { 'api-key': apiKey }, dispatcher: from(address) });

/** `count` wrong keys for `as`, spread over `addresses`; their statuses */
async function guesses(hub: TestHub, as: string, count: number, addresses: readonly string[]): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < count; i++) statuses.push((await profileStatus(hub, as, `guess-${i}`, addresses[i % addresses.length])).status);
  return statuses;
}

const range = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}${i + 1}`);

describe('the lockout that must not happen', () => {
  test("issue 29.4: 100+ wrong keys for cmpA from many addresses do not refuse cmpA's right key, from its own address or a new one; a metric and a log line say it is guessed", async () => {
    const hub = await startHub();
    try {
      expect((await profileStatus(hub, 'cmpA', 'key-cmpA', '127.0.5.1')).status).toBe(200);
      // 102 guesses from 6 addresses: 17 each, under the per-(address, client-id) limit of 20
      const statuses = await guesses(hub, 'cmpA', DEFAULTS.authFailuresPerClient + 2, range('127.0.6.', 6));
      expect(new Set(statuses)).toEqual(new Set([401]));
      expect((await profileStatus(hub, 'cmpA', 'key-cmpA', '127.0.5.1')).status).toBe(200);
      // an address that never proved cmpA is slowed, not refused
      expect((await profileStatus(hub, 'cmpA', 'key-cmpA', '127.0.5.2')).status).toBe(200);
      expect(await hub.metric('aid_gateway_auth_guessed_clients_total', { client: 'cmpA' })).toBe(1);
      expect(hub.logLines().filter((l) => l.client === 'cmpA' && /past its limit/.test(String(l.msg)))).toHaveLength(1);
      expect(await hub.metric('aid_gateway_auth_failures_total', { reason: 'throttled' })).toBe(0);
    } finally {
      await hub.close();
    }
  });

  test('issue 29.4: 21 wrong keys from one address do not refuse the other partners behind it', async () => {
    const hub = await startHub();
    try {
      expect(await guesses(hub, 'cmpA', 21, ['127.0.7.1'])).toEqual([...Array(20).fill(401), 429]);
      for (const as of ['cmpB', 'cmpC']) expect((await profileStatus(hub, as, `key-${as}`, '127.0.7.1')).status).toBe(200);
    } finally {
      await hub.close();
    }
  });

  test('past the per-address limit, a partner that has proven itself from that address keeps working', async () => {
    const hub = await startHub();
    try {
      expect((await profileStatus(hub, 'cmpB', 'key-cmpB', '127.0.8.1')).status).toBe(200);
      // unknown client-ids: counted per address only
      const statuses = await guesses(hub, 'nobody', DEFAULTS.authFailuresPerAddress + 1, ['127.0.8.1']);
      expect(statuses.slice(-2)).toEqual([401, 429]);
      expect((await profileStatus(hub, 'cmpB', 'key-cmpB', '127.0.8.1')).status).toBe(200);
      // a partner that has not proven itself from there is held back with the address
      expect((await profileStatus(hub, 'cmpC', 'key-cmpC', '127.0.8.1')).status).toBe(429);
    } finally {
      await hub.close();
    }
  });
});

describe('the brute force that must stay throttled', () => {
  test('past the per-(address, client-id) limit: 429 code 206 with Retry-After, even for the right key, from that address', async () => {
    const hub = await startHub();
    try {
      expect(await guesses(hub, 'cmpA', DEFAULTS.authFailuresPerAddressAndClient, ['127.0.9.1'])).toEqual(Array(20).fill(401));
      const over = await profileStatus(hub, 'cmpA', 'guess', '127.0.9.1');
      expect(over.status).toBe(429);
      expect(over.body).toEqual({ code: '206', error: 'Too many failed authentication attempts' });
      expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
      // a right guess now would tell the attacker nothing: it is refused the same way
      expect((await profileStatus(hub, 'cmpA', 'key-cmpA', '127.0.9.1')).status).toBe(429);
      expect(await hub.metric('aid_gateway_auth_failures_total', { reason: 'throttled' })).toBe(2);
    } finally {
      await hub.close();
    }
  });

  test('rotating client-ids from one address: past the per-address limit, 429 for every client-id it has not proven', async () => {
    const hub = await startHub();
    try {
      const statuses: number[] = [];
      for (const as of ['cmpA', 'cmpB', 'cmpC', 'mspA', 'nobody', 'nobody2']) statuses.push(...(await guesses(hub, as, 17, ['127.0.10.1'])));
      expect(statuses.indexOf(429)).toBe(DEFAULTS.authFailuresPerAddress);
      for (const as of ['cmpA', 'cmpB', 'cmpC']) expect((await profileStatus(hub, as, `key-${as}`, '127.0.10.1')).status).toBe(429);
    } finally {
      await hub.close();
    }
  });

  test('rotating addresses for one client-id: every guess past the per-client-id limit is still checked and refused (slowed, counted)', async () => {
    const hub = await startHub({ ...DEFAULTS, authFailuresPerClient: 5 });
    try {
      expect(new Set(await guesses(hub, 'cmpA', 8, range('127.0.11.', 8)))).toEqual(new Set([401]));
      expect(await hub.metric('aid_gateway_auth_failures_total', { reason: 'wrong_credential' })).toBe(8);
      expect(await hub.metric('aid_gateway_auth_guessed_clients_total', { client: 'cmpA' })).toBe(1);
    } finally {
      await hub.close();
    }
  });
});

test('an unknown client-id is counted per address only: it names no partner to hold back', async () => {
  const hub = await startHub({ ...DEFAULTS, authFailuresPerAddressAndClient: 2, authFailuresPerClient: 2 });
  try {
    expect(new Set(await guesses(hub, 'nobody', 6, range('127.0.3.', 6)))).toEqual(new Set([401]));
    expect(await hub.metric('aid_gateway_auth_guessed_clients_total')).toBe(0);
  } finally {
    await hub.close();
  }
});

test('two hub instances on one Redis count the same failures', async () => {
  const prefix = uniquePrefix();
  const limits = { ...DEFAULTS, authFailuresPerAddressAndClient: 3 };
  const [one, two] = [await startHub(limits, prefix), await startHub(limits, prefix)];
  try {
    expect((await profileStatus(one, 'cmpA', 'guess', '127.0.4.1')).status).toBe(401);
    expect((await profileStatus(two, 'cmpA', 'guess', '127.0.4.1')).status).toBe(401);
    expect((await profileStatus(one, 'cmpA', 'guess', '127.0.4.1')).status).toBe(401);
    expect((await profileStatus(two, 'cmpA', 'guess', '127.0.4.1')).status).toBe(429);
  } finally {
    await one.close();
    await two.close();
  }
});
