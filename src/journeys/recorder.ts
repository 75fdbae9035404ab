/**
 * What the pipeline, the outbox worker and the dialects hand their journey events to: it stamps
 * them (id, time, instance), masks the identifiers as the operator chose, and gives them to the
 * store's journeys with the binding's lifetime and the cap. Switched off, it records nothing.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { HubSettings } from '../config/types';
import { masked, type JourneyEvent, type JourneyLookup } from './event';
import type { Journeys, StuckAfter } from './journeys';

/** an event as its source knows it: identifiers in full (masked here), the stamp still to come */
export type Told = Omit<JourneyEvent, 'id' | 'at' | 'instance'>;

/** which journey an event belongs to: its msp_token, or an id that leads to it */
export type JourneyOf = { readonly token: string } | { readonly via: JourneyLookup };

/** a dialect's steps, for its partner (dialect.ts DialectServices) */
export interface JourneySteps {
  step(of: JourneyOf, told: Told, indexes?: readonly JourneyLookup[]): void;
}

export const INSTANCE = `${hostname()}:${process.pid}`;

export class JourneyRecorder implements JourneySteps {
  constructor(
    readonly journeys: Journeys,
    private readonly settings: () => HubSettings,
  ) {}

  get enabled(): boolean {
    return this.settings().journeys;
  }

  step(of: JourneyOf, told: Told, indexes: readonly JourneyLookup[] = []): void {
    const settings = this.settings();
    if (!settings.journeys) return;
    const full = settings.journeyFullIdentifiers;
    // one shape for every event, each member written out: spreads followed by members made V8
    // define each added member through its runtime on every request (measured under callgrind)
    const event: JourneyEvent = {
      id: randomUUID(),
      at: Date.now(),
      instance: INSTANCE,
      operation: told.operation,
      from: told.from,
      to: told.to,
      outcome: told.outcome,
      status: told.status,
      code: told.code,
      latencyMs: told.latencyMs,
      traceId: told.traceId,
      requestId: told.requestId,
      iccid: told.iccid === undefined ? undefined : masked(told.iccid, full),
      eid: told.eid === undefined ? undefined : masked(told.eid, full),
      vehicle: told.vehicle === undefined ? undefined : masked(told.vehicle, full),
      detail: told.detail,
      stage: told.stage,
    };
    const token = 'token' in of ? of.token : undefined;
    const via = 'via' in of ? of.via : undefined;
    this.journeys.record({ token, via, indexes, event, ttlSeconds: settings.tokenBindingTtlSeconds, maxEvents: settings.journeyMaxEvents });
  }

  stuckAfter(): StuckAfter {
    const settings = this.settings();
    return { awaitingCode: settings.journeyStuckAwaitingCodeSeconds, awaitingCsimStatus: settings.journeyStuckAwaitingCsimStatusSeconds };
  }
}

/** the lookups an activationCodeRequestID and an ICCID give, where present */
export function lookupsFor(requestId: string | undefined | null, iccid: string | undefined | null): JourneyLookup[] {
  return [...(requestId ? [{ kind: 'request' as const, value: requestId }] : []), ...(iccid ? [{ kind: 'iccid' as const, value: iccid }] : [])];
}
