/**
 * The kit's results three ways: lines on the terminal as the checks run (a progress bar where the
 * terminal is one), JUnit XML for CI, and an HTML page a partner can be sent (what passed, what
 * failed, the request and answer of each failure). Whatever leaves the kit goes through `mask`:
 * credentials, in headers or anywhere in a text, never appear.
 */
import type { Exchange, Result } from './runner';

/** what a report says of its run: whom it checked, when, and with which version of the kit */
export interface RunInfo {
  readonly title: string;
  readonly startedAt: Date;
  readonly version: string;
}

/** a failing answer's body on the terminal: enough to see the partner's error, never a page of it */
const BODY_ON_TERMINAL = 400;

export interface Summary {
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
}

export function summarize(results: readonly Result[]): Summary {
  const count = (outcome: Result['outcome']) => results.filter((r) => r.outcome === outcome).length;
  return { passed: count('passed'), failed: count('failed'), skipped: count('skipped') };
}

const SECRET_HEADERS = new Set(['api-key', 'authorization']);

/** a function that blanks every secret of the run in a text */
export function masker(secrets: readonly string[]): (text: string) => string {
  const known = secrets.filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
  return (text) => known.reduce((t, secret) => t.split(secret).join('[masked]'), text);
}

export function maskedHeaders(headers: Readonly<Record<string, string>>, mask: (text: string) => string): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, SECRET_HEADERS.has(k.toLowerCase()) ? '[masked]' : mask(v)]));
}

/** the line of one finished check (a failure with the answer that failed it), and a progress bar before it where `tty` */
export function progressLine(result: Result, done: number, total: number, tty: boolean, mask: (text: string) => string): string {
  const mark = result.outcome === 'passed' ? 'PASS' : result.outcome === 'failed' ? 'FAIL' : 'SKIP';
  const details = [...result.reasons];
  const answer = result.outcome === 'failed' ? [...result.exchanges].reverse().find((e) => e.answer !== undefined)?.answer : undefined;
  if (answer) details.push(`answer: ${answer.status} ${clip(mask(answer.body.replace(/\s+/g, ' ')), BODY_ON_TERMINAL) || '(no body)'}`);
  const line = `${mark} ${result.check.id}  ${result.check.title}  [${result.check.section}]${details.length > 0 ? `\n       ${details.join('\n       ')}` : ''}`;
  if (!tty) return `${line}\n`;
  const width = 30;
  const filledWidth = Math.round((done / total) * width);
  return `\r\x1b[2K${line}\n[${'#'.repeat(filledWidth)}${'-'.repeat(width - filledWidth)}] ${done}/${total}`;
}

export function terminalSummary(summary: Summary, role: string, url: string, run: RunInfo): string {
  return `\nAID.02 conformance of the ${role.toUpperCase()} at ${url}: ${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped\n(${runLine(run)})\n`;
}

/** when the run started and what ran it, as every report says it */
function runLine(run: RunInfo): string {
  return `run ${run.startedAt.toISOString()} by aid-gateway ${run.version}`;
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}… (${text.length} characters)` : text;
}

export function junitXml(results: readonly Result[], run: RunInfo, mask: (text: string) => string): string {
  const suite = run.title;
  const summary = summarize(results);
  const seconds = (ms: number) => (ms / 1000).toFixed(3);
  const cases = results.map((r) => {
    const name = xml(`${r.check.id}: ${r.check.title} [${r.check.section}]`);
    const open = `    <testcase classname="${xml(r.check.procedure)}" name="${name}" time="${seconds(r.ms)}">`;
    if (r.outcome === 'passed') return `${open}</testcase>`;
    if (r.outcome === 'skipped') return `${open}<skipped message="${xml(r.reasons.join('; '))}"/></testcase>`;
    return `${open}\n      <failure message="${xml(mask(r.reasons.join('; ')))}">${xml(mask(exchangesText(r.exchanges, mask)))}</failure>\n    </testcase>`;
  });
  const total = results.reduce((ms, r) => ms + r.ms, 0);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites tests="${results.length}" failures="${summary.failed}" skipped="${summary.skipped}" time="${seconds(total)}">`,
    // JUnit's timestamp is ISO 8601 without a zone (the time is UTC)
    `  <testsuite name="${xml(suite)}" tests="${results.length}" failures="${summary.failed}" skipped="${summary.skipped}" time="${seconds(total)}" timestamp="${run.startedAt.toISOString().slice(0, 19)}">`,
    `    <properties><property name="aid-gateway.version" value="${xml(run.version)}"/></properties>`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

export function htmlReport(results: readonly Result[], run: RunInfo, mask: (text: string) => string): string {
  const title = run.title;
  const summary = summarize(results);
  const rows = results
    .map((r) => {
      const details =
        r.outcome === 'failed'
          ? `<details><summary>${html(mask(r.reasons.join('; ')))}</summary><pre>${html(mask(exchangesText(r.exchanges, mask)))}</pre></details>`
          : html(r.reasons.join('; '));
      return `<tr class="${r.outcome}"><td>${r.outcome}</td><td>${html(r.check.procedure)}</td><td><b>${html(r.check.id)}</b> ${html(r.check.title)}</td><td>${html(r.check.section)}</td><td>${details}</td></tr>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${html(title)}</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
tr.passed td:first-child{color:#070}tr.failed td:first-child{color:#b00;font-weight:bold}tr.skipped td:first-child{color:#777}pre{white-space:pre-wrap;font-size:90%}</style></head>
<body><h1>${html(title)}</h1>
<p>${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped. Credentials are masked.</p>
<p>${html(runLine(run))}</p>
<table><thead><tr><th>result</th><th>procedure</th><th>check</th><th>AID.02</th><th>why</th></tr></thead><tbody>
${rows}
</tbody></table></body></html>
`;
}

/** the requests and answers of a check, as text; headers that carry credentials blanked */
function exchangesText(exchanges: readonly Exchange[], mask: (text: string) => string): string {
  return exchanges
    .map((e) => {
      const parts: string[] = [];
      if (e.request)
        parts.push(`> ${e.request.method} ${e.request.url}\n${headerLines(e.request.headers, mask, '> ')}${e.request.body ? `>\n> ${e.request.body}` : ''}`);
      if (e.answer)
        parts.push(`< ${e.answer.status} (${e.answer.ms} ms)\n${headerLines(e.answer.headers, mask, '< ')}${e.answer.body ? `<\n< ${e.answer.body}` : ''}`);
      if (e.delivery) parts.push(`Send Activation Code received: POST ${e.delivery.path}\n${headerLines(e.delivery.headers, mask, '  ')}  ${e.delivery.body}`);
      return parts.join('\n');
    })
    .join('\n\n');
}

function headerLines(headers: Readonly<Record<string, string>>, mask: (text: string) => string, prefix: string): string {
  return Object.entries(maskedHeaders(headers, mask))
    .map(([k, v]) => `${prefix}${k}: ${v}\n`)
    .join('');
}

/** characters XML 1.0 cannot carry at all: they are dropped */
// eslint-disable-next-line no-control-regex -- those control characters are what the pattern is for
const NOT_IN_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g;

function xml(text: string): string {
  return text.replace(NOT_IN_XML, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function html(text: string): string {
  return xml(text).replace(/'/g, '&#39;');
}
