/**
 * The in-memory store is bounded (issue 10.7): past its cap a request that needs a new entry is
 * refused with 503 and Retry-After, nothing already held is lost, and the hub keeps serving.
 */
import { randomUUID } from 'node:crypto';
import { FakePartner } from '../support/fakePartner';
import { paths, requestActivationCodeBody } from '../support/messages';
import { TestHub } from '../support/testHub';

test('a full memory store refuses new work with 503 + Retry-After and keeps what it holds', async () => {
  const msp = await FakePartner.start();
  const hub = await TestHub.start({
    store: 'memory',
    partners: [
      { id: 'mspA', role: 'msp', apiKey: 'key-mspA', upstreamUrl: msp.url },
      { id: 'cmpA', role: 'cmp', apiKey: 'key-cmpA', upstreamUrl: msp.url },
    ],
    routes: { settings: { memoryStoreMaxEntries: 100 }, routes: [{ from: '*', to: '*', tokenBinding: 'off' }] },
  });
  try {
    const token = randomUUID();
    const first = requestActivationCodeBody();
    expect((await hub.call({ as: 'cmpA', to: 'mspA', method: 'POST', path: paths.requestActivationCode(token), body: first })).status).toBe(200);
    let refused;
    // every request takes at least one new entry (its request id): the cap is reached within 100
    for (let i = 0; i < 100 && !refused; i++) {
      const answer = await hub.call({ as: 'cmpA', to: 'mspA', method: 'POST', path: paths.requestActivationCode(token), body: requestActivationCodeBody() });
      if (answer.status !== 200) refused = answer;
    }
    expect(refused?.status).toBe(503);
    expect(refused?.body).toMatchObject({ code: '90' });
    expect(Number(refused?.headers.get('retry-after'))).toBeGreaterThan(0);
    // what the store held is still there: the first request is replayed, the MSP not asked again
    const calls = msp.received.length;
    const retry = await hub.call({ as: 'cmpA', to: 'mspA', method: 'POST', path: paths.requestActivationCode(token), body: first });
    expect(retry.status).toBe(200);
    expect(msp.received.length).toBe(calls);
    expect((await fetch(`${hub.hub.adminUrl}/healthz`)).status).toBe(200);
  } finally {
    await hub.close();
    await msp.close();
  }
});
