/**
 * The token bindings port: one contract, both stores (in memory, and Redis: a real server).
 */
import { randomUUID } from 'node:crypto';
import { describeEachStore } from '../support/stores';

describeEachStore((store) => {
  describe('token bindings', () => {
    test('an unknown token has no binding', async () => {
      expect(await store().bindings.get(randomUUID())).toBeUndefined();
    });

    test('bind, then invalidate one pair; the other pair stays active', async () => {
      const token = randomUUID();
      expect(await store().bindings.bind(token, 'mspA', 'cmpA', 60)).toBe('bound');
      expect(await store().bindings.bind(token, 'mspA', 'cmpB', 60)).toBe('bound');
      await store().bindings.invalidate(token, 'mspA', 'cmpA', 60);
      expect(await store().bindings.get(token)).toEqual({ pairs: { 'mspA cmpA': 'invalidated', 'mspA cmpB': 'active' } });
    });

    test('a token issued by one MSP cannot be bound by another', async () => {
      const token = randomUUID();
      await store().bindings.bind(token, 'mspA', 'cmpA', 60);
      expect(await store().bindings.bind(token, 'mspB', 'cmpA', 60)).toBe('conflict');
      // a partner id that starts like another's is still another partner
      expect(await store().bindings.bind(token, 'msp', 'cmpA', 60)).toBe('conflict');
      expect(await store().bindings.get(token)).toEqual({ pairs: { 'mspA cmpA': 'active' } });
    });

    // a binding learnt from traffic (tokenBinding: learn) never overrides what the MSP's own Send MSP Token or Notify MSP Token Invalid set
    test('a learnt pair is added, and never replaces a pair that is there', async () => {
      const token = randomUUID();
      await store().bindings.bind(token, 'mspA', 'cmpA', 60);
      await store().bindings.invalidate(token, 'mspA', 'cmpB', 60);
      for (const cmp of ['cmpA', 'cmpB', 'cmpC']) expect(await store().bindings.bind(token, 'mspA', cmp, 60, 'learned')).toBe('bound');
      expect(await store().bindings.get(token)).toEqual({ pairs: { 'mspA cmpA': 'active', 'mspA cmpB': 'invalidated', 'mspA cmpC': 'learned' } });
    });

    test('binding again re-activates an invalidated pair', async () => {
      const token = randomUUID();
      await store().bindings.invalidate(token, 'mspA', 'cmpA', 60);
      await store().bindings.bind(token, 'mspA', 'cmpA', 60);
      expect((await store().bindings.get(token))?.pairs['mspA cmpA']).toBe('active');
    });

    test('bindings expire, unless a read renews them', async () => {
      const [token, renewed] = [randomUUID(), randomUUID()];
      await store().bindings.bind(token, 'mspA', 'cmpA', 1);
      await store().bindings.bind(renewed, 'mspA', 'cmpA', 1);
      expect(await store().bindings.get(renewed, 60)).toEqual({ pairs: { 'mspA cmpA': 'active' } });
      await new Promise((r) => setTimeout(r, 1100));
      expect(await store().bindings.get(token)).toBeUndefined();
      expect(await store().bindings.get(renewed)).toEqual({ pairs: { 'mspA cmpA': 'active' } });
      // a read of a token never bound creates nothing
      const unknown = randomUUID();
      expect(await store().bindings.get(unknown, 60)).toBeUndefined();
      expect(await store().bindings.bind(unknown, 'mspB', 'cmpA', 60)).toBe('bound');
    });
  });
});
