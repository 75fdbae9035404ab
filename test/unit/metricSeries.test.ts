/**
 * The request path's counters and histograms (metrics/series.ts) stand in for prom-client's own:
 * for the same updates, Prometheus and the workers' aggregation must read exactly what prom-client
 * would have exposed.
 */
import { AggregatorRegistry, Counter, Histogram, Registry } from 'prom-client';
import { FastCounter, FastHistogram } from '../../src/metrics/series';

const BUCKETS = [0.1, 0.5, 1];
/** on a bound, between bounds, above every bound */
const OBSERVED = [0.05, 0.1, 0.3, 0.5, 0.7, 1, 2.5];

function pair(): { theirs: Registry; ours: Registry; update: () => void } {
  const theirs = new Registry();
  const ours = new Registry();
  const counters = [
    new Counter({ name: 'calls_total', help: 'calls by outcome', labelNames: ['target', 'outcome'] as const, registers: [theirs] }),
    new FastCounter({ name: 'calls_total', help: 'calls by outcome', labelNames: ['target', 'outcome'] as const, registers: [ours] }),
  ];
  const histograms = [
    new Histogram({ name: 'call_seconds', help: 'call time', labelNames: ['target'] as const, buckets: BUCKETS, registers: [theirs] }),
    new FastHistogram({ name: 'call_seconds', help: 'call time', labelNames: ['target'] as const, buckets: BUCKETS, registers: [ours] }),
  ];
  return {
    theirs,
    ours,
    update() {
      for (const counter of counters) {
        counter.labels('mspA', '2xx').inc();
        counter.labels('mspA', '2xx').inc(2);
        counter.inc({ target: 'mspB', outcome: 'timeout' }, 1);
      }
      for (const histogram of histograms) {
        for (const value of OBSERVED) histogram.labels('mspA').observe(value);
        histogram.observe({ target: 'mspB' }, 0.2);
      }
    },
  };
}

test("the text Prometheus reads is prom-client's, to the byte", async () => {
  const { theirs, ours, update } = pair();
  expect(await ours.metrics()).toBe(await theirs.metrics());
  update();
  const text = await ours.metrics();
  expect(text).toContain('call_seconds_bucket{le="0.5",target="mspA"} 4');
  expect(text).toBe(await theirs.metrics());
});

test("the workers' figures are summed as prom-client's are", async () => {
  const workers = [pair(), pair()];
  for (const worker of workers) worker.update();
  const ours = AggregatorRegistry.aggregate(await Promise.all(workers.map((w) => w.ours.getMetricsAsJSON())));
  const theirs = AggregatorRegistry.aggregate(await Promise.all(workers.map((w) => w.theirs.getMetricsAsJSON())));
  const text = await ours.metrics();
  expect(text).toContain('calls_total{target="mspA",outcome="2xx"} 6');
  expect(text).toBe(await theirs.metrics());
});

test("a reset empties every series, as prom-client's reset does", async () => {
  const { theirs, ours, update } = pair();
  update();
  theirs.resetMetrics();
  ours.resetMetrics();
  expect(await ours.metrics()).toBe(await theirs.metrics());
});

test('label values that do not fit the label names are refused, not counted under a wrong set', () => {
  const counter = new FastCounter({ name: 'c_total', help: 'c', labelNames: ['a', 'b'] as const, registers: [] });
  expect(() => counter.labels('only one')).toThrow('2 label values expected');
  expect(() => counter.inc({ a: 'x', c: 'y' } as never)).toThrow('unknown label c');
  const histogram = new FastHistogram({ name: 'h_seconds', help: 'h', labelNames: ['a'] as const, buckets: BUCKETS, registers: [] });
  expect(() => histogram.labels('x').observe(Number.NaN)).toThrow('not a valid number');
});
