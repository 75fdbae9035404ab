/**
 * The request checks port (state/requestChecks.ts): one contract, both stores (in memory, and
 * Redis: a real server, where it is one script).
 */
import { randomUUID } from 'node:crypto';
import { describeEachStore, pendingActivation as pending } from '../support/stores';

const oneAMinute = (key: string) => ({ key, limit: { requests: 1, perSeconds: 60, burst: 1 } });

describeEachStore((store) => {
  test('one step: limits counted, the binding read and renewed, the request id remembered, the activation claimed', async () => {
    const token = randomUUID();
    await store().bindings.bind(token, 'mspA', 'cmpA', 5);
    const request = pending({ mspToken: token });
    const checked = await store().checks.check({
      limits: [oneAMinute(randomUUID())],
      token: { token, renewTtlSeconds: 600 },
      requestId: { key: `cmpA:${randomUUID()}`, fingerprint: 'fp', ttlSeconds: 60 },
      activation: { pending: request, fingerprint: 'fp', claimMs: 60000, ttlSeconds: 60 },
    });
    expect(checked).toEqual({
      limits: { allowed: true, waitMs: 0 },
      binding: { pairs: { 'mspA cmpA': 'active' } },
      previousFingerprint: undefined,
      claim: { state: 'claimed' },
      delivery: undefined,
    });
    expect(Object.keys(checked.binding?.pairs ?? {})).toEqual(['mspA cmpA']);
    expect(await store().ledger.getPending(request.cmp, request.requestId)).toMatchObject({ requestId: request.requestId });
    // the claim holds for its claimMs: another call finds the request in flight
    const again = await store().checks.check({ limits: [], activation: { pending: request, fingerprint: 'fp', claimMs: 60000, ttlSeconds: 60 } });
    expect(again.claim).toEqual({ state: 'inflight', fingerprint: 'fp' });
    // renewed: still there after the 5 s it was bound for
    await new Promise((r) => setTimeout(r, 5200));
    expect(await store().bindings.get(token)).toEqual({ pairs: { 'mspA cmpA': 'active' } });
  }, 10000);

  test('the same request id again gets its first fingerprint; an unknown token has no binding', async () => {
    const requestId = { key: `cmpA:${randomUUID()}`, fingerprint: 'first', ttlSeconds: 60 };
    await store().checks.check({ limits: [], requestId });
    const again = await store().checks.check({ limits: [], token: { token: randomUUID() }, requestId: { ...requestId, fingerprint: 'second' } });
    expect(again).toEqual({ limits: { allowed: true, waitMs: 0 }, binding: undefined, previousFingerprint: 'first', claim: undefined, delivery: undefined });
  });

  test('a delivery reads the request it answers; one that no delivery may match reads as none', async () => {
    const answered = pending();
    await store().ledger.claimActivation(answered, 'fp', 60000, 60);
    await store().ledger.finishActivation(answered, { kind: 'pending', answer: { status: 201, body: '' }, ttlSeconds: 60 });
    const read = await store().checks.check({ limits: [], delivery: { cmp: answered.cmp, requestId: answered.requestId } });
    expect(read.delivery).toEqual({ pending: { ...answered, bridged: false, answered: false } });
    await store().ledger.consumePending(answered);
    expect((await store().checks.check({ limits: [], delivery: { cmp: answered.cmp, requestId: answered.requestId } })).delivery).toEqual({
      pending: undefined,
    });
    expect((await store().checks.check({ limits: [], delivery: { cmp: 'cmpA', requestId: randomUUID() } })).delivery).toEqual({ pending: undefined });
  });

  test('the limits the checks count are those admit counts; a binding read without renewal is read', async () => {
    const limit = oneAMinute(randomUUID());
    expect((await store().checks.check({ limits: [limit] })).limits.allowed).toBe(true);
    expect((await store().limits.admit([limit])).allowed).toBe(false);
    const token = randomUUID();
    await store().bindings.bind(token, 'mspA', 'cmpA', 60);
    expect((await store().checks.check({ limits: [], token: { token } })).binding).toEqual({ pairs: { 'mspA cmpA': 'active' } });
  });

  test('over a limit, nothing else is read or written', async () => {
    const limit = oneAMinute(randomUUID());
    await store().checks.check({ limits: [limit] });
    const request = pending();
    const requestId = { key: `cmpA:${randomUUID()}`, fingerprint: 'fp', ttlSeconds: 60 };
    const refused = await store().checks.check({
      limits: [limit],
      requestId,
      activation: { pending: request, fingerprint: 'fp', claimMs: 60000, ttlSeconds: 60 },
    });
    expect(refused).toEqual({ limits: { allowed: false, refusedBy: 0, waitMs: expect.any(Number) } });
    expect(await store().ledger.getPending(request.cmp, request.requestId)).toBeUndefined();
    expect(await store().ledger.rememberRequest(requestId.key, 'other', 60)).toBeUndefined();
  });
});
