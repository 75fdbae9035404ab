/**
 * `aid_gateway_stuck_journeys{stage}`: the journeys waiting at a stage longer than its limit
 * (`journeyStuck*Seconds`), read from the store when scraped. With --workers every worker reports
 * the same figure (the shared store): the primary takes the first.
 */
import { Gauge, type Registry } from 'prom-client';
import { STAGES } from './event';
import type { JourneySources } from './journeys';

export const STUCK_JOURNEYS = 'aid_gateway_stuck_journeys';

export function stuckJourneysGauge(registry: Registry, sources: JourneySources): void {
  if (registry.getSingleMetric(STUCK_JOURNEYS)) return;
  new Gauge({
    name: STUCK_JOURNEYS,
    help: 'Activation journeys waiting at a stage longer than its configured limit: awaitingCode (a 201 and no Send Activation Code yet), awaitingCsimStatus (the code delivered, no Send CSIM Status yet)',
    labelNames: ['stage'] as const,
    aggregator: 'first',
    registers: [registry],
    async collect() {
      const counts = await sources.journeys.countStuck(sources.stuckAfter(), Date.now()).catch(() => undefined);
      for (const stage of STAGES) this.set({ stage }, counts?.[stage] ?? 0);
    },
  });
}
