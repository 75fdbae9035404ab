/**
 * Redis as production runs it: a Sentinel group and a Cluster, each of real redis-server processes
 * started here. The hub follows its primary through a failover: a primary SIGKILLed under load costs
 * at most a burst of 503 + Retry-After (the store's calls are made again on the new primary, so
 * mostly none), and nothing the hub had accepted is lost with --redis-wait-replicas set to the
 * number of replicas, 2 (docs/operating/redis.md, "What is guaranteed": each write the hub tells a
 * partner about is then on every replica, so whichever is promoted has it): no pending activation
 * request a CMP was answered 201 for, no outbox delivery whose enqueue returned (one that WAIT's
 * second passed without both replicas' confirmation, which the hub reports and goes on with, is
 * outside that guarantee: counted, not asserted). The killed node is started again once a replica
 * has taken over, as an orchestrator would, so that the new primary has two replicas to confirm
 * writes again. The figures go to stdout for docs/operating/redis.md and the closing note.
 */
import { randomUUID } from 'node:crypto';
import type { RedisAccess } from '../../src/state/redis/connection';
import { RedisStore } from '../../src/state/redis/store';
import type { Delivery } from '../../src/state/outbox';
import { paths, requestActivationCodeBody, submitActivationCodeBody } from '../support/messages';
import { RedisClusterProcesses, REPLICAS, SentinelGroup } from '../support/redisTopology';
import { startWorld, type World } from '../support/testHub';

const PREFIX = 'failover:';
const PROBE_PREFIX = 'failover-outbox:';

interface Topology {
  readonly access: RedisAccess;
  /** kills the primary that holds the hub's keys */
  killPrimary(): Promise<number>;
  /** starts the killed node again as a replica once another has taken over */
  bringBack(port: number): Promise<void>;
  remove(): Promise<void>;
}

async function sentinelTopology(): Promise<Topology> {
  const group = await SentinelGroup.start();
  return {
    // every replica waited for: the setting under which nothing accepted is lost
    access: { target: { kind: 'sentinel', sentinels: group.sentinels, master: group.master }, waitReplicas: REPLICAS },
    killPrimary: () => group.killPrimary(),
    bringBack: (port) => group.bringBack(port),
    remove: () => group.remove(),
  };
}

async function clusterTopology(): Promise<Topology> {
  const cluster = await RedisClusterProcesses.start();
  // every key of the hub carries the tag {failover:}: its slot's primary holds them all
  return {
    access: { target: { kind: 'cluster', urls: cluster.urls }, waitReplicas: REPLICAS },
    killPrimary: () => cluster.killPrimaryOf(`{${PREFIX}}x`),
    bringBack: (port) => cluster.bringBack(port, `{${PREFIX}}x`),
    remove: () => cluster.remove(),
  };
}

