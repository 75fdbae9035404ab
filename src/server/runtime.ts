/**
 * A Runtime is one loaded config plus what it needs to serve: an upstream pool and a dialect per
 * partner. It is built once per load. A request enters the runtime in service when it arrives and
 * keeps it to the end, so a reload never changes a request halfway; a retired runtime closes its
 * pools once the last request that entered it has left.
 */
import { touchpointRoutes } from '../touchpoints/touchpointRoutes';
import { once, EventEmitter } from 'node:events';
import type { Config, Partner } from '../config/types';
import { DIALECTS } from '../dialects';
import type { DialectInstance, DialectModule } from '../dialects/dialect';
import type { InboundRoute } from '../dialects/inbound';
import type { Logger } from '../log';
import type { Runtime, Stage } from '../pipeline/types';
import { repeat } from '../repeat';
import { createKnownSeries } from '../metrics/knownSeries';
import { Upstream, type UpstreamGuards } from '../upstream/upstream';
import { JourneyRecorder } from '../journeys/recorder';

/** the edge for a config's inbound routes (router.ts) */
export type EdgeBuilder = (inbound: readonly InboundRoute[]) => Stage;

/** each partner's dialect instance, built once per config through the registry, and the edge */
export function buildRuntime(
  config: Config,
  generation: number,
  guards: UpstreamGuards,
  log: Logger,
  edge: EdgeBuilder,
  modules: readonly DialectModule[] = DIALECTS,
): Runtime {
  const upstreams: Upstream[] = [];
  const dialects = new Map<string, DialectInstance>();
  // the touchpoints (AID.02 4.1, 4.2) are the hub's own; each dialect adds its partners' routes
  const inboundRoutes: InboundRoute[] = touchpointRoutes();
  for (const module of modules) {
    const instances: DialectInstance[] = [];
    for (const partner of config.partners.values()) {
      if (partner.dialect !== module.name) continue;
      const upstream = new Upstream(partner, guards);
      upstreams.push(upstream);
      const instance = module.build(partner, partner.settings, {
        upstream,
        upstreamFor: (target, name) => {
          const extra = new Upstream(partner, guards, target, name);
          upstreams.push(extra);
          return extra;
        },
        records: guards.store.records(partner.id),
        outbox: guards.store.outbox,
        metrics: guards.metrics,
        log: log.child({ [partner.role]: partner.id }),
        settings: config.settings,
        journey: new JourneyRecorder(guards.store.journeys, () => config.settings),
      });
      dialects.set(partner.id, instance);
      instances.push(instance);
    }
    if (instances.length === 0) continue;
    inboundRoutes.push(...(module.routes?.(instances) ?? []));
  }
  // the series this config's partners and routes will feed, at 0 before their first event
  createKnownSeries(guards.metrics, config);
  // each dialect instance's background work, while this config is in service
  const instances = [...dialects.values()];
  const routines = instances.flatMap((instance) =>
    (instance.routines ?? []).map((routine) =>
      repeat(
        () => routine.run(),
        () => routine.everyMs,
        (err) => log.error({ routine: routine.name, err: err.message }, 'dialect routine run failed'),
      ),
    ),
  );
  const idle = new EventEmitter();
  let active = 0;
  return {
    generation,
    config,
    router: edge(inboundRoutes),
    dialectFor(partner: Partner): DialectInstance {
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
      await Promise.all(routines.map((r) => r.stop()));
      await Promise.all(instances.map(async (i) => i.close?.()));
      await Promise.all(upstreams.map((u) => u.close()));
    },
  };
}
