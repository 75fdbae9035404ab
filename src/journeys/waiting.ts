/**
 * Where a journey waits and whether it is stuck there, in the words an operator is asked in: "201
 * sent 14:02:11, no Send Activation Code from mspBeta for 3 h". The JSON view, the page and the
 * terminal timeline all say it the same way.
 */
import type { JourneyEvent, JourneyStage } from './event';
import type { StuckAfter } from './journeys';

export interface Waiting {
  readonly stage: JourneyStage;
  readonly since: number;
  /** the event the journey waits after (its id) */
  readonly after: string;
  readonly stuck: boolean;
  readonly sentence: string;
}

/** where the journey waits now: after its last event that moved it, unless that settled it */
export function waitingOf(events: readonly JourneyEvent[], stuckAfter: StuckAfter, now: number): Waiting | undefined {
  const last = [...events].reverse().find((e) => e.stage !== undefined);
  if (!last || last.stage === undefined || last.stage === 'settled') return undefined;
  const stage = last.stage;
  const waited = now - last.at;
  const cmp = last.operation === 'requestActivationCode' ? last.from : last.to;
  const msp = last.operation === 'requestActivationCode' ? last.to : last.from;
  const done =
    stage === 'awaitingCode'
      ? `${last.status === 201 ? '201' : last.status === undefined ? 'activation code requested' : `${last.status} answered`} ${clock(last.at)}`
      : `activation code ${last.operation === 'requestActivationCode' ? 'sent' : 'delivered'} ${clock(last.at)}`;
  const missing = stage === 'awaitingCode' ? `no Send Activation Code from ${msp ?? 'the MSP'}` : `no Send CSIM Status from ${cmp ?? 'the CMP'}`;
  return { stage, since: last.at, after: last.id, stuck: waited > stuckAfter[stage] * 1000, sentence: `${done}, ${missing} for ${duration(waited)}` };
}

/** `14:02:11` (UTC) */
export function clock(at: number): string {
  return new Date(at).toISOString().slice(11, 19);
}

/** `3 h`, `12 min`, `40 s`, `2 d` */
export function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.floor(s / 60)} min`;
  if (s < 172800) return `${Math.floor(s / 3600)} h`;
  return `${Math.floor(s / 86400)} d`;
}
