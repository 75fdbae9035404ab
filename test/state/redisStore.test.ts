/**
 * What only the Redis store has to show: every key it writes expires (the ports' own calls, and the
 * checks script a request runs through the hub), and a Redis that cannot be reached at start is said
 * so at once. The ports' behaviour is in their contract suites.
 */
import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import { RedisStore } from '../../src/state/redis/store';
import { paths, requestActivationCodeBody, sendCsimStatusBody } from '../support/messages';
import { deleteKeys, REDIS_URL, uniquePrefix } from '../support/redis';
import { OwnRedis } from '../support/redisServer';
import { delivery, pendingActivation as pending } from '../support/stores';
import { startWorld } from '../support/testHub';
import { waitFor } from '../support/waitFor';

describe('redis store specifics', () => {
  test('every key it writes has a TTL', async () => {
    const own = uniquePrefix();
    const store = await RedisStore.connect({ url: REDIS_URL, keyPrefix: own });
    const token = randomUUID();
    await store.bindings.bind(token, 'mspA', 'cmpA', 100);
    await store.bindings.invalidate(token, 'mspA', 'cmpA', 100);
    const request = pending({ mspToken: token });
    await store.ledger.claimActivation(request, 'fp', 60000, 100);
    await store.ledger.finishActivation(request, { kind: 'pending', answer: { status: 201, body: '' }, ttlSeconds: 100 });
    await store.ledger.markPendingAnswered(request);
    await store.ledger.rememberRequest(`x:${token}`, 'fp', 100);
    await store.limits.countFailures([`addr ${token}`], 100);
    await store.records('opx').save(token, { x: 1 }, 100, { group: token });
    await store.close();
    const client = createClient({ url: REDIS_URL });
    await client.connect();
    try {
      const keys: string[] = [];
      for await (const batch of client.scanIterator({ MATCH: `${own}*`, COUNT: 500 })) keys.push(...batch);
      // binding, request id, activation request, its pair index, its per-MSP index, the MSP list,
      // a failure count, a record and its index
      expect(keys).toHaveLength(9);
      for (const key of keys) expect(await client.ttl(key)).toBeGreaterThan(0);
    } finally {
      await client.close();
      await deleteKeys(own);
    }
  });

  // every key the hub leaves in Redis is there for a bounded time (README, Redis for production): a
  // request id kept without its TTL would fill Redis one request at a time
  test("every key a request leaves through the hub's checks script has a TTL, its request id among them", async () => {
    const world = await startWorld({ routes: { routes: [{ from: '*', to: '*', tokenBinding: 'learn' }] } });
    const own = world.hub.keyPrefix as string;
    const client = createClient({ url: REDIS_URL });
    await client.connect();
    try {
      const token = await world.onboard('mspA', 'cmpA');
      const asked = await world.hub.call({
        as: 'cmpA',
        to: 'mspA',
        method: 'POST',
        path: paths.requestActivationCode(token),
        body: requestActivationCodeBody(),
      });
      const status = await world.hub.call({ as: 'cmpA', to: 'mspA', method: 'POST', path: paths.sendCsimStatus(token), body: sendCsimStatusBody() });
      expect([asked.status, status.status]).toEqual([200, 201]);
      const keys: string[] = [];
      for await (const batch of client.scanIterator({ MATCH: `${own}*`, COUNT: 500 })) keys.push(...batch);
      // one request id per call (Send MSP Token, Request Activation Code, Send CSIM Status)
      expect(keys.filter((k) => k.startsWith(`${own}rid:`))).toHaveLength(3);
      // the outbox's stream and sets are queues, made at start: their entries leave when delivered or
      // dead-lettered, not by a TTL
      const left = keys.filter((k) => !k.startsWith(`${own}outbox`));
      // a key gone since the scan (-2: a journey's stage set emptied by a later write) leaves nothing
      for (const key of left) {
        const ttl = await client.ttl(key);
        expect({ key, expires: ttl > 0 || ttl === -2 }).toEqual({ key, expires: true });
      }
    } finally {
      await client.close();
      await world.close();
    }
  });

  test('ping answers while Redis does, and fails once the store is closed', async () => {
    const store = await RedisStore.connect({ url: REDIS_URL, keyPrefix: uniquePrefix() });
    await expect(store.ping()).resolves.toBeUndefined();
    await store.close();
    await expect(store.ping()).rejects.toThrow();
    // a hub that shuts down twice (a signal during its shutdown) closes nothing twice
    await expect(store.close()).resolves.toBeUndefined();
  });

  // a write the replicas have not confirmed may be lost when a replica is promoted (docs/operating/redis.md):
  // with waitReplicas, every write of every port waits for them and says so when they did not confirm it
  // (a Redis of its own has no replica: each write waits its second and is reported)
  test('with waitReplicas, every write of every port waits for its replicas and reports it unreplicated; a read does not', async () => {
    const redis = await OwnRedis.start();
    const reported: number[] = [];
    const store = await RedisStore.connect({
      access: { target: { kind: 'single', url: redis.url }, waitReplicas: 1 },
      keyPrefix: uniquePrefix(),
      onUnreplicated: (replicas) => reported.push(replicas),
    });
    try {
      const counted: Record<string, number> = {};
      const write = async (name: string, call: () => Promise<unknown>) => {
        const before = reported.length;
        await call();
        counted[name] = reported.length - before;
      };
      const token = randomUUID();
      const request = pending({ mspToken: token, claimId: randomUUID() });
      const records = store.records('opx');
      await write('bind', () => store.bindings.bind(token, 'mspA', 'cmpA', 60));
      await write('invalidate', () => store.bindings.invalidate(token, 'mspA', 'cmpA', 60));
      await write('rememberRequest', () => store.ledger.rememberRequest(`cmpA:${token}`, 'fp', 60));
      await write('claimActivation', () => store.ledger.claimActivation(request, 'fp', 60000, 60));
      await write('bridgeActivation', () => store.ledger.bridgeActivation(request, true, 60));
      await write('markPendingAnswered', () => store.ledger.markPendingAnswered(request));
      await write('settlePending', () => store.ledger.settlePending(request, delivery()));
      await write('consumePending', () => store.ledger.consumePending(request));
      await write('finishActivation', () => store.ledger.finishActivation(request, { kind: 'release' }));
      await write('check', () => store.checks.check({ limits: [] }));
      await write('enqueue', () => store.outbox.enqueue(delivery()));
      await store.outbox.enqueue(delivery());
      const [later, dead] = await store.outbox.receive('w', 2);
      await write('retryLater', () => store.outbox.retryLater(later, later.delivery, Date.now() + 60000));
      await write('deadLetter', () => store.outbox.deadLetter(dead, 'refused'));
      await write('replayDead', () => store.outbox.replayDead());
      await write('save', () => records.save(randomUUID(), { a: 1 }, 60));
      await write('create', () => records.create(randomUUID(), { a: 1 }, 60));
      await write('getPending', () => store.ledger.getPending('cmpA', request.requestId));
      const names = Object.keys(counted);
      expect(counted).toEqual(Object.fromEntries(names.map((name) => [name, name === 'getPending' ? 0 : 1])));
      expect(new Set(reported)).toEqual(new Set([0]));
    } finally {
      await store.close();
      await redis.remove();
    }
  }, 60000);

  // the report is of writes a replica missed: one its replica confirmed is not reported
  test('a write its replica confirmed is not reported', async () => {
    // each in a folder of its own: the replica's first sync writes a file
    const [primary, replica] = [await OwnRedis.start({ persistent: true }), await OwnRedis.start({ persistent: true })];
    const admin = createClient({ url: replica.url });
    await admin.connect();
    const reported: number[] = [];
    let store: RedisStore | undefined;
    try {
      await admin.sendCommand(['REPLICAOF', '127.0.0.1', String(primary.port)]);
      for (let tries = 0; !(await admin.info('replication')).includes('master_link_status:up'); tries++) {
        if (tries > 200) throw new Error('the replica did not connect to its primary');
        await new Promise((r) => setTimeout(r, 50));
      }
      store = await RedisStore.connect({
        access: { target: { kind: 'single', url: primary.url }, waitReplicas: 1 },
        keyPrefix: uniquePrefix(),
        onUnreplicated: (replicas) => reported.push(replicas),
      });
      await store.bindings.bind(randomUUID(), 'mspA', 'cmpA', 60);
      expect(reported).toEqual([]);
    } finally {
      await store?.close();
      await admin.close();
      await replica.remove();
      await primary.remove();
    }
  });

  // store.ts: without waitReplicas (the default) a write is its own round trip, with nothing after it
  test('without waitReplicas no write waits: Redis is sent no WAIT', async () => {
    const redis = await OwnRedis.start();
    const store = await RedisStore.connect({ url: redis.url, keyPrefix: uniquePrefix() });
    try {
      await store.bindings.bind(randomUUID(), 'mspA', 'cmpA', 60);
      await store.ledger.rememberRequest(`cmpA:${randomUUID()}`, 'fp', 60);
      await store.outbox.enqueue(delivery());
      // Redis's own count of the commands it ran, on a Redis only this store talks to
      const counts = await redis.commands();
      // the last write, the delivery's XADD, ran here
      expect(counts.xadd).toBe(1);
      expect(counts).not.toHaveProperty('wait');
    } finally {
      await store.close();
      await redis.remove();
    }
  });

  test('connect says what it needs when given neither a url nor an access', async () => {
    await expect(RedisStore.connect({})).rejects.toThrow('RedisStore.connect needs a url or an access');
  });

  // docs/operating/redis.md: a hub's keys start with `aidgw:` unless configured otherwise
  test('without a key prefix, the keys start with aidgw:', async () => {
    const store = await RedisStore.connect({ url: REDIS_URL });
    try {
      expect(store.prefix).toBe('aidgw:');
    } finally {
      await store.close();
    }
  });

  test('with Redis unreachable, connect fails clearly instead of hanging', async () => {
    await expect(RedisStore.connect({ url: 'redis://127.0.0.1:1' })).rejects.toThrow();
  });

  // the deadline's proxy bounds a port's methods only (deadline.ts): a name that is no method, such
  // as `then`, is given as it is; were it bounded too, a port would look like a promise and an
  // async function returning one would never settle
  test('a port is no promise: an async function returns it as it is', async () => {
    const store = await RedisStore.connect({ url: REDIS_URL, keyPrefix: uniquePrefix() });
    try {
      const records = store.records('opx');
      await expect((async () => records)()).resolves.toBe(records);
    } finally {
      await store.close();
    }
  });
});