const delivery = (id: string): Delivery => ({
  id,
  kind: 'forward',
  target: 'cmpA',
  operation: 'submitActivationCode',
  method: 'POST',
  path: '/probe',
  headers: {},
  body: '{}',
  createdAt: Date.now(),
  attempts: 0,
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each([
  ['Sentinel', sentinelTopology],
  ['Cluster', clusterTopology],
])('Redis %s', (name, start) => {
  let topology: Topology;
  let world: World;
  let probe: RedisStore;
  /** the probe's writes that fewer replicas than asked confirmed in time */
  let unreplicatedReports = 0;

  beforeAll(async () => {
    topology = await start();
    world = await startWorld({ redis: topology.access, redisKeyPrefix: PREFIX });
    // a second connection under a prefix no hub reads: the outbox deliveries it queues stay to be counted
    probe = await RedisStore.connect({
      access: topology.access,
      keyPrefix: PROBE_PREFIX,
      onError: () => undefined,
      onUnreplicated: () => (unreplicatedReports += 1),
    });
  }, 60000);

  afterAll(async () => {
    await world?.close();
    await probe?.close();
    await topology?.remove();
  });

  test('the hub serves through it: tokens, activation requests matched across the store', async () => {
    const token = await world.onboard('mspA', 'cmpA');
    world.partners.mspA.answer((req) => (req.path.startsWith('/v1/activation-code-requests/') ? { status: 201 } : undefined));
    const requestId = randomUUID();
    expect(
      (await world.hub.call({ as: 'cmpA', to: 'mspA', method: 'POST', path: paths.requestActivationCode(token), body: requestActivationCodeBody(requestId) }))
        .status,
    ).toBe(201);
    expect(
      (await world.hub.call({ as: 'mspA', to: 'cmpA', method: 'POST', path: paths.submitActivationCode(token), body: submitActivationCodeBody(requestId) }))
        .status,
    ).toBe(200);
    const again = await world.hub.call({
      as: 'mspA',
      to: 'cmpA',
      method: 'POST',
      path: paths.submitActivationCode(token),
      body: submitActivationCodeBody(requestId),
    });
    expect(again.body.code).toBe('30');
  });

  test("every port works there, transactions and scripts on the hub's one slot: outbox, bindings, ledger, limits, records", async () => {
    const store = await RedisStore.connect({ access: topology.access, keyPrefix: `ports-${randomUUID()}:` });
    try {
      for (const id of ['a', 'b', 'c']) await store.outbox.enqueue(delivery(id));
      const [first, second, third] = await store.outbox.receive('w', 10);
      await store.outbox.ack(first);
      await store.outbox.retryLater(second, { ...second.delivery, attempts: 1 }, Date.now() - 1);
      await store.outbox.deadLetter(third, 'refused');
      expect(await store.outbox.promoteDue(Date.now())).toBe(1);
      expect(await store.outbox.replayDead()).toBe(1);
      expect(await store.outbox.depth()).toEqual(expect.objectContaining({ ready: 2, waiting: 0, dead: 0 }));

      const token = randomUUID();
      expect(await store.bindings.bind(token, 'mspA', 'cmpA', 60)).toBe('bound');
      expect(await store.bindings.bind(token, 'mspB', 'cmpA', 60)).toBe('conflict');
      await store.bindings.invalidate(token, 'mspA', 'cmpA', 60);
      expect(await store.bindings.get(token, 60)).toEqual({ pairs: { 'mspA cmpA': 'invalidated' } });

      const pending = { requestId: randomUUID(), msp: 'mspA', cmp: 'cmpA', mspToken: token, correlationId: randomUUID(), createdAt: Date.now() };
      expect(await store.ledger.claimActivation(pending, 'fp', 1000, 60)).toEqual({ state: 'claimed' });
      await store.ledger.finishActivation(pending, { kind: 'pending', answer: { status: 201, body: '' }, ttlSeconds: 60 });
      expect(await store.ledger.countPending()).toEqual({ mspA: 1 });
      expect(await store.ledger.listPending('mspA', 'cmpA', token)).toHaveLength(1);
      expect(await store.ledger.consumePending(pending)).toBe(true);
      expect(await store.ledger.consumePending(pending)).toBe(false);

      expect((await store.limits.admit([{ key: 'x', limit: { requests: 1, perSeconds: 60, burst: 1 } }])).allowed).toBe(true);
      expect((await store.limits.admit([{ key: 'x', limit: { requests: 1, perSeconds: 60, burst: 1 } }])).allowed).toBe(false);
      expect((await store.limits.countFailures(['a'], 60))[0].count).toBe(1);

      const records = store.records('ns');
      await records.save('r1', { n: 1 }, 60, { by: 'k' });
      expect(await records.find('by', 'k')).toEqual([{ n: 1 }]);
      const owner = await records.acquireLock('l', 1000);
      expect(await records.acquireLock('l', 1000)).toBeUndefined();
      await records.releaseLock('l', owner as string);
      expect(await records.acquireLock('l', 1000)).toBeDefined();
    } finally {
      await store.close();
    }
  });

  test('a primary SIGKILLed under load: a burst of 503 + Retry-After at most, nothing accepted lost', async () => {
    const token = await world.onboard('mspA', 'cmpA');
    world.partners.mspA.answer((req) => (req.path.startsWith('/v1/activation-code-requests/') ? { status: 201 } : undefined));
    const accepted: string[] = [];
    const statuses = new Map<string, number>();
    const refusalsWithoutRetryAfter: number[] = [];
    let killedAt = 0;
    let lastFailureAt = 0;
    let stop = false;
    const requester = async () => {
      while (!stop) {
        const requestId = randomUUID();
        const answer = await world.hub.call({
          as: 'cmpA',
          to: 'mspA',
          method: 'POST',
          path: paths.requestActivationCode(token),
          body: requestActivationCodeBody(requestId),
        });
        statuses.set(String(answer.status), (statuses.get(String(answer.status)) ?? 0) + 1);
        if (answer.status === 201) accepted.push(requestId);
        else {
          lastFailureAt = Date.now();
          if (answer.status === 503 && !answer.headers.get('retry-after')) refusalsWithoutRetryAfter.push(answer.status);
        }
        await sleep(10);
      }
    };
    const queued: string[] = [];
    // queued while fewer replicas than asked confirmed it within WAIT's second: the hub goes on and
    // says so (docs/operating/redis.md), and the guarantee is for the others; one enqueue at a
    // time, so a report during a call is that call's
    const unreplicated = new Set<string>();
    const enqueuer = async () => {
      while (!stop) {
        const id = randomUUID();
        try {
          const reportsBefore = unreplicatedReports;
          await probe.outbox.enqueue(delivery(id));
          queued.push(id);
          if (unreplicatedReports > reportsBefore) unreplicated.add(id);
        } catch {
          // refused while the primary is away: not accepted, so nothing to keep
        }
        await sleep(10);
      }
    };
    const load = [...Array.from({ length: 4 }, requester), enqueuer()];
    await sleep(1000);
    killedAt = Date.now();
    const giveUpAt = killedAt + 45000;
    // the load goes on while the killed node comes back as a replica, then: served again, then two
    // more seconds of load on the new primary; refused never (the store's calls ride through the
    // failover), eight seconds of load from the kill, past the promotion
    await topology.bringBack(await topology.killPrimary());
    while (Date.now() < giveUpAt && Date.now() < Math.max(lastFailureAt + 2000, killedAt + 8000)) await sleep(100);
    stop = true;
    await Promise.all(load);

    // a delivery is lost when the hub no longer knows the request (422 code 30); a 503 while the
    // client settles on the new primary is tried again, as the MSP would
    const lost: string[] = [];
    for (const requestId of accepted) {
      let answer = await world.hub.call({
        as: 'mspA',
        to: 'cmpA',
        method: 'POST',
        path: paths.submitActivationCode(token),
        body: submitActivationCodeBody(requestId),
      });
      for (let attempt = 0; answer.status === 503 && attempt < 10; attempt++) {
        await sleep(500);
        answer = await world.hub.call({
          as: 'mspA',
          to: 'cmpA',
          method: 'POST',
          path: paths.submitActivationCode(token),
          body: submitActivationCodeBody(requestId),
        });
      }
      if (answer.status !== 200) lost.push(`${answer.status} ${answer.body?.code ?? ''}`);
    }
    const lostPending = lost.length;
    const found = new Set<string>();
    for (;;) {
      const batch = await probe.outbox.receive('counter', 1000);
      if (batch.length === 0) break;
      for (const entry of batch) found.add(entry.delivery.id);
    }
    const missing = queued.filter((id) => !found.has(id));
    const lostDeliveries = missing.filter((id) => !unreplicated.has(id)).length;
    const refused = [...statuses].filter(([status]) => status !== '201').reduce((sum, [, n]) => sum + n, 0);
    const figures = {
      topology: name,
      requests: [...statuses.values()].reduce((a, b) => a + b, 0),
      statuses: Object.fromEntries(statuses),
      refusedDuringFailover: refused,
      secondsToRecover: lastFailureAt === 0 ? 0 : Number(((lastFailureAt - killedAt) / 1000).toFixed(1)),
      acceptedActivationRequests: accepted.length,
      lostPendingActivations: lostPending,
      lostAnswers: lost,
      acceptedDeliveries: queued.length,
      lostDeliveries,
      unreplicatedDeliveries: unreplicated.size,
      lostUnreplicatedDeliveries: missing.length - lostDeliveries,
    };
    process.stdout.write(`failover figures: ${JSON.stringify(figures)}\n`);

    expect([...statuses.keys()].filter((s) => s !== '201' && s !== '503')).toEqual([]);
    expect(refusalsWithoutRetryAfter).toEqual([]);
    expect(lostPending).toBe(0);
    expect(lostDeliveries).toBe(0);
    expect(accepted.length).toBeGreaterThan(0);
  }, 120000);
});
