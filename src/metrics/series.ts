/**
 * Counters and histograms for the metrics updated on every request. prom-client checks and hashes
 * a metric's labels on every update, and every request updates six of them; these keep one series
 * object per label set, found once (`labels`) and then updated by plain arithmetic. They take the
 * place of prom-client's own in its registry: `get()` answers in prom-client's shape (the one the
 * text format and the workers' aggregation read), so the exposition is the same to the byte.
 */
import type { Metric, Registry } from 'prom-client';

type Labels = Record<string, string>;

/** what prom-client's registry reads of a metric (its text format, the workers' aggregation) */
interface Exposed {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'histogram';
  readonly aggregator: 'sum';
  readonly values: { readonly labels: Record<string, string | number>; readonly value: number; readonly metricName?: string }[];
}

interface Options<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  readonly registers: readonly Registry[];
}

/** the series of one label set of a counter */
export interface CounterSeries {
  inc(value?: number): void;
}

/** the series of one label set of a histogram */
export interface HistogramSeries {
  observe(value: number): void;
}

/** the label sets of a metric, each made on its first use */
abstract class Labelled<L extends string, S> {
  readonly aggregator = 'sum' as const;
  readonly name: string;
  readonly help: string;
  private readonly labelNames: readonly L[];
  protected readonly series = new Map<string, { readonly labels: Labels; readonly series: S }>();

  constructor(options: Options<L>) {
    this.name = options.name;
    this.help = options.help;
    this.labelNames = options.labelNames;
    for (const registry of options.registers) registry.registerMetric(this as unknown as Metric);
  }

  /** the series of these label values, in labelNames' order */
  labels(...values: string[]): S {
    const key = values.length === 1 ? values[0] : values.join('\u0001');
    let found = this.series.get(key);
    if (found === undefined) {
      if (values.length !== this.labelNames.length) throw new Error(`${this.name}: ${this.labelNames.length} label values expected, got ${values.length}`);
      const labels: Labels = {};
      this.labelNames.forEach((name, i) => (labels[name] = values[i]));
      found = { labels, series: this.create() };
      this.series.set(key, found);
    }
    return found.series;
  }

  /** the series of these labels, by name */
  protected of(labels: Partial<Record<L, string>>): S {
    for (const name of Object.keys(labels)) {
      if (!(this.labelNames as readonly string[]).includes(name)) throw new Error(`${this.name}: unknown label ${name}`);
    }
    return this.labels(...this.labelNames.map((name) => labels[name] ?? ''));
  }

  reset(): void {
    this.series.clear();
  }

  protected abstract create(): S;
}

export class FastCounter<L extends string> extends Labelled<L, CounterSeries & { value: number }> {
  readonly type = 'counter' as const;

  inc(labels: Partial<Record<L, string>>, value = 1): void {
    this.of(labels).inc(value);
  }

  protected create(): CounterSeries & { value: number } {
    return {
      value: 0,
      inc(by = 1) {
        this.value += by;
      },
    };
  }

  async get(): Promise<Exposed> {
    const values = [...this.series.values()].map(({ labels, series }) => ({ value: series.value, labels: { ...labels } }));
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}

interface Buckets extends HistogramSeries {
  /** observations per bucket (not cumulative); the last counts those above every bound */
  readonly counts: number[];
  sum: number;
  count: number;
}

export class FastHistogram<L extends string> extends Labelled<L, Buckets> {
  readonly type = 'histogram' as const;
  private readonly bounds: readonly number[];

  constructor(options: Options<L> & { readonly buckets: readonly number[] }) {
    super(options);
    this.bounds = [...options.buckets].sort((a, b) => a - b);
  }

  observe(labels: Partial<Record<L, string>>, value: number): void {
    this.of(labels).observe(value);
  }

  protected create(): Buckets {
    const bounds = this.bounds;
    return {
      counts: new Array<number>(bounds.length + 1).fill(0),
      sum: 0,
      count: 0,
      observe(value: number) {
        if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
        let i = 0;
        while (i < bounds.length && value > bounds[i]) i++;
        this.counts[i]++;
        this.sum += value;
        this.count++;
      },
    };
  }

  async get(): Promise<Exposed> {
    const values: Exposed['values'] = [];
    for (const { labels, series } of this.series.values()) {
      let cumulative = 0;
      this.bounds.forEach((bound, i) => {
        cumulative += series.counts[i];
        values.push({ labels: { le: bound, ...labels }, value: cumulative, metricName: `${this.name}_bucket` });
      });
      values.push(
        { labels: { le: '+Inf', ...labels }, value: series.count, metricName: `${this.name}_bucket` },
        { labels: { ...labels }, value: series.sum, metricName: `${this.name}_sum` },
        { labels: { ...labels }, value: series.count, metricName: `${this.name}_count` },
      );
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}
