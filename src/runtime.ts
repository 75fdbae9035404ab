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
import { Es2Client } from './dialects/es2plus/es2Client';
import { createEs2plusDialect } from './dialects/es2plus/es2plusDialect';
import { Es2Operator } from './dialects/es2plus/operator';
import type { Logger } from './log';
import { Upstream, type UpstreamGuards } from './upstream/upstream';

export interface Runtime {
  readonly generation: number;
  readonly config: Config;
  dialectFor(partner: Partner): Dialect;
  /** the ES2+ operators of this config, for their SM-DP+'s callbacks */
  readonly es2Operators: readonly Es2Operator[];
  /** marks a request as using this runtime; call the returned function when it is done */
  enter(): () => void;
  /** closes the upstream pools once every request that entered has left */
  retire(): Promise<void>;
}

export function buildRuntime(config: Config, generation: number, guards: UpstreamGuards, log: Logger): Runtime {
  const upstreams: Upstream[] = [];
  const es2Operators: Es2Operator[] = [];
  const dialects = new Map<string, Dialect>();
  for (const partner of config.partners.values()) {
    const upstream = new Upstream(partner, guards);
    upstreams.push(upstream);
    if (!partner.es2plus) {
      dialects.set(partner.id, createAid02Dialect(upstream));
      continue;
    }
    const webhook = partner.es2plus.webhook && new Upstream(partner, guards, partner.es2plus.webhook, `${partner.id}.webhook`);
    if (webhook) upstreams.push(webhook);
    const client = new Es2Client(upstream, partner.es2plus, guards.metrics);
    const operator = new Es2Operator(partner, partner.es2plus, client, guards.store, guards.metrics, log.child({ msp: partner.id }), config.settings.tokenBindingTtlSeconds);
    es2Operators.push(operator);
    dialects.set(partner.id, createEs2plusDialect(operator, webhook));
  }
  const idle = new EventEmitter();
  let active = 0;
  return {
    generation,
    config,
    es2Operators,
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
