/**
 * The per-request ledger port: one contract, both stores (in memory, and Redis: a real server).
 */
import { randomUUID } from 'node:crypto';
import { describeEachStore, pendingActivation as pending } from '../support/stores';


describeEachStore((store) => {
  describe('pending activation requests', () => {
    test('added, read back, listed by pair and token', async () => {
      const p = pending();
      await store().ledger.addPending(p, 60);
      expect(await store().ledger.getPending(p.cmp, p.requestId)).toEqual({ ...p, answered: false });
      expect(await store().ledger.listPending('mspA', 'cmpA', p.mspToken)).toEqual([p]);
      expect(await store().ledger.listPending('mspA', 'cmpB', p.mspToken)).toEqual([]);
    });

    test('keyed per CMP: the same activationCodeRequestID of another CMP is another request (issue 10.12)', async () => {
      const first = pending({ cmp: 'cmpA' });
      const second = pending({ cmp: 'cmpB', msp: 'mspB', requestId: first.requestId });
      await store().ledger.addPending(first, 60);
      await store().ledger.addPending(second, 60);
      expect(await store().ledger.getPending('cmpA', first.requestId)).toMatchObject(first);
      expect(await store().ledger.getPending('cmpB', first.requestId)).toMatchObject(second);
      await store().ledger.consumePending(second);
      expect(await store().ledger.getPending('cmpA', first.requestId)).toMatchObject(first);
    });

    test('marked answered once its 201 has been sent; consuming it forgets the mark', async () => {
      const p = pending();
      await store().ledger.addPending(p, 60);
      expect((await store().ledger.getPending(p.cmp, p.requestId))?.answered).toBe(false);
      await store().ledger.markPendingAnswered(p, 60);
      expect((await store().ledger.getPending(p.cmp, p.requestId))?.answered).toBe(true);
      await store().ledger.consumePending(p);
      await store().ledger.addPending(p, 60);
      expect((await store().ledger.getPending(p.cmp, p.requestId))?.answered).toBe(false);
    });

    test('counted per MSP until consumed', async () => {
      const msp = `msp${randomUUID().slice(0, 8)}`;
      const a = pending({ msp });
      await store().ledger.addPending(a, 60);
      await store().ledger.addPending(pending({ msp }), 60);
      expect((await store().ledger.countPending())[msp]).toBe(2);
      await store().ledger.consumePending(a);
      expect((await store().ledger.countPending())[msp]).toBe(1);
    });

    test('consumed exactly once, however many race', async () => {
      const p = pending();
      await store().ledger.addPending(p, 60);
      const results = await Promise.all(Array.from({ length: 10 }, () => store().ledger.consumePending(p)));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await store().ledger.getPending(p.cmp, p.requestId)).toBeUndefined();
      expect(await store().ledger.listPending('mspA', 'cmpA', p.mspToken)).toEqual([]);
    });

    test('expire after their TTL', async () => {
      const p = pending();
      await store().ledger.addPending(p, 1);
      await new Promise((r) => setTimeout(r, 1100));
      expect(await store().ledger.getPending(p.cmp, p.requestId)).toBeUndefined();
      expect(await store().ledger.listPending('mspA', 'cmpA', p.mspToken)).toEqual([]);
    });
  });

  describe('request ids', () => {
    test('the first call remembers, later calls get what was remembered', async () => {
      const key = `cmpA:${randomUUID()}`;
      expect(await store().ledger.rememberRequest(key, 'fp1', 60)).toBeUndefined();
      expect(await store().ledger.rememberRequest(key, 'fp2', 60)).toBe('fp1');
      expect(await store().ledger.rememberRequest(key, 'fp1', 60)).toBe('fp1');
    });
  });

  describe('replay claims', () => {
    test('one claim wins; the others see it in flight, then done with the answer', async () => {
      const key = `cmpA:${randomUUID()}`;
      const claims = await Promise.all(Array.from({ length: 5 }, () => store().ledger.claimReplay(key, 'fp', 60)));
      expect(claims.filter((c) => c.state === 'claimed')).toHaveLength(1);
      expect(claims.filter((c) => c.state === 'inflight')).toHaveLength(4);
      const answer = { status: 200, contentType: 'application/json', body: '{"a":1}' };
      await store().ledger.completeReplay(key, 'fp', answer, 60);
      expect(await store().ledger.claimReplay(key, 'fp', 60)).toEqual({ state: 'done', fingerprint: 'fp', answer });
    });

    test('a released claim can be taken again', async () => {
      const key = `cmpA:${randomUUID()}`;
      await store().ledger.claimReplay(key, 'fp', 60);
      await store().ledger.releaseReplay(key);
      expect(await store().ledger.claimReplay(key, 'fp', 60)).toEqual({ state: 'claimed' });
    });
  });

});
