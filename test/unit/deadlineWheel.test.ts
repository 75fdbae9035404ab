/**
 * The process's deadline wheel (src/deadlineWheel.ts): a deadline fires once its time has passed,
 * in the order of the deadlines, a cancelled one never, and the wheel holds no process open.
 */
import { deadlineIn, TICK_MS } from '../../src/deadlineWheel';

function fired(ms: number, order: number[], name: number): Promise<void> {
  return new Promise((resolve) => deadlineIn(ms, () => resolve(void order.push(name))));
}

test('deadlines fire in the order of their times, not of their setting', async () => {
  const order: number[] = [];
  const late = fired(10 * TICK_MS, order, 2);
  const early = fired(TICK_MS, order, 1);
  await Promise.all([late, early]);
  expect(order).toEqual([1, 2]);
});

test('a cancelled deadline never fires, the others of its tick still do', async () => {
  let cancelledFired = false;
  const cancelled = deadlineIn(2 * TICK_MS, () => (cancelledFired = true));
  const order: number[] = [];
  const same = fired(2 * TICK_MS, order, 1);
  cancelled.cancel();
  // one tick after the cancelled deadline's own
  await Promise.all([same, fired(3 * TICK_MS, order, 2)]);
  expect(cancelledFired).toBe(false);
  expect(order).toEqual([1, 2]);
});

test('a deadline cancelled twice or after it fired changes nothing', async () => {
  const order: number[] = [];
  let once = 0;
  const deadline = deadlineIn(TICK_MS, () => (once += 1));
  await fired(2 * TICK_MS, order, 1);
  deadline.cancel();
  deadline.cancel();
  expect(once).toBe(1);
  // the wheel still counts the live deadlines right: a new one fires
  await fired(TICK_MS, order, 2);
  expect(order).toEqual([1, 2]);
});

test('the wheel holds no process open: its timer does not count as work the process waits for', () => {
  const waitedFor = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const before = waitedFor();
  const deadline = deadlineIn(60_000, () => undefined);
  expect(waitedFor()).toBe(before);
  deadline.cancel();
});
