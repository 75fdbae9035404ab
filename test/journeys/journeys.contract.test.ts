/** The journeys port on both stores: the cap per journey, the ids that lead to a journey, stuck journeys by stage. */
import { randomUUID } from 'node:crypto';
import type { JourneyEvent, JourneyWrite } from '../../src/journeys/event';
import { describeEachStore } from '../support/stores';

const event = (overrides: Partial<JourneyEvent> = {}): JourneyEvent => ({
  id: randomUUID(),
  at: Date.now(),
  instance: 'test',
  operation: 'requestActivationCode',
  outcome: 'answered',
  ...overrides,
});
const write = (token: string | undefined, e: JourneyEvent, more: Partial<JourneyWrite> = {}): JourneyWrite => ({
  token,
  indexes: [],
  event: e,
  ttlSeconds: 60,
  maxEvents: 3,
  ...more,
});

describeEachStore((store) => {
  test('a journey keeps its last maxEvents events, oldest first', async () => {
    const token = randomUUID();
    for (let i = 0; i < 5; i++) store().journeys.record(write(token, event({ at: 1000 + i, detail: String(i) })));
    await store().journeys.flush();
    expect((await store().journeys.read(token))?.events.map((e) => e.detail)).toEqual(['2', '3', '4']);
  });

  test('an event recorded twice (its append made again) is read once', async () => {
    const token = randomUUID();
    const e = event();
    store().journeys.record(write(token, e));
    store().journeys.record(write(token, e));
    await store().journeys.flush();
    expect((await store().journeys.read(token))?.events).toHaveLength(1);
  });

  test('an event known only by its ICCID joins the journey the ICCID was indexed for', async () => {
    const token = randomUUID();
    const iccid = `89490000000000${Math.floor(Math.random() * 1e5)}`.padEnd(19, '0');
    store().journeys.record(write(token, event(), { indexes: [{ kind: 'iccid', value: iccid }] }));
    store().journeys.record(write(undefined, event({ operation: 'ES2+ HandleDownloadProgressInfo' }), { via: { kind: 'iccid', value: iccid } }));
    // unknown ICCID: no journey to join, nothing written
    store().journeys.record(write(undefined, event(), { via: { kind: 'iccid', value: '8949000000000009999' } }));
    await store().journeys.flush();
    expect(await store().journeys.resolve({ kind: 'iccid', value: iccid })).toBe(token);
    expect((await store().journeys.read(token))?.events.map((e) => e.operation)).toEqual(['requestActivationCode', 'ES2+ HandleDownloadProgressInfo']);
  });

  test('a journey waiting past its stage limit is stuck; a settled one is not', async () => {
    const [waiting, settled] = [randomUUID(), randomUUID()];
    const longAgo = Date.now() - 3600_000;
    store().journeys.record(write(waiting, event({ at: longAgo, stage: 'awaitingCode' })));
    store().journeys.record(write(settled, event({ at: longAgo, stage: 'awaitingCode' })));
    store().journeys.record(write(settled, event({ at: longAgo + 1, stage: 'settled' })));
    await store().journeys.flush();
    const stuck = await store().journeys.stuck({ awaitingCode: 60, awaitingCsimStatus: 60 }, Date.now());
    expect(stuck.map((j) => j.token)).toContain(waiting);
    expect(stuck.map((j) => j.token)).not.toContain(settled);
    expect((await store().journeys.stuck({ awaitingCode: 7200, awaitingCsimStatus: 60 }, Date.now())).map((j) => j.token)).not.toContain(waiting);
    expect((await store().journeys.countStuck({ awaitingCode: 60, awaitingCsimStatus: 60 }, Date.now())).awaitingCode).toBeGreaterThanOrEqual(1);
  });
});
