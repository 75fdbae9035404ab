/**
 * Request Activation Code's outcome is written while the answer goes out (pipeline/idempotency.ts):
 * the CMP does not wait for the write, and until it has landed a retry of the same request waits
 * for it instead of reaching the MSP again ("Use atomic transactions for state changes",
 * "Implement retry mechanisms for failed operations": seed 003, Best Practices; a retried Request
 * Activation Code must never produce a second activation code). The write is held back here by a
 * store whose finishActivation waits for the test, over the real Redis store.
 */
import { paths, requestActivationCodeBody } from '../support/messages';
import { mapPorts } from '../../src/state/storePorts';
import type { Store } from '../../src/state/store';
import { startWorld, type World } from '../support/testHub';
import { waitFor } from '../support/waitFor';

/** while set, each finishActivation waits for it before it runs */
let held: Promise<void> | undefined;
let finishes = 0;
/** a retry that found the request in flight asks again by claimActivation */
let claimsAgain = 0;

function holding(store: Store): Store {
  const ledger = <T extends object>(port: T, name: string): T => {
    if (name !== 'ledger') return port;
    return new Proxy(port, {
      get(obj, prop, receiver) {
        const value = Reflect.get(obj, prop, receiver) as unknown;
        if (prop === 'claimActivation') claimsAgain += 1;
        if (prop !== 'finishActivation' || typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          const gate = held;
          if (gate) await gate;
          const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(obj, args);
          finishes += 1;
          return result;
        };
      },
    });
  };
  return mapPorts(store, ledger);
}

let world: World;

beforeAll(async () => {
  world = await startWorld({ wrapStore: holding });
});
afterAll(() => world.close());

test('the CMP has its answer before the outcome is written; a retry meanwhile waits for it and gets the same answer, the MSP one request', async () => {
  const token = await world.onboard('mspA', 'cmpA');
  world.partners.mspA.reset();
  world.partners.mspA.answer(() => ({
    status: 200,
    body: { iccid: '8949000000000000077', activationCode: '1$smdp.example$HELD', profileType: 'personal', swappedIccid: null },
  }));
  let release: () => void = () => undefined;
  held = new Promise((resolve) => (release = resolve));
  const body = requestActivationCodeBody();
  const call = { as: 'cmpA', to: 'mspA', method: 'POST', path: paths.requestActivationCode(token), body } as const;
  const before = finishes;
  const first = await world.hub.call(call);
  expect(first.status).toBe(200);
  // answered, and the outcome still not written
  expect(finishes).toBe(before);
  let retried = false;
  const retry = world.hub.call(call).then((answer) => {
    retried = true;
    return answer;
  });
  // the retry found the entry still in flight and asks again, twice, without an answer
  const claims = claimsAgain;
  await waitFor(() => claimsAgain >= claims + 2);
  expect(retried).toBe(false);
  release();
  held = undefined;
  const again = await retry;
  expect(finishes).toBe(before + 1);
  expect(again.status).toBe(200);
  expect(again.body).toEqual(first.body);
  expect(world.partners.mspA.received).toHaveLength(1);
});
