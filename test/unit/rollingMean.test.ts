/**
 * The breaker view's mean latency (upstream/rollingMean.ts) over a window of 10 s in 10 slices,
 * on a clock the test sets, so the slices' ageing is exact.
 */
import { RollingMean } from '../../src/upstream/rollingMean';

const WINDOW_MS = 10_000;
const START = 1_800_000_000_000;

test('the mean of everything recorded within the window', () => {
  const mean = new RollingMean(WINDOW_MS, 10);
  mean.record(10, START);
  mean.record(20, START + 500);
  mean.record(60, START + 9_000);
  expect(mean.mean(START + 9_500)).toBe(30);
});

test('nothing recorded: 0', () => {
  expect(new RollingMean(WINDOW_MS, 10).mean(START)).toBe(0);
});

test('a slice older than the window is forgotten whole', () => {
  const mean = new RollingMean(WINDOW_MS, 10);
  mean.record(100, START);
  mean.record(10, START + 5_000);
  // START's slice began at START: 10 s on, it has left the window; the later one has not
  expect(mean.mean(START + 10_000)).toBe(10);
  expect(mean.mean(START + 15_000)).toBe(0);
});

test('a place that comes round again starts from nothing', () => {
  const mean = new RollingMean(WINDOW_MS, 10);
  mean.record(100, START);
  // the same place of the ring, one window later: the old slice's count and sum are dropped
  mean.record(4, START + 10_000);
  mean.record(6, START + 10_200);
  expect(mean.mean(START + 10_500)).toBe(5);
});
