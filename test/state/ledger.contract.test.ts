/**
 * The per-request ledger port: one contract, both stores (in memory, and Redis: a real server).
 */
import { randomUUID } from 'node:crypto';
import type { Delivery } from '../../src/state/outbox';
import { describeEachStore, pendingActivation as pending } from '../support/stores';

const delivery = (id: string): Delivery => ({
  id,
  kind: 'forward',
  target: 'cmpA',
  operation: 'submitActivationCode',
  method: 'POST',
  path: '/x',
  headers: {},
  body: '{}',
  createdAt: Date.now(),
  attempts: 0,
});

const answer = (status: number) => ({ status, contentType: status === 200 ? 'application/json' : undefined, body: status === 200 ? '{"a":1}' : '' });

describeEachStore((store) => {
  const ledger = () => store().ledger;

  describe('request ids', () => {
    test('the first call remembers, later calls get what was remembered', async () => {
      const key = `cmpA:${randomUUID()}`;
      expect(await ledger().rememberRequest(key, 'fp1', 60)).toBeUndefined();
      expect(await ledger().rememberRequest(key, 'fp2', 60)).toBe('fp1');
      expect(await ledger().rememberRequest(key, 'fp1', 60)).toBe('fp1');
    });
  });

  describe('activation requests: claims and replays', () => {
    test('one claim wins; the others see it in flight, then done with the answer', async () => {
      const p = pending();
      const claims = await Promise.all(Array.from({ length: 5 }, () => ledger().claimActivation(p, 'fp', 60000, 60)));
      expect(claims.filter((c) => c.state === 'claimed')).toHaveLength(1);
      expect(claims.filter((c) => c.state === 'inflight')).toHaveLength(4);
      await ledger().finishActivation(p, { kind: 'done', answer: answer(200), ttlSeconds: 60 });
      expect(await ledger().claimActivation(p, 'fp', 60000, 60)).toEqual({ state: 'done', fingerprint: 'fp', answer: answer(200) });
    });

    test('another request under the same ID sees the fingerprint of the first, in flight or answered', async () => {
      const p = pending();
      await ledger().claimActivation(p, 'fp', 60000, 60);
      expect(await ledger().claimActivation(p, 'other', 60000, 60)).toEqual({ state: 'inflight', fingerprint: 'fp' });
      await ledger().finishActivation(p, { kind: 'done', answer: answer(200), ttlSeconds: 60 });
      expect(await ledger().claimActivation(p, 'other', 60000, 60)).toEqual({ state: 'inflight', fingerprint: 'fp' });
    });

    test('released, it can be claimed again; past its claim, or left open, it is taken over', async () => {
      const released = pending();
      await ledger().claimActivation(released, 'fp', 60000, 60);
      await ledger().finishActivation(released, { kind: 'release' });
      expect(await ledger().claimActivation(released, 'fp', 60000, 60)).toEqual({ state: 'claimed' });

      const stale = pending();
      await ledger().claimActivation(stale, 'fp', 20, 60);
      await new Promise((r) => setTimeout(r, 40));
      expect(await ledger().claimActivation({ ...stale, createdAt: stale.createdAt + 5000 }, 'fp', 60000, 60)).toEqual({ state: 'claimed' });
      // taken over, the request keeps when it began (the bridge's budget counts from then)
      expect((await ledger().getPending(stale.cmp, stale.requestId))?.createdAt).toBe(stale.createdAt);

      const open = pending();
      await ledger().claimActivation(open, 'fp', 60000, 60);
      await ledger().finishActivation(open, { kind: 'open', ttlSeconds: 60 });
      expect(await ledger().getPending(open.cmp, open.requestId)).toMatchObject({ requestId: open.requestId, bridged: false, answered: false });
      expect(await ledger().claimActivation(open, 'fp', 60000, 60)).toEqual({ state: 'claimed' });
    });

    test('a synchronous answer ends the request: replayed, matched by no delivery', async () => {
      const p = pending();
      await ledger().claimActivation(p, 'fp', 60000, 60);
      expect(await ledger().getPending(p.cmp, p.requestId)).toEqual({ ...p, bridged: false, answered: false });
      await ledger().finishActivation(p, { kind: 'done', answer: answer(200), ttlSeconds: 60 });
      expect(await ledger().getPending(p.cmp, p.requestId)).toBeUndefined();
      expect(await ledger().consumePending(p)).toBe(false);
    });
  });

  describe('pending activation requests', () => {
    const pendingAfter201 = async (overrides = {}) => {
      const p = pending(overrides);
      await ledger().claimActivation(p, 'fp', 60000, 60);
      await ledger().finishActivation(p, { kind: 'pending', answer: answer(201), ttlSeconds: 60 });
      return p;
    };

    test('answered 201: read back, listed by pair and token, replayed as 201', async () => {
      const p = await pendingAfter201();
      expect(await ledger().getPending(p.cmp, p.requestId)).toEqual({ ...p, bridged: false, answered: false });
      expect(await ledger().listPending('mspA', 'cmpA', p.mspToken)).toEqual([{ ...p, bridged: false, answered: false }]);
      expect(await ledger().listPending('mspA', 'cmpB', p.mspToken)).toEqual([]);
      expect(await ledger().claimActivation(p, 'fp', 60000, 60)).toEqual({ state: 'done', fingerprint: 'fp', answer: answer(201) });
    });

    test('keyed per CMP: the same activationCodeRequestID of another CMP is another request (issue 10.12)', async () => {
      const first = await pendingAfter201({ cmp: 'cmpA' });
      const second = await pendingAfter201({ cmp: 'cmpB', msp: 'mspB', requestId: first.requestId });
      expect(await ledger().getPending('cmpA', first.requestId)).toMatchObject(first);
      expect(await ledger().getPending('cmpB', first.requestId)).toMatchObject(second);
      await ledger().consumePending(second);
      expect(await ledger().getPending('cmpA', first.requestId)).toMatchObject(first);
    });

    test('marked answered once its 201 has been sent', async () => {
      const p = await pendingAfter201();
      await ledger().markPendingAnswered(p);
      expect((await ledger().getPending(p.cmp, p.requestId))?.answered).toBe(true);
    });

    test('counted per MSP until consumed', async () => {
      const msp = `msp${randomUUID().slice(0, 8)}`;
      const a = await pendingAfter201({ msp });
      await pendingAfter201({ msp });
      expect((await ledger().countPending())[msp]).toBe(2);
      await ledger().consumePending(a);
      expect((await ledger().countPending())[msp]).toBe(1);
    });

    test('consumed exactly once, however many race; a retry still gets the 201', async () => {
      const p = await pendingAfter201();
      const results = await Promise.all(Array.from({ length: 10 }, () => ledger().consumePending(p)));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await ledger().getPending(p.cmp, p.requestId)).toBeUndefined();
      expect(await ledger().listPending('mspA', 'cmpA', p.mspToken)).toEqual([]);
      expect(await ledger().claimActivation(p, 'fp', 60000, 60)).toEqual({ state: 'done', fingerprint: 'fp', answer: answer(201) });
    });

    test('a delivery accepted while the call is in flight ends it: the 201 that follows leaves nothing pending', async () => {
      const p = pending();
      await ledger().claimActivation(p, 'fp', 60000, 60);
      expect(await ledger().consumePending(p)).toBe(true);
      expect(await ledger().consumePending(p)).toBe(false);
      await ledger().finishActivation(p, { kind: 'pending', answer: answer(201), ttlSeconds: 60 });
      expect(await ledger().getPending(p.cmp, p.requestId)).toBeUndefined();
      // a retry gets the 201 replayed
      expect(await ledger().claimActivation(p, 'fp', 60000, 60)).toEqual({ state: 'done', fingerprint: 'fp', answer: answer(201) });
      // a call that ended without an answer leaves nothing to replay or match: a retry asks again
      const open = pending();
      await ledger().claimActivation(open, 'fp', 60000, 60);
      expect(await ledger().consumePending(open)).toBe(true);
      await ledger().finishActivation(open, { kind: 'open', ttlSeconds: 60 });
      expect(await ledger().claimActivation(open, 'other', 60000, 60)).toEqual({ state: 'claimed' });
    });

    test('a request left open and then consumed is gone: the same ID with another body is claimed afresh', async () => {
      const p = pending();
      await ledger().claimActivation(p, 'fp', 60000, 60);
      await ledger().finishActivation(p, { kind: 'open', ttlSeconds: 60 });
      expect(await ledger().consumePending(p)).toBe(true);
      expect(await ledger().claimActivation(p, 'other', 60000, 60)).toEqual({ state: 'claimed' });
    });

    test('a request in flight is neither listed nor counted; the list is of one MSP, CMP and token', async () => {
      const msp = `msp${randomUUID().slice(0, 8)}`;
      const p = pending({ msp });
      await ledger().claimActivation(p, 'fp', 60000, 60);
      expect(await ledger().listPending(msp, 'cmpA', p.mspToken)).toEqual([]);
      expect((await ledger().countPending())[msp]).toBeUndefined();
      await ledger().finishActivation(p, { kind: 'pending', answer: answer(201), ttlSeconds: 60 });
      expect(await ledger().listPending(msp, 'cmpA', p.mspToken)).toHaveLength(1);
      expect(await ledger().listPending('mspA', 'cmpA', p.mspToken)).toEqual([]);
      expect(await ledger().listPending(msp, 'cmpA', randomUUID())).toEqual([]);
    });

    test('bridged by the hub, and pending again when the MSP goes asynchronous itself', async () => {
      const p = pending();
      await ledger().claimActivation(p, 'fp', 60000, 60);
      expect(await ledger().bridgeActivation(p, true, 60)).toBe(true);
      expect(await ledger().getPending(p.cmp, p.requestId)).toMatchObject({ bridged: true });
      expect(await ledger().claimActivation(p, 'fp', 60000, 60)).toEqual({ state: 'done', fingerprint: 'fp', answer: { status: 201, body: '' } });
      expect(await ledger().bridgeActivation(p, false, 60)).toBe(true);
      expect(await ledger().getPending(p.cmp, p.requestId)).toMatchObject({ bridged: false });
      // pending as a 201 left it: listed for the MSP's delivery, a retry replayed the 201
      expect((await ledger().listPending(p.msp, p.cmp, p.mspToken)).map((l) => l.requestId)).toEqual([p.requestId]);
      expect(await ledger().claimActivation(p, 'fp', 60000, 60)).toEqual({ state: 'done', fingerprint: 'fp', answer: { status: 201, body: '' } });
      await ledger().consumePending(p);
      expect(await ledger().bridgeActivation(p, true, 60)).toBe(false);
    });

    test('a claim made again by the call that holds it is its own; another call finds it in flight', async () => {
      const p = pending({ claimId: randomUUID() });
      expect(await ledger().claimActivation(p, 'fp', 60000, 60)).toEqual({ state: 'claimed' });
      expect(await ledger().claimActivation(p, 'fp', 60000, 60)).toEqual({ state: 'claimed' });
      expect(await ledger().claimActivation({ ...p, claimId: randomUUID() }, 'fp', 60000, 60)).toEqual({ state: 'inflight', fingerprint: 'fp' });
      // once it has finished, its claim made again is a retry like any other: the answer replayed
      await ledger().finishActivation(p, { kind: 'done', answer: answer(200), ttlSeconds: 60 });
      expect(await ledger().claimActivation(p, 'fp', 60000, 60)).toEqual({ state: 'done', fingerprint: 'fp', answer: answer(200) });
    });

    test('bridged with its deadline entry, settled with what the CMP is told: each queued in the same step, one settle wins', async () => {
      const p = pending();
      await ledger().claimActivation(p, 'fp', 60000, 60);
      const deadline = delivery(`deadline ${randomUUID()}`);
      expect(await ledger().bridgeActivation(p, true, 60, { delivery: deadline, at: Date.now() + 60000 })).toBe(true);
      const told = [delivery(`code ${randomUUID()}`), delivery(`error ${randomUUID()}`)];
      const settled = await Promise.all(told.map((d) => ledger().settlePending(p, d)));
      expect(settled.filter(Boolean)).toHaveLength(1);
      expect(await ledger().getPending(p.cmp, p.requestId)).toBeUndefined();
      const ready = (await store().outbox.receive(`contract-${randomUUID()}`, 100)).map((r) => r.delivery.id);
      expect(ready.filter((id) => told.some((d) => d.id === id))).toEqual([told[settled.indexOf(true)].id]);
      await store().outbox.promoteDue(Date.now() + 61000);
      const due = (await store().outbox.receive(`contract-${randomUUID()}`, 100)).map((r) => r.delivery.id);
      expect(due.filter((id) => id === deadline.id)).toEqual([deadline.id]);
    });

    // a store command may run after the hub gave up on it (a Sentinel or Cluster client resends it
    // to the new primary): each call changes only the entry it holds, in the state it left it
    test('a call whose request was bridged meanwhile cannot delete it: the late release of a refused call changes nothing', async () => {
      const p = pending({ claimId: randomUUID() });
      await ledger().claimActivation(p, 'fp', 60000, 60);
      expect(await ledger().bridgeActivation(p, true, 60)).toBe(true);
      await ledger().finishActivation(p, { kind: 'release' });
      await ledger().finishActivation(p, { kind: 'open', ttlSeconds: 60 });
      expect(await ledger().getPending(p.cmp, p.requestId)).toMatchObject({ requestId: p.requestId, bridged: true });
    });

    test('a call another has taken over from changes nothing of the entry: neither its finish nor its bridge', async () => {
      const first = pending({ claimId: randomUUID() });
      await ledger().claimActivation(first, 'fp', 20, 60);
      await new Promise((r) => setTimeout(r, 40));
      const second = { ...first, claimId: randomUUID() };
      expect(await ledger().claimActivation(second, 'fp', 60000, 60)).toEqual({ state: 'claimed' });
      await ledger().finishActivation(first, { kind: 'release' });
      expect(await ledger().bridgeActivation(first, true, 60)).toBe(false);
      expect(await ledger().claimActivation({ ...first, claimId: randomUUID() }, 'fp', 60000, 60)).toEqual({ state: 'inflight', fingerprint: 'fp' });
      expect(await ledger().bridgeActivation(second, true, 60)).toBe(true);
    });

    test('a bridge made after its call was released changes nothing, nor does a settle of a request the hub did not bridge', async () => {
      const p = pending({ claimId: randomUUID() });
      await ledger().claimActivation(p, 'fp', 60000, 60);
      await ledger().finishActivation(p, { kind: 'release' });
      expect(await ledger().bridgeActivation(p, true, 60)).toBe(false);
      expect(await ledger().getPending(p.cmp, p.requestId)).toBeUndefined();

      const answered = pending({ claimId: randomUUID() });
      await ledger().claimActivation(answered, 'fp', 60000, 60);
      await ledger().finishActivation(answered, { kind: 'pending', answer: answer(201), ttlSeconds: 60 });
      expect(await ledger().settlePending(answered, delivery(`late ${randomUUID()}`))).toBe(false);
      expect(await ledger().getPending(answered.cmp, answered.requestId)).toMatchObject({ requestId: answered.requestId, bridged: false });
      expect(await ledger().bridgeActivation(answered, true, 60)).toBe(false);
    });

    test('expire after their TTL', async () => {
      const p = pending({ msp: `msp${randomUUID().slice(0, 8)}` });
      await ledger().claimActivation(p, 'fp', 60000, 60);
      await ledger().finishActivation(p, { kind: 'pending', answer: answer(201), ttlSeconds: 1 });
      // another of the same MSP that outlives it
      const kept = pending({ msp: p.msp });
      await ledger().claimActivation(kept, 'fp', 60000, 60);
      await ledger().finishActivation(kept, { kind: 'pending', answer: answer(201), ttlSeconds: 60 });
      await new Promise((r) => setTimeout(r, 1100));
      expect(await ledger().listPending(p.msp, 'cmpA', p.mspToken)).toEqual([]);
      expect(await ledger().getPending(p.cmp, p.requestId)).toBeUndefined();
      // no longer counted either (the pending gauge an operator watches)
      expect((await ledger().countPending())[p.msp]).toBe(1);
    });
  });
});
