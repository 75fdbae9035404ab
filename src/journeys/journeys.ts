/**
 * The journeys port of the hub's store (state/store.ts): each msp_token's events, capped at a
 * number of events and living as long as the token's binding, with the ids (activationCodeRequestID,
 * ICCID) that lead to it and where each journey waits. Redis (redisJourneys.ts) and memory
 * (memoryJourneys.ts) keep the same caps.
 */
import type { JourneyEvent, JourneyLookup, JourneyStage, JourneyWrite } from './event';

export interface Journey {
  readonly token: string;
  /** oldest first */
  readonly events: readonly JourneyEvent[];
}

export interface WaitingJourney {
  readonly token: string;
  readonly stage: JourneyStage;
  /** since when it waits (epoch ms) */
  readonly since: number;
}

/** seconds a journey may wait at each stage before it counts as stuck */
export type StuckAfter = Readonly<Record<JourneyStage, number>>;

export interface Journeys {
  /** kept for the store's next write (Redis) or at once (memory); never fails, never waits */
  record(write: JourneyWrite): void;
  read(token: string): Promise<Journey | undefined>;
  /** the msp_token an id leads to */
  resolve(lookup: JourneyLookup): Promise<string | undefined>;
  /** the journeys waiting longer than `stuckAfter` at their stage, the longest first */
  stuck(stuckAfter: StuckAfter, now: number): Promise<WaitingJourney[]>;
  /** how many of them per stage */
  countStuck(stuckAfter: StuckAfter, now: number): Promise<Record<JourneyStage, number>>;
  /** writes what it holds (Redis: the events waiting for a script to ride on) */
  flush(): Promise<void>;
}

/** events oldest first, each once (an append made again after its answer was lost leaves two) */
export function ordered(events: readonly JourneyEvent[]): JourneyEvent[] {
  const seen = new Set<string>();
  return events.filter((e) => !seen.has(e.id) && seen.add(e.id)).sort((a, b) => a.at - b.at);
}

/** what the admin views and the stuck gauge read */
export interface JourneySources {
  readonly journeys: Journeys;
  stuckAfter(): StuckAfter;
}
