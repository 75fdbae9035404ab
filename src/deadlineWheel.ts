/**
 * One coarse deadline wheel per process for the deadlines of a request's calls (its store calls,
 * its partner call): a timer per call cost a Timeout object, a place in Node's timer lists and a
 * libuv timer update on every set and every clear. Here a deadline is an entry in the bucket of
 * the tick it falls in; a bucket whose deadlines all ended first is dropped at once, and one timer
 * waits for the earliest bucket left. Calls end long before their deadlines, so that timer fires
 * about once per deadline's length whatever the rate of requests, and finds little to do. A
 * deadline fires up to one tick late: the calls it bounds wait seconds, and only a deadline that
 * fails a call would notice.
 */

/** the wheel's resolution */
export const TICK_MS = 20;

export interface Deadline {
  /** the call ended first: the deadline does nothing */
  cancel(): void;
}

class Bucket {
  readonly entries: Entry[] = [];
  live = 0;

  constructor(readonly tick: number) {}
}

class Entry implements Deadline {
  private done = false;

  constructor(
    private readonly fire: () => void,
    private readonly bucket: Bucket,
  ) {}

  cancel(): void {
    if (this.done) return;
    this.done = true;
    this.bucket.live -= 1;
    if (this.bucket.live === 0 && buckets.get(this.bucket.tick) === this.bucket) buckets.delete(this.bucket.tick);
  }

  run(): void {
    if (this.done) return;
    this.done = true;
    this.fire();
  }
}

/** the buckets with a live deadline, by their tick's number */
const buckets = new Map<number, Bucket>();
let timer: NodeJS.Timeout | undefined;
/** the tick the timer waits for */
let armedTick = 0;

/** `fire` once `ms` have passed, unless cancelled before */
export function deadlineIn(ms: number, fire: () => void): Deadline {
  const tick = Math.ceil((Date.now() + ms) / TICK_MS);
  let bucket = buckets.get(tick);
  if (bucket === undefined) {
    bucket = new Bucket(tick);
    buckets.set(tick, bucket);
  }
  const entry = new Entry(fire, bucket);
  bucket.entries.push(entry);
  bucket.live += 1;
  if (timer === undefined || tick < armedTick) arm(tick);
  return entry;
}

/** the timer holds no process open: a deadline matters only while its call is under way, and the
 * call's own connection holds the process */
function arm(tick: number): void {
  if (timer !== undefined) clearTimeout(timer);
  armedTick = tick;
  timer = setTimeout(turn, Math.max(0, tick * TICK_MS - Date.now()));
  timer.unref();
}

function turn(): void {
  timer = undefined;
  const now = Date.now();
  let next: number | undefined;
  for (const [tick, bucket] of buckets) {
    if (tick * TICK_MS <= now) {
      buckets.delete(tick);
      for (const entry of bucket.entries) entry.run();
    } else if (next === undefined || tick < next) {
      next = tick;
    }
  }
  if (next !== undefined && (timer === undefined || next < armedTick)) arm(next);
}
