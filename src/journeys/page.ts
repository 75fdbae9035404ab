/**
 * One journey as a page for operations: its events as a timeline, the step it waits at marked, and
 * in red when it waits past its stage's limit. Server-rendered, no script and no external asset;
 * the CSP of the touchpoint pages forbids anything else.
 */
import type { JourneyEvent } from './event';
import { factsOf } from './facts';
import { duration } from './waiting';
import type { JourneyView } from './view';

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

const STYLE = `body{font-family:system-ui,sans-serif;max-width:64em;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.3em}code{font-size:.95em}
ol{list-style:none;padding:0;border-left:3px solid #ccc;margin-left:.5em}
li{position:relative;padding:.5em .8em;margin:0 0 .4em 1em;border-radius:4px;background:#f6f6f6}
li:before{content:'';position:absolute;left:-1.45em;top:.9em;width:.7em;height:.7em;border-radius:50%;background:#999}
li.waiting{background:#fff6d6;outline:2px solid #e0b000}
li.stuck{background:#ffe1e1;outline:2px solid #c00}
li.stuck:before{background:#c00}
.when{color:#666;font-variant-numeric:tabular-nums}.op{font-weight:600}.meta{color:#555;font-size:.9em}
#waiting{padding:.6em .8em;border-radius:4px;background:#fff6d6}#waiting.stuck{background:#c00;color:#fff}`;

export function journeyPage(view: JourneyView, now: number): string {
  const { waiting } = view;
  const banner = waiting
    ? `<p id="waiting" class="${waiting.stuck ? 'stuck' : ''}">${waiting.stuck ? 'Stuck: ' : 'Waiting: '}${escape(waiting.sentence)}</p>`
    : '<p id="waiting">Waiting for nothing: the last step settled the journey.</p>';
  const items = view.events.map((e) => {
    const mark = waiting?.after === e.id ? (waiting.stuck ? 'stuck' : 'waiting') : '';
    return `<li class="${mark}" data-operation="${escape(e.operation)}">${eventHtml(e)}</li>`;
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Journey ${escape(view.mspToken)}</title><style>${STYLE}</style></head>
<body><h1>Activation journey of msp_token <code>${escape(view.mspToken)}</code></h1>
${banner}
<p class="meta">${view.events.length} events, oldest first; the last ${duration(now - (view.events.at(-1)?.at ?? now))} ago. Times in UTC.</p>
<ol id="events">
${items.join('\n')}
</ol>
</body></html>
`;
}

function eventHtml(e: JourneyEvent): string {
  const when = new Date(e.at).toISOString().replace('T', ' ').slice(0, 23);
  const pair = e.from || e.to ? ` ${escape(e.from ?? '?')} → ${escape(e.to ?? '?')}` : '';
  const status = e.status === undefined ? '' : ` ${e.status}`;
  const code = e.code === undefined ? '' : ` code ${escape(e.code)}`;
  const facts = factsOf(e);
  return `<span class="when">${when}</span> <span class="op">${escape(e.operation)}</span>${pair}: <span class="outcome">${escape(e.outcome)}${status}${code}</span><br><span class="meta">${facts.map(escape).join(' · ')}</span>`;
}
