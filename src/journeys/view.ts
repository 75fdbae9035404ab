/**
 * A journey as the admin listener and `inspect journey` show it: found by its msp_token, an
 * activationCodeRequestID or an ICCID; its events, oldest first; where it waits.
 */
import type { JourneyEvent } from './event';
import type { Journeys, StuckAfter } from './journeys';
import { lookupsOf } from './lookup';
import { waitingOf, type Waiting } from './waiting';

export interface JourneyView {
  readonly mspToken: string;
  readonly waiting: Waiting | null;
  readonly events: readonly JourneyEvent[];
}

export async function findJourney(journeys: Journeys, id: string, stuckAfter: StuckAfter, now = Date.now()): Promise<JourneyView | undefined> {
  // this instance's events not yet written go first, so that what it just did shows
  await journeys.flush().catch(() => undefined);
  let journey = await journeys.read(id);
  for (const lookup of journey ? [] : lookupsOf(id)) {
    const token = await journeys.resolve(lookup);
    journey = token === undefined ? undefined : await journeys.read(token);
    if (journey) break;
  }
  if (!journey) return undefined;
  return { mspToken: journey.token, waiting: waitingOf(journey.events, stuckAfter, now) ?? null, events: journey.events };
}
