/**
 * A device-management task (src/dialects/devicemgmt/tasks.ts) survives a store call whose answer
 * was lost, or that failed before it ran, at every step: the code's arrival starts the task (record,
 * then schedule), each run takes its lock, reads and saves the task, saves the profile and queues
 * Send CSIM Status. Walked once to number the store calls, then once per call and fault over the real
 * Redis store (test/support/faultyStore.ts), in four lanes at once (a hub each, under its own prefix,
 * on one platform and MSP: a task waits a second between its steps). After each walk the task is done and the MSP heard
 * `installed`, then `enabled`, each once (AID.02 7.8: Send CSIM Status is "called by the CMP to
 * notify the MSP of OP status updates"), by their CMP-request-ids.
 */
import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import { FaultPlan, faultyStore, type Fault } from '../support/faultyStore';
import { FleetParts, FleetWorld, type Vehicle } from '../support/fleetWorld';
import { paths } from '../support/messages';
import { REDIS_URL } from '../support/redis';
import { waitFor } from '../support/waitFor';

const LANES = 4;

interface Lane {
  readonly plan: FaultPlan;
  readonly world: FleetWorld;
  readonly vehicle: Vehicle;
  readonly token: string;
}

let parts: FleetParts;
let lanes: Lane[] = [];
let redis: ReturnType<typeof createClient>;

beforeAll(async () => {
  parts = await FleetParts.start({ vehicles: LANES });
  lanes = await Promise.all(
    parts.vehicles.map(async (vehicle) => {
      const plan = new FaultPlan();
      // a claim whose answer was lost holds the request for its budget and 5 s more: a short budget
      const world = await FleetWorld.start(
        { wrapStore: (store) => faultyStore(store, plan), settings: { enable: 'separate' }, routes: [{ from: '*', to: '*', timeoutMs: 1000 }] },
        parts,
      );
      return { plan, world, vehicle, token: await world.onboard() };
    }),
  );
  redis = createClient({ url: REDIS_URL });
  await redis.connect();
  // the back office told of the onboarding: the walks' calls are their own
  await Promise.all(lanes.map((lane) => quiet(lane.world.hub.keyPrefix as string)));
}, 30000);

/** the outbox empty: every delivery made and acknowledged */
const quiet = (prefix: string) =>
  waitFor(
    async () => {
      // both read in one step: a delivery moved from waiting to ready between two reads would be missed
      const [ready, waiting] = await redis.multi().xLen(`${prefix}outbox`).zCard(`${prefix}outbox:waiting`).exec();
      return Number(ready) === 0 && Number(waiting) === 0;
    },
    20000,
    50,
  );

afterAll(async () => {
  await redis?.close();
  await Promise.all(lanes.map((lane) => lane.world.close()));
  await parts?.close();
});

interface Outcome {
  readonly fault: string;
  readonly done: boolean;
  /** the statuses the MSP heard for the task's ICCID, one per CMP-request-id */
  readonly heard: readonly string[];
  /** as they arrived: more only when a delivery could not be acked */
  readonly arrived: number;
}

/** Request Activation Code as the fleet's CMP, made again after a 503 (same message, same
 * CMP-request-id), and the task it starts, to its end */
async function walk({ plan, world, vehicle, token }: Lane): Promise<Outcome> {
  const requestId = randomUUID();
  const cmpRequestId = randomUUID();
  for (let attempt = 0; ; attempt++) {
    const answer = await world.hub.call({
      as: 'cmpF',
      to: 'mspA',
      method: 'POST',
      path: paths.requestActivationCode(token),
      body: { profileType: 'personal', deviceType: 'tcu', eid: vehicle.eid, activationCodeRequestID: requestId, replaceIccid: null },
      headers: { 'cmp-request-id': cmpRequestId },
    });
    if (answer.status === 200) break;
    expect({ attempt, status: answer.status }).toEqual({ attempt, status: 503 });
    if (attempt === 60) throw new Error('still refused');
    await new Promise((r) => setTimeout(r, 200));
  }
  const prefix = world.hub.keyPrefix as string;
  const key = `${prefix}rec:cmpF task provision ${requestId}`;
  const task = async () => {
    const raw = await redis.get(key);
    return raw === null ? undefined : (JSON.parse(raw) as { done: boolean; iccid: string });
  };
  await waitFor(async () => (await task())?.done === true, 20000, 50);
  await quiet(prefix);
  const { iccid, done } = (await task()) as { done: boolean; iccid: string };
  const statuses = parts.msp.received.filter((r) => r.path === paths.sendCsimStatus(token) && (r.body as { iccid: string }).iccid === iccid);
  const byId = new Map(statuses.map((r) => [r.headers['cmp-request-id'], (r.body as { status: string }).status]));
  return { fault: plan.hit ?? 'none', done, heard: [...byId.values()], arrived: statuses.length };
}

/** a lock that could not be given back holds the task off until its TTL (30 s), then the task goes
 * on: too long to walk here */
const spared = (name: string) => name.endsWith('.releaseLock');

test('a task with the answer of each store call lost, and each failing before it ran: done, each status heard once', async () => {
  const first = lanes[0];
  first.plan.reset();
  const clean = await walk(first);
  expect(clean).toEqual({ fault: 'none', done: true, heard: ['installed', 'enabled'], arrived: 2 });
  const calls = [...first.plan.calls];
  const faults = calls.flatMap((_, index) => (['lost', 'before'] as Fault[]).map((fault) => ({ index, fault })));
  const outcomes: Outcome[] = [];
  await Promise.all(
    lanes.map(async (lane, n) => {
      for (const { index, fault } of faults.filter((_, i) => i % LANES === n)) {
        lane.plan.arm(index, fault, spared);
        const outcome = await walk(lane);
        // a walk may make a call fewer than the first (a task whose transaction ended before it was
        // looked at): a fault armed past its last call finds none
        if (outcome.fault === 'none' && index >= lane.plan.calls.length) continue;
        outcomes.push(outcome.fault === 'none' ? { ...outcome, fault: `none (${fault} on call ${index} of ${lane.plan.calls.length})` } : outcome);
      }
      lane.plan.reset();
    }),
  );
  process.stdout.write(`device-management task: ${calls.length} store calls (${calls.join(', ')}); ${outcomes.length} walks with a fault\n`);
  for (const outcome of outcomes) {
    expect({ ...outcome, arrived: undefined }).toEqual({ fault: outcome.fault, done: true, heard: ['installed', 'enabled'], arrived: undefined });
    if (outcome.fault !== 'before outbox.ack') expect(outcome.arrived).toBe(2);
  }
  expect(outcomes.filter((o) => o.fault.startsWith('none'))).toEqual([]);
}, 600000);
