/** The pure parts of journeys: masking, the code of an error, what an id names, where a journey waits. */
import { DEFAULT_SETTINGS } from '../../src/config/load';
import type { HubSettings } from '../../src/config/types';
import { masked, type JourneyEvent } from '../../src/journeys/event';
import { MemoryJourneys } from '../../src/state/memory/journeys';
import { JourneyRecorder } from '../../src/journeys/recorder';
import { lookupsOf } from '../../src/journeys/lookup';
import { codeOf } from '../../src/journeys/errorCode';
import { duration, waitingOf } from '../../src/journeys/waiting';

const at = Date.UTC(2026, 11, 6, 14, 2, 11);
const event = (overrides: Partial<JourneyEvent>): JourneyEvent => ({
  id: String(Math.random()),
  at,
  instance: 'hub-1',
  operation: 'requestActivationCode',
  outcome: 'answered',
  ...overrides,
});
const limits = { awaitingCode: 600, awaitingCsimStatus: 3600 };

test.each([
  ['89049032000001000000000831934057', false, '…4057'],
  ['8949000000000000001', false, '…0001'],
  ['8949000000000000001', true, '8949000000000000001'],
  ['123', false, '123'],
])('masked(%s, full %s) is %s', (value, full, shown) => expect(masked(value, full)).toBe(shown));

test.each([
  ['1000: Customer not eligible', '1000'],
  [' 49 : Other activation code error', '49'],
  ['Customer not eligible', undefined],
  [null, undefined],
])('the code of %p is %p (AID.02 5.5 "code: text")', (error, code) => expect(codeOf(error)).toBe(code));

test.each([
  ['14abc1e2-338f-11e6-ac61-9e71128cae77', 'request'],
  ['8949000000000000001', 'iccid'],
  ['89490000000000000012F', 'iccid'],
  ['not-an-id', undefined],
])('%s is looked up as %s', (id, kind) => expect(lookupsOf(id)[0]?.kind).toBe(kind));

test("after a 201, the journey waits for the MSP's Send Activation Code, stuck past its limit", () => {
  const events = [
    event({ operation: 'sendMspToken', from: 'mspBeta', to: 'cmpOne', status: 201 }),
    event({ from: 'cmpOne', to: 'mspBeta', status: 201, stage: 'awaitingCode' }),
  ];
  expect(waitingOf(events, limits, at + 3 * 3600_000)).toMatchObject({
    stage: 'awaitingCode',
    stuck: true,
    sentence: '201 14:02:11, no Send Activation Code from mspBeta for 3 h',
  });
  expect(waitingOf(events, limits, at + 60_000)).toMatchObject({ stuck: false, sentence: '201 14:02:11, no Send Activation Code from mspBeta for 60 s' });
});

test("after the code is delivered, the journey waits for the CMP's Send CSIM Status; the status settles it", () => {
  const delivered = event({ operation: 'submitActivationCode', from: 'mspBeta', to: 'cmpOne', status: 200, stage: 'awaitingCsimStatus' });
  expect(waitingOf([delivered], limits, at + 2 * 3600_000)?.sentence).toBe('activation code delivered 14:02:11, no Send CSIM Status from cmpOne for 2 h');
  expect(waitingOf([delivered, event({ operation: 'sendCsimStatus', stage: 'settled', at: at + 1 })], limits, at + 2 * 3600_000)).toBeUndefined();
  // events that move nothing (a profile status request) leave it waiting where it was
  expect(waitingOf([delivered, event({ operation: 'requestProfileStatus', at: at + 1 })], limits, at + 1000)?.stage).toBe('awaitingCsimStatus');
});

test.each([
  [5_000, '5 s'],
  [119_000, '119 s'],
  [12 * 60_000, '12 min'],
  [3 * 3600_000, '3 h'],
  [50 * 3600_000, '2 d'],
])('%d ms is %s', (ms, text) => expect(duration(ms)).toBe(text));

describe('the recorder', () => {
  const recorded = async (settings: Partial<HubSettings>) => {
    const journeys = new MemoryJourneys();
    new JourneyRecorder(journeys, () => ({ ...DEFAULT_SETTINGS, ...settings })).step(
      { token: 't' },
      { operation: 'sendCsimStatus', outcome: 'answered', iccid: '8949000000000000001', eid: '89049032000001000000000831934057', vehicle: 'car-0042-x' },
    );
    return (await journeys.read('t'))?.events[0];
  };

  test('masks EID, ICCID and vehicle to their last 4 by default', async () => {
    expect(await recorded({})).toMatchObject({ iccid: '…0001', eid: '…4057', vehicle: '…42-x' });
  });

  test('keeps them in full where the operator turned full identifiers on', async () => {
    expect(await recorded({ journeyFullIdentifiers: true })).toMatchObject({
      iccid: '8949000000000000001',
      eid: '89049032000001000000000831934057',
      vehicle: 'car-0042-x',
    });
  });

  test('records nothing with journeys off', async () => {
    expect(await recorded({ journeys: false })).toBeUndefined();
  });
});
