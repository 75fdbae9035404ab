/**
 * One coarse deadline wheel per process for the deadlines of a request's calls (its store calls,
 * its partner call): a timer per call cost a Timeout object, a place in Node's timer lists and a
 * libuv timer update on every set and every clear, about a twentieth of a request's instructions.
 * Here a deadline is an entry in the bucket of the tick it falls in, cancelling it is one flag, and
 * one interval turns the wheel while any deadline is live. A deadline fires up to one tick late:
 * the calls it bounds wait hundreds of milliseconds or more, and only a deadline that fails a call
 * would notice.
 */

/** the wheel's resolution */
export const TICK_MS = 20;

export interface Deadline {
  /** the call ended first: the deadline does nothing */
  cancel(): void;
}

class Entry implements Deadline {
  cancelled = false;

  constructor(private readonly fire: () => void) {}

  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    live -= 1;
  }

  run(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    live -= 1;
    this.fire();
  }
}

/** the deadlines of each tick still to come, by the tick's number */
const buckets = new Map<number, Entry[]>();
let live = 0;
let turned = 0;
let timer: NodeJS.Timeout | undefined;

/** `fire` once `ms` have passed, unless cancelled before */
export function deadlineIn(ms: number, fire: () => void): Deadline {
  const entry = new Entry(fire);
  const tick = Math.ceil((Date.now() + ms) / TICK_MS);
  const bucket = buckets.get(tick);
  if (bucket === undefined) buckets.set(tick, [entry]);
  else bucket.push(entry);
  live += 1;
  if (timer === undefined) {
    turned = Math.floor(Date.now() / TICK_MS);
    timer = setInterval(turn, TICK_MS);
  }
  return entry;
}

function turn(): void {
  const now = Math.floor(Date.now() / TICK_MS);
  for (; turned < now; ) {
    turned += 1;
    const due = buckets.get(turned);
    if (due === undefined) continue;
    buckets.delete(turned);
    for (const entry of due) entry.run();
  }
  // stopped once nothing is due any more; the buckets left hold only cancelled entries
  if (live === 0) {
    clearInterval(timer);
    timer = undefined;
    buckets.clear();
  }
}
