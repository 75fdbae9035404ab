/**
 * Journeys in memory, for the single node and the quick start: the caps of the Redis journeys
 * (events per journey, a lifetime renewed by each event) and a cap on journeys, the oldest written
 * going first.
 */
import { STAGES, type JourneyEvent, type JourneyLookup, type JourneyStage, type JourneyWrite } from '../../journeys/event';
import { ordered, type Journey, type Journeys, type StuckAfter, type WaitingJourney } from '../../journeys/journeys';
import { lookupId } from '../../journeys/lookup';

/** a journey is a few KB at most: 10 000 of them stay far below the store's own entries */
export const MAX_MEMORY_JOURNEYS = 10000;

interface Kept {
  readonly events: JourneyEvent[];
  expiresAt: number;
  waiting?: { readonly stage: JourneyStage; readonly since: number };
}

export class MemoryJourneys implements Journeys {
  private readonly journeys = new Map<string, Kept>();
  private readonly lookups = new Map<string, { readonly token: string; readonly expiresAt: number }>();

  constructor(private readonly maxJourneys = MAX_MEMORY_JOURNEYS) {}

  record(write: JourneyWrite): void {
    const now = Date.now();
    const token = write.token ?? (write.via && this.lookup(write.via, now));
    if (token === undefined) return;
    const expiresAt = now + write.ttlSeconds * 1000;
    const kept: Kept = this.live(token, now) ?? { events: [], expiresAt };
    kept.events.push(write.event);
    kept.events.splice(0, Math.max(0, kept.events.length - write.maxEvents));
    kept.expiresAt = expiresAt;
    const { stage } = write.event;
    if (stage === 'settled') kept.waiting = undefined;
    else if (stage !== undefined) kept.waiting = { stage, since: write.event.at };
    // the most recently written last: the first in the map goes when the cap is reached
    this.journeys.delete(token);
    this.journeys.set(token, kept);
    for (const lookup of write.indexes) this.lookups.set(lookupId(lookup), { token, expiresAt });
    this.evict();
  }

  async read(token: string): Promise<Journey | undefined> {
    const kept = this.live(token, Date.now());
    return kept && { token, events: ordered(kept.events) };
  }

  async resolve(lookup: JourneyLookup): Promise<string | undefined> {
    return this.lookup(lookup, Date.now());
  }

  async stuck(stuckAfter: StuckAfter, now: number): Promise<WaitingJourney[]> {
    const found: WaitingJourney[] = [];
    for (const [token, kept] of this.journeys) {
      const { waiting } = kept;
      if (kept.expiresAt > now && waiting && now - waiting.since > stuckAfter[waiting.stage] * 1000) found.push({ token, ...waiting });
    }
    return found.sort((a, b) => a.since - b.since);
  }

  async countStuck(stuckAfter: StuckAfter, now: number): Promise<Record<JourneyStage, number>> {
    const counts = Object.fromEntries(STAGES.map((s) => [s, 0])) as Record<JourneyStage, number>;
    for (const journey of await this.stuck(stuckAfter, now)) counts[journey.stage] += 1;
    return counts;
  }

  async flush(): Promise<void> {}

  private live(token: string, now: number): Kept | undefined {
    const kept = this.journeys.get(token);
    if (kept && kept.expiresAt <= now) this.journeys.delete(token);
    return kept && kept.expiresAt > now ? kept : undefined;
  }

  private lookup(lookup: JourneyLookup, now: number): string | undefined {
    const found = this.lookups.get(lookupId(lookup));
    return found && found.expiresAt > now ? found.token : undefined;
  }

  private evict(): void {
    for (const token of this.journeys.keys()) {
      if (this.journeys.size <= this.maxJourneys) break;
      this.journeys.delete(token);
    }
    // lookups outlive no journey by much: past twice the cap, the expired and the orphaned go
    if (this.lookups.size <= 2 * this.maxJourneys) return;
    const now = Date.now();
    for (const [id, found] of this.lookups) if (found.expiresAt <= now || !this.journeys.has(found.token)) this.lookups.delete(id);
  }
}
