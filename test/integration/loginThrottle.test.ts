/**
 * Failed logins are throttled per source address and per claimed client-id, shared through the
 * store (issue 10.8). Requests come from several loopback addresses (127.0.0.2, ...), each its own
 * source as far as the hub can tell.
 */
import { randomUUID } from 'node:crypto';
import { Agent } from 'undici';
import { FakePartner } from '../support/fakePartner';
import { paths } from '../support/messages';
import { TestHub, type PartnerSpec } from '../support/testHub';
import { uniquePrefix } from '../support/redis';

const LIMITS = { authFailuresPerAddress: 3, authFailuresPerClient: 5, authFailureWindowSeconds: 60 };

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
  ];
}

function startHub(redisKeyPrefix?: string): Promise<TestHub> {
  return TestHub.start({ partners: specs(), routes: { settings: LIMITS, routes: [{ from: '*', to: '*' }] }, redisKeyPrefix });
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

test('past the limit per address: 429 code 206 with Retry-After, even for the right key; other addresses unaffected', async () => {
  const hub = await startHub();
  try {
    for (let i = 0; i < LIMITS.authFailuresPerAddress; i++) expect((await profileStatus(hub, 'cmpA', 'guess', '127.0.0.2')).status).toBe(401);
    const over = await profileStatus(hub, 'cmpA', 'guess', '127.0.0.2');
    expect(over.status).toBe(429);
    expect(over.body).toEqual({ code: '206', error: 'Too many failed authentication attempts' });
    // RFC 9110 10.2.3: Retry-After in seconds, here within the failure window
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(over.headers.get('retry-after'))).toBeLessThanOrEqual(LIMITS.authFailureWindowSeconds);
    // a right guess now would tell the attacker nothing: it is refused the same way
    expect((await profileStatus(hub, 'cmpA', 'key-cmpA', '127.0.0.2')).status).toBe(429);
    // another address's login resets nothing and is not held back
    expect((await profileStatus(hub, 'cmpA', 'key-cmpA', '127.0.0.3')).status).toBe(200);
    expect((await profileStatus(hub, 'cmpA', 'key-cmpA', '127.0.0.2')).status).toBe(429);
    expect(await hub.metric('aid_gateway_auth_failures_total', { reason: 'throttled' })).toBe(3);
  } finally {
    await hub.close();
  }
});

test('past the limit per client-id, from many addresses: that client-id is held back, others are not', async () => {
  const hub = await startHub();
  try {
    const statuses = [];
    for (let i = 0; i < LIMITS.authFailuresPerClient + 1; i++) statuses.push((await profileStatus(hub, 'cmpA', 'guess', `127.0.1.${i + 1}`)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    expect((await profileStatus(hub, 'cmpA', 'key-cmpA', '127.0.2.1')).status).toBe(429);
    expect((await profileStatus(hub, 'cmpB', 'key-cmpB', '127.0.2.1')).status).toBe(200);
  } finally {
    await hub.close();
  }
});

test('an unknown client-id is counted per address only: it names no partner to hold back', async () => {
  const hub = await startHub();
  try {
    const statuses = [];
    for (let i = 0; i < LIMITS.authFailuresPerClient + 2; i++) statuses.push((await profileStatus(hub, 'nobody', 'guess', `127.0.3.${i + 1}`)).status);
    expect(new Set(statuses)).toEqual(new Set([401]));
  } finally {
    await hub.close();
  }
});

test('two hub instances on one Redis count the same failures', async () => {
  const prefix = uniquePrefix();
  const [one, two] = [await startHub(prefix), await startHub(prefix)];
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