/** `count` stores under one fresh prefix, and a plain client to look at their keys */
const withStores = async (count: number, run: (stores: RedisStore[], client: ReturnType<typeof createClient>, own: string) => Promise<void>) => {
  const own = uniquePrefix();
  const stores = await Promise.all(Array.from({ length: count }, () => RedisStore.connect({ url: REDIS_URL, keyPrefix: own })));
  const client = createClient({ url: REDIS_URL });
  await client.connect();
  try {
    await run(stores, client, own);
  } finally {
    await client.close();
    await Promise.all(stores.map((s) => s.close()));
    await deleteKeys(own);
  }
};

// the outbox reads its stream through a consumer group, which Redis keeps with the stream
describe('redis outbox and its consumer group', () => {
  // store.ts: any number of hub instances share one Redis; the group is made once, by whichever comes first
  test('a second hub on the same Redis uses the group the first made: it receives what the first queued', () =>
    withStores(2, async ([first, second]) => {
      await first.outbox.enqueue(delivery({ id: 'shared' }));
      expect((await second.outbox.receive('w2', 10)).map((r) => r.delivery.id)).toEqual(['shared']);
    }));

  // a Redis restarted without its data has lost the stream and its group (outbox.ts, withGroup)
  test('a group Redis lost is made again at the next read, which goes on', () =>
    withStores(1, async ([store], client, own) => {
      await store.outbox.enqueue(delivery({ id: 'before' }));
      await client.del(`${own}outbox`);
      expect(await store.outbox.unfinished('w', 10)).toEqual([]);
      await client.del(`${own}outbox`);
      // queued into a stream made again without its group
      await store.outbox.enqueue(delivery({ id: 'after' }));
      expect((await store.outbox.receive('w', 10)).map((r) => r.delivery.id)).toEqual(['after']);
    }));

  // outbox.ts, withGroup: only a lost group (NOGROUP) is made again; any other refusal of a read is
  // the read's own failure, told as it is, without a second look at the group and a second read
  test('a read refused for another reason than a lost group fails as it is: no group made again, no second read', () =>
    withStores(1, async ([store], client, own) => {
      await store.outbox.enqueue(delivery({ id: 'made the group' }));
      await client.del(`${own}outbox`);
      await client.set(`${own}outbox`, 'not a stream');
      // Redis's own record of the commands this store sends, read in the order Redis ran them
      const seen: string[] = [];
      const watcher = client.duplicate();
      await watcher.connect();
      await watcher.monitor((line) => {
        if (line.includes(own)) seen.push(line.toLowerCase());
      });
      try {
        await expect(store.outbox.receive('w', 10)).rejects.toThrow(/WRONGTYPE/);
        await client.get(`${own}end of the look`);
        await waitFor(() => seen.some((line) => line.includes('end of the look')));
      } finally {
        await watcher.close();
      }
      expect(seen.filter((line) => line.includes('"xgroup"'))).toEqual([]);
      expect(seen.filter((line) => line.includes('"xreadgroup"'))).toHaveLength(1);
    }));

  // outbox.ts, LET_GO_DELETED: an operator's XDEL of an entry a consumer holds (a poison delivery
  // removed by hand) must not stop that consumer from finding what else it holds
  test('an entry deleted from the stream while a consumer holds it is let go; the rest it holds is found again', () =>
    withStores(1, async ([store], client, own) => {
      await store.outbox.enqueue(delivery({ id: 'removed' }));
      await store.outbox.enqueue(delivery({ id: 'kept' }));
      const held = await store.outbox.receive('w', 10);
      await client.xDel(`${own}outbox`, held[0].entryId);
      expect((await store.outbox.unfinished('w', 10)).map((r) => r.delivery.id)).toEqual(['kept']);
      expect((await client.xPending(`${own}outbox`, 'hub')).pending).toBe(1);
    }));

  // a delivery is queued once per id (outbox.ts): a call that failed before its group was there must
  // not leave the id marked as queued, or its retry would queue nothing
  test('a group that could not be made is made at the next call, and the delivery that failed is queued by its retry', () =>
    withStores(1, async ([store], client, own) => {
      await client.set(`${own}outbox`, 'not a stream');
      await expect(store.outbox.enqueue(delivery({ id: 'retried' }))).rejects.toThrow(/WRONGTYPE/);
      await client.del(`${own}outbox`);
      await store.outbox.enqueue(delivery({ id: 'retried' }));
      expect((await store.outbox.receive('w', 10)).map((r) => r.delivery.id)).toEqual(['retried']);
    }));
});

// requestChecks.ts: the journey events waiting in the instance ride on the request checks' script;
// a script that fails gives them back, so the next round trip writes them
describe('journey events on the request checks', () => {
  test('a check that fails loses none of the journey events riding on it: the next check writes them', () =>
    withStores(1, async ([store], client, own) => {
      const token = randomUUID();
      store.journeys.record({
        token,
        indexes: [],
        ttlSeconds: 60,
        maxEvents: 10,
        event: { id: randomUUID(), at: Date.now(), instance: 'test', operation: 'sendMspToken', outcome: 'answered' },
      });
      // the journey's list made a string: the script's append fails with WRONGTYPE, a command's own error
      await client.set(`${own}jrn:${token}`, 'not a list');
      await expect(store.checks.check({ limits: [] })).rejects.toThrow(/WRONGTYPE/);
      await client.del(`${own}jrn:${token}`);
      await store.checks.check({ limits: [] });
      expect((await store.journeys.read(token))?.events.map((e) => e.operation)).toEqual(['sendMspToken']);
    }));
});
