/**
 * Fuzzing the hub through its front door: requests generated from the AID.02 OpenAPI documents,
 * mutated the way a hostile or broken client would (fromSpec.ts), sent to the real hub on real
 * Redis with partners that record what reaches them. Properties: never a 5xx for bad input, every
 * refusal in the AID.02 body, and nothing a partner could read differently from the hub: bodies
 * strict JSON in UTF-8, paths exactly the spec's with one spelling per id.
 *
 * Wrong credentials are among the mutations, and the hub runs with its default login throttle: each
 * case comes from the next of the loopback addresses 127.0.0.2-254, so that no address, and no
 * (address, client-id), reaches its limit and the throttle cannot end the run early (issue 29).
 *
 * Seeded, so a failure reproduces: FUZZ_SEED picks the seed, FUZZ_RUNS the number of cases (a
 * bounded number in `npm test`, many more in `npm run fuzz`).
 */
import fc from 'fast-check';
import { Agent } from 'undici';
import { DEFAULT_SETTINGS } from '../../src/config/load';
import { parseStrictJson } from '../../src/json/strictJson';
import { Apis } from '../../src/openapi/apis';
import { callerRoleOf, type OperationId } from '../../src/openapi/operations';
import { SPEC_DIR } from '../../src/server/hub';
import type { Received } from '../support/fakePartner';
import { startWorld, type World } from '../support/testHub';
import { mutated } from './fromSpec';

const SEED = Number(process.env.FUZZ_SEED ?? 20261126);
const RUNS = Number(process.env.FUZZ_RUNS ?? 400);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

jest.setTimeout(Math.max(60000, RUNS * 200));

let world: World;
let apis: Apis;
const tally = { cases: 0, refused: 0, forwarded: 0, serverErrors: 0, throttled: 0, internalErrors: 0 };
/** one client per source address, taken in turn */
const sources = Array.from({ length: 253 }, (_, i) => new Agent({ localAddress: `127.0.0.${i + 2}` }));
/** the hub's own limits on failed logins (the test hub lifts them otherwise) */
const THROTTLE = {
  authFailuresPerAddressAndClient: DEFAULT_SETTINGS.authFailuresPerAddressAndClient,
  authFailuresPerAddress: DEFAULT_SETTINGS.authFailuresPerAddress,
  authFailuresPerClient: DEFAULT_SETTINGS.authFailuresPerClient,
  authFailureWindowSeconds: DEFAULT_SETTINGS.authFailureWindowSeconds,
};

beforeAll(async () => {
  apis = await Apis.load(SPEC_DIR);
  // every route open and every token let through, so that what survives validation reaches a partner
  world = await startWorld({ routes: { settings: THROTTLE, routes: [{ from: '*', to: '*', tokenBinding: 'off', responseValidation: 'warn' }] } });
});
afterAll(async () => {
  await world.close();
  await Promise.all(sources.map((s) => s.close()));
  if (process.env.FUZZ_RUNS) {
    console.log(
      `fuzzed ${tally.cases} requests (seed ${SEED}): ${tally.forwarded} forwarded, ${tally.refused} refused, ${tally.throttled} throttled, ${tally.serverErrors} answered 5xx, ${tally.internalErrors} internal errors logged`,
    );
  }
});

test('no mutated request gets a 5xx, every refusal is an AID.02 body, nothing ambiguous is forwarded', async () => {
  await fc.assert(
    fc.asyncProperty(mutated(apis.all), async ({ operation, wire }) => {
      const op = apis.get(operation as OperationId);
      Object.values(world.partners).forEach((p) => p.reset());
      const role = callerRoleOf(op.id);
      const [as, to] = role === 'cmp' ? ['cmpA', 'mspA'] : ['mspA', 'cmpA'];
      const method = op.operation.method.toUpperCase();
      const sendsBody = method !== 'GET' && method !== 'HEAD' && wire.body !== undefined;
      const answer = await world.hub.call({
        as,
        to,
        method,
        path: wire.path,
        raw: sendsBody ? wire.body : undefined,
        headers: { ...(sendsBody ? { 'content-type': 'application/json' } : {}), ...wire.headers },
        omit: wire.omit,
        dispatcher: sources[tally.cases % sources.length],
      });
      tally.cases += 1;
      if (answer.status >= 500) tally.serverErrors += 1;
      if (answer.status === 429 && answer.body?.code === '206') tally.throttled += 1;
      expect(answer.status).toBeLessThan(500);
      expect(answer.body).not.toEqual({ code: '206', error: 'Too many failed authentication attempts' });
      if (answer.status >= 400) {
        tally.refused += 1;
        expect(answer.body).toEqual({ code: expect.stringMatching(/^[0-9]+$/), error: expect.any(String) });
      }
      const received = Object.values(world.partners).flatMap((p) => p.received);
      if (received.length > 0) tally.forwarded += 1;
      for (const r of received) expectUnambiguous(r, op.pathTemplate);
    }),
    { seed: SEED, numRuns: RUNS },
  );
});

test('no request of the run was an internal error of the hub (a crash of its own code)', () => {
  tally.internalErrors = world.hub.logLines().filter((l) => /internal error/.test(String(l.msg))).length;
  expect(tally.internalErrors).toBe(0);
});

/** what reached a partner can be read one way only */
function expectUnambiguous(received: Received, template: string): void {
  if (received.raw !== '') expect(() => parseStrictJson(Buffer.from(received.raw, 'utf8'))).not.toThrow();
  const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, '[A-Za-z0-9._~%-]+')}$`);
  expect(received.path).toMatch(pattern);
  for (const segment of received.path.split('/')) {
    if (UUID.test(segment)) expect(segment).toBe(segment.toLowerCase());
  }
  for (const name of ['cmp-request-id', 'correlation-id']) {
    const value = received.headers[name];
    expect(typeof value === 'string' && UUID.test(value) && value === value.toLowerCase()).toBe(true);
  }
}
