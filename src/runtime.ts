/**
 * A Runtime is one loaded config plus what it needs to serve: an upstream pool and a dialect per
 * partner. It is built once per load. A request enters the runtime in service when it arrives and
 * keeps it to the end, so a reload never changes a request halfway; a retired runtime closes its
 * pools once the last request that entered it has left.
 */
import { once, EventEmitter } from 'node:events';
import type { Config, Partner } from './config/types';
import { createAid02Dialect } from './dialects/aid02/forward';
import type { Dialect } from './dialects/dialect';
import { Upstream, type UpstreamGuards } from './upstream/upstream';

export interface Runtime {
  readonly generation: number;
  readonly config: Config;
  dialectFor(partner: Partner): Dialect;
  /** marks a request as using this runtime; call the returned function when it is done */
  enter(): () => void;
  /** closes the upstream pools once every request that entered has left */
  retire(): Promise<void>;
}

export function buildRuntime(config: Config, generation: number, guards: UpstreamGuards): Runtime {
  const upstreams = [...config.partners.values()].map((partner) => new Upstream(partner, guards));
  const dialects = new Map<string, Dialect>(upstreams.map((u) => [u.partner.id, createAid02Dialect(u)]));
  const idle = new EventEmitter();
  let active = 0;
  return {
    generation,
    config,
    dialectFor(partner: Partner): Dialect {
      const dialect = dialects.get(partner.id);
      if (!dialect) throw new Error(`no dialect for partner ${partner.id}`);
      return dialect;
    },
    enter(): () => void {
      active += 1;
      let left = false;
      return () => {
        if (left) return;
        left = true;
        active -= 1;
        if (active === 0) idle.emit('idle');
      };
    },
    async retire(): Promise<void> {
      if (active > 0) await once(idle, 'idle');
      await Promise.all(upstreams.map((u) => u.close()));
    },
  };
}
