/** A journey as a timeline for the terminal (`aid-gateway inspect journey`): one line per event. */
import type { JourneyEvent } from './event';
import { factsOf } from './facts';
import type { JourneyView } from './view';

export function timelineText(view: JourneyView): string {
  const lines = [`journey of msp_token ${view.mspToken}: ${view.events.length} events, oldest first (UTC)`];
  for (const e of view.events) {
    const mark = view.waiting?.after === e.id ? (view.waiting.stuck ? '!!' : ' >') : '  ';
    lines.push(`${mark} ${lineOf(e)}`);
  }
  lines.push(view.waiting ? `${view.waiting.stuck ? 'STUCK' : 'waiting'}: ${view.waiting.sentence}` : 'waiting for nothing: the last step settled the journey');
  return `${lines.join('\n')}\n`;
}

function lineOf(e: JourneyEvent): string {
  const when = new Date(e.at).toISOString().replace('T', ' ').slice(0, 23);
  const pair = e.from || e.to ? `  ${e.from ?? '?'} -> ${e.to ?? '?'}` : '';
  const result = [e.outcome, e.status, e.code === undefined ? undefined : `code ${e.code}`].filter((x) => x !== undefined).join(' ');
  const facts = factsOf(e);
  return `${when}  ${e.operation}${pair}  ${result}\n     ${facts.join(' | ')}`;
}
