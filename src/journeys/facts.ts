/** An event's facts besides what and when, as the page and the terminal timeline list them. */
import type { JourneyEvent } from './event';

export function factsOf(e: JourneyEvent): string[] {
  return [
    e.detail,
    e.requestId && `request ${e.requestId}`,
    e.iccid && `ICCID ${e.iccid}`,
    e.eid && `EID ${e.eid}`,
    e.vehicle && `vehicle ${e.vehicle}`,
    e.latencyMs !== undefined && `${e.latencyMs} ms`,
    e.traceId && `trace ${e.traceId}`,
    `on ${e.instance}`,
  ].filter((f): f is string => typeof f === 'string' && f !== '');
}
