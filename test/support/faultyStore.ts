/**
 * A store that fails on purpose, over the real Redis store: on one chosen call it either runs the
 * command and then throws the deadline's error, as if the answer had been lost on its way back (a
 * timeout, a failover, a connection reset: `lost`), or throws before the command is sent (`before`).
 * The calls are numbered in the order the hub makes them; the outbox worker's reads (promoteDue,
 * receive, unfinished, claimStale) are numbered only when they took something, since a read that
 * took nothing changes nothing (a read that fails before it runs is a read that was not made: a `before` fault
 * armed on one, or on a call the test spares, goes to the next call instead).
 */
import { StoreDeadlineError } from '../../src/state/deadline';
import { mapPorts } from '../../src/state/storePorts';
import type { Store } from '../../src/state/store';

export type Fault = 'lost' | 'before';

const READS = new Set(['outbox.promoteDue', 'outbox.receive', 'outbox.unfinished', 'outbox.claimStale']);
/** reads and gauges that change nothing: never numbered */
const IDLE = new Set(['ledger.countPending', 'outbox.depth']);

export class FaultPlan {
  /** the numbered calls so far, by port and method */
  readonly calls: string[] = [];
  /** what the armed fault hit */
  hit?: string;
  private armed?: { index: number; readonly fault: Fault; readonly spare: (name: string) => boolean };

  /** `spare`: calls a `before` fault passes over to the next */
  arm(index: number, fault: Fault, spare: (name: string) => boolean = () => false): void {
    this.calls.length = 0;
    this.hit = undefined;
    this.armed = { index, fault, spare };
  }

  /** counts calls again, without a fault */
  reset(): void {
    this.calls.length = 0;
    this.hit = undefined;
    this.armed = undefined;
  }

  /** the call, numbered, with the fault when it is the armed one */
  async call(name: string, run: () => Promise<unknown>): Promise<unknown> {
    if (IDLE.has(name)) return run();
    if (READS.has(name)) {
      const result = await run();
      if (result === 0 || (Array.isArray(result) && result.length === 0)) return result;
      return this.numbered(name, true) ? lose(name) : result;
    }
    const faulty = this.numbered(name, false);
    if (!faulty) return run();
    if (faulty === 'before') throw new Error(`injected: ${name} failed before it ran`);
    await run();
    return lose(name);
  }

  private numbered(name: string, read: boolean): Fault | undefined {
    this.calls.push(name);
    const armed = this.armed;
    if (armed?.index !== this.calls.length - 1) return undefined;
    if (armed.fault === 'before' && (read || armed.spare(name))) {
      armed.index += 1;
      return undefined;
    }
    this.hit = `${armed.fault} ${name}`;
    return armed.fault;
  }
}

function lose(name: string): never {
  throw new StoreDeadlineError(name, 0);
}

export function faultyStore(store: Store, plan: FaultPlan): Store {
  const port = <T extends object>(target: T, name: string): T =>
    new Proxy(target, {
      get(obj, prop, receiver) {
        const value = Reflect.get(obj, prop, receiver) as unknown;
        if (typeof value !== 'function' || typeof prop !== 'string') return value;
        return (...args: unknown[]) => plan.call(`${name}.${prop}`, () => (value as (...a: unknown[]) => Promise<unknown>).apply(obj, args));
      },
    });
  return mapPorts(store, port, (namespace) => `records(${namespace})`);
}
