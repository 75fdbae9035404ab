/**
 * Plays the other side of AID.02 against a partner's pre-production endpoint, check by check
 * (plan.ts), and judges every answer by what AID.02 allows: the statuses the check names, the
 * statuses and bodies Annex B documents for the operation, the error body of 5.5 on every refusal,
 * the 3 seconds of 7.7.1, and for an MSP's 201 the Send Activation Code that must follow (7.7.2),
 * with the request's ids echoed. Nothing here knows how results are shown (report.ts).
 */
import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import tls from 'node:tls';
import { Agent, request } from 'undici';
import type { Role } from '../config/types';
import type { Apis } from '../openapi/apis';
import type { OperationId } from '../openapi/operations';
import type { Check, Expect, TlsCheck } from './plan';
import type { Delivery, DeliveryInbox } from './deliveryInbox';

export type Credential = { readonly apiKey: string } | { readonly username: string; readonly password: string };

export interface KitOptions {
  readonly role: Role;
  /** the partner's AID.02 base URL; the operations' paths are appended */
  readonly url: string;
  readonly credential?: Credential;
  readonly tls?: { readonly cert?: Buffer; readonly key?: Buffer; readonly ca?: Buffer };
  /** who the kit is at the partner (client-id), and who the partner is (target-id) */
  readonly clientId: string;
  readonly targetId: string;
  /** an MSP: the msp_token of its test user; a CMP: the account id its test user was given */
  readonly mspToken?: string;
  readonly accountId?: string;
  /** the EID of the test car the kit asks codes for and reports statuses of */
  readonly eid: string;
  readonly allowDestructive: boolean;
  readonly requestTimeoutMs: number;
  readonly deliveryTimeoutMs: number;
  /** an MSP delivers its codes here (the kit plays its CMP) */
  readonly inbox?: DeliveryInbox;
}

export interface Exchange {
  readonly request?: { readonly method: string; readonly url: string; readonly headers: Readonly<Record<string, string>>; readonly body?: string };
  readonly answer?: { readonly status: number; readonly headers: Readonly<Record<string, string>>; readonly body: string; readonly ms: number };
  readonly delivery?: { readonly path: string; readonly headers: Readonly<Record<string, string>>; readonly body: string };
}

export type Outcome = 'passed' | 'failed' | 'skipped';

export interface Result {
  readonly check: Check;
  readonly outcome: Outcome;
  readonly reasons: readonly string[];
  readonly exchanges: readonly Exchange[];
  readonly ms: number;
}

interface Context {
  readonly kept: { iccid?: string };
  readonly passed: Set<string>;
  /** a CMP: the msp_token the kit issued to its test user (Send MSP Token) */
  readonly issuedToken: string;
  readonly eid: string;
}

export async function runChecks(
  checks: readonly Check[],
  apis: Apis,
  options: KitOptions,
  progress: (done: number, result: Result) => void,
): Promise<Result[]> {
  // the partner's server certificate is always verified: against --tls-ca, else the system's CAs
  const agent = new Agent({ connect: { ...options.tls }, headersTimeout: options.requestTimeoutMs, bodyTimeout: options.requestTimeoutMs });
  const context: Context = { kept: {}, passed: new Set(), issuedToken: randomUUID(), eid: options.eid };
  const results: Result[] = [];
  try {
    for (const check of checks) {
      const started = Date.now();
      const exchanges: Exchange[] = [];
      const verdict = await judge(check, { apis, options, agent, context, exchanges });
      const result = { check, outcome: verdict.outcome, reasons: verdict.reasons, exchanges, ms: Date.now() - started };
      if (verdict.outcome === 'passed') context.passed.add(check.id);
      results.push(result);
      progress(results.length, result);
    }
  } finally {
    await agent.close();
  }
  return results;
}

interface Run {
  readonly apis: Apis;
  readonly options: KitOptions;
  readonly agent: Agent;
  readonly context: Context;
  readonly exchanges: Exchange[];
}

type Verdict = { readonly outcome: Outcome; readonly reasons: string[] };

const skipped = (reason: string): Verdict => ({ outcome: 'skipped', reasons: [reason] });

async function judge(check: Check, run: Run): Promise<Verdict> {
  if (check.destructive && !run.options.allowDestructive) return skipped('destructive: runs with --allow-destructive only');
  if (check.after !== undefined && !run.context.passed.has(check.after)) return skipped(`runs once ${check.after} has passed`);
  if (check.needs === 'iccid' && run.context.kept.iccid === undefined) return skipped('needs an ICCID the partner issued (from rac-code)');
  if (check.tls !== undefined) return judgeTls(check.tls, run);
  try {
    const reasons = await exchange(check, run);
    return { outcome: reasons.length === 0 ? 'passed' : 'failed', reasons };
  } catch (err) {
    return { outcome: 'failed', reasons: [`no answer: ${(err as Error).message}`] };
  }
}

async function exchange(check: Check, run: Run): Promise<string[]> {
  const { options, context } = run;
  const operation = check.operation as OperationId;
  const op = run.apis.get(operation);
  const send = check.send ?? {};
  const expect = check.expect as Expect;
  const token = options.role === 'msp' ? (options.mspToken as string) : context.issuedToken;
  // filled once: a repetition is the same request, and a delivery is matched against what was sent
  const content = send.body === undefined ? undefined : (filled(send.body, token, context) as { activationCodeRequestID?: string });
  const body = content === undefined ? undefined : JSON.stringify(content);
  const path = op.pathTemplate.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(name === 'account_id' ? (options.accountId as string) : token));
  const query = send.query
    ? `?${new URLSearchParams(Object.entries(send.query).map(([k, v]): [string, string] => [k, filled(v, token, context) as string])).toString()}`
    : '';
  const url = `${options.url.replace(/\/$/, '')}${path}${query}`;
  const correlationId = randomUUID();
  const reasons: string[] = [];
  const answers: { status: number; json: unknown }[] = [];
  for (let i = 0; i < (send.repeat ?? 1); i++) {
    const headers: Record<string, string> = {
      'CMP-request-id': randomUUID(),
      'correlation-id': correlationId,
      'client-id': options.clientId,
      'target-id': options.targetId,
      ...(body !== undefined && { 'content-type': 'application/json' }),
      ...(send.credential === 'none' ? {} : credentialHeaders(options.credential)),
    };
    for (const name of send.omitHeaders ?? []) for (const key of Object.keys(headers)) if (key.toLowerCase() === name.toLowerCase()) delete headers[key];
    const started = Date.now();
    const answer = await request(url, { method: op.operation.method?.toUpperCase() as 'GET', headers, body, dispatcher: run.agent });
    const text = await answer.body.text();
    const ms = Date.now() - started;
    const answerHeaders = Object.fromEntries(Object.entries(answer.headers).map(([k, v]) => [k, String(v)]));
    run.exchanges.push({
      request: { method: op.operation.method?.toUpperCase() ?? 'GET', url, headers, body },
      answer: { status: answer.statusCode, headers: answerHeaders, body: text, ms },
    });
    const judged = judgeAnswer(run.apis, operation, expect, { status: answer.statusCode, contentType: answerHeaders['content-type'], text, ms });
    reasons.push(...judged.reasons.map((r) => (send.repeat ? `answer ${i + 1}: ${r}` : r)));
    answers.push({ status: answer.statusCode, json: judged.json });
  }
  const first = answers[0];
  if (expect.sameAnswer) reasons.push(...sameAnswers(answers));
  if (check.keep === 'iccid' && first.status === 200) context.kept.iccid = field(first.json, 'iccid');
  if (expect.delivery && first.status === 201) reasons.push(...(await judgeDelivery(run, content ?? {}, token, correlationId, check.keep === 'iccid')));
  if (expect.sameAnswer && first.status === 201) reasons.push(...(await onlyOneDelivery(run, content ?? {})));
  return reasons;
}

/** what AID.02 allows of one answer */
function judgeAnswer(
  apis: Apis,
  operation: OperationId,
  expect: Expect,
  answer: { status: number; contentType?: string; text: string; ms: number },
): { reasons: string[]; json?: unknown } {
  const reasons: string[] = [];
  if (!expect.status.includes(answer.status)) reasons.push(`status ${answer.status}; this check allows ${expect.status.join(', ')}`);
  const documented = apis.checkResponse(apis.get(operation), { status: answer.status, contentType: answer.contentType, body: Buffer.from(answer.text) }, true);
  if (documented.unusable) reasons.push(`Annex B: ${documented.unusable}`);
  for (const problem of documented.nonconforming) reasons.push(`Annex B: the answer's ${problem}`);
  let json = documented.json;
  if (json === undefined && answer.text.trim() !== '') {
    try {
      json = JSON.parse(answer.text);
    } catch {
      json = undefined;
    }
  }
  if (answer.status >= 300) {
    const code = field(json, 'code');
    if (typeof code !== 'string' || typeof field(json, 'error') !== 'string')
      reasons.push('AID.02 5.5: a refusal must carry a body with the fields code and error (strings)');
    else if (expect.codes && !expect.codes.includes(code)) reasons.push(`error code ${code}; AID.02 5.5 has ${expect.codes.join(', ')} for this`);
  }
  if (expect.withinMs !== undefined && answer.ms > expect.withinMs) reasons.push(`answered in ${answer.ms} ms; AID.02 7.7.1 allows ${expect.withinMs} ms`);
  return { reasons, json };
}

function sameAnswers(answers: readonly { status: number; json: unknown }[]): string[] {
  const [first, ...rest] = answers;
  const reasons: string[] = [];
  for (const [i, other] of rest.entries()) {
    if (other.status !== first.status) reasons.push(`the same request answered ${first.status}, then ${other.status}`);
    else if (
      first.status === 200 &&
      (field(other.json, 'activationCode') !== field(first.json, 'activationCode') || field(other.json, 'iccid') !== field(first.json, 'iccid'))
    ) {
      reasons.push(`the same activationCodeRequestID got a second code (answer ${i + 2})`);
    }
  }
  return reasons;
}

/** 7.7.2: the MSP's Send Activation Code for the request, its ids echoed */
async function judgeDelivery(run: Run, sent: { activationCodeRequestID?: string }, token: string, correlationId: string, keep: boolean): Promise<string[]> {
  const { inbox, deliveryTimeoutMs, targetId, clientId } = run.options;
  if (!inbox) return ['answered 201, but the kit has no inbox for Send Activation Code (--callback-listen)'];
  const requestId = sent.activationCodeRequestID as string;
  const deliveries = await inbox.waitFor(requestId, deliveryTimeoutMs);
  if (deliveries.length === 0) return [`answered 201, and no Send Activation Code for ${requestId} came within ${deliveryTimeoutMs} ms (AID.02 7.7.2)`];
  const delivery = deliveries[0];
  run.exchanges.push({ delivery: { path: delivery.path, headers: stringHeaders(delivery), body: delivery.text } });
  const reasons: string[] = [];
  const header = (name: string) => delivery.headers[name] as string | undefined;
  if (delivery.token !== token) reasons.push('Send Activation Code names another msp_token than the request');
  if (header('correlation-id') !== correlationId)
    reasons.push("Send Activation Code does not carry the request's correlation-id (AID.02 5.1: a transaction's id)");
  if (header('client-id') !== targetId) reasons.push(`Send Activation Code's client-id is ${header('client-id')}, not the MSP's ${targetId} (AID.02 5.1)`);
  if (header('target-id') !== clientId) reasons.push(`Send Activation Code's target-id is ${header('target-id')}, not the CMP's ${clientId} (AID.02 5.1)`);
  const problems = run.apis.validateRequest(run.apis.get('submitActivationCode'), {
    params: { msp_token: delivery.token },
    query: '',
    headers: delivery.headers,
    body: delivery.json,
  });
  for (const problem of problems) reasons.push(`Annex B: Send Activation Code's ${problem.text}`);
  if (keep) run.context.kept.iccid = field(delivery.json, 'iccid');
  return reasons;
}

/** a retried request that was answered 201 is delivered once */
async function onlyOneDelivery(run: Run, sent: { activationCodeRequestID?: string }): Promise<string[]> {
  const { inbox, deliveryTimeoutMs } = run.options;
  if (!inbox) return [];
  const requestId = sent.activationCodeRequestID as string;
  await inbox.waitFor(requestId, deliveryTimeoutMs);
  // a second delivery may follow the first: give it a moment
  await new Promise((r) => setTimeout(r, Math.min(1000, deliveryTimeoutMs)));
  const all = await inbox.waitFor(requestId, 0);
  return all.length > 1 ? [`the same activationCodeRequestID was delivered ${all.length} times`] : [];
}

/** Node's verdicts on a server certificate it does not trust */
const SERVER_UNVERIFIED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** AID.02 6: two-way TLS */
async function judgeTls(kind: TlsCheck, run: Run): Promise<Verdict> {
  const url = new URL(run.options.url);
  if (url.protocol !== 'https:') return { outcome: 'failed', reasons: ['the partner is reached over plain HTTP: AID.02 6 requires two-way TLS'] };
  const port = Number(url.port || 443);
  const tlsOptions = run.options.tls ?? {};
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const base = { host, port, servername: isIP(host) ? undefined : host, ca: tlsOptions.ca };
  const headers = credentialHeaders(run.options.credential);
  if (kind === 'clientCertificateRequired') {
    const outcome = await tryRequest({ ...base }, url, headers);
    // the kit refusing the partner is no proof that the partner refuses the kit
    if (outcome.error && SERVER_UNVERIFIED.has(outcome.error))
      return { outcome: 'failed', reasons: [`the partner's server certificate cannot be verified (${outcome.error}); give its CA with --tls-ca`] };
    if (outcome.error) return { outcome: 'passed', reasons: [] };
    // a partner may finish the handshake and refuse the request itself, as an AID.02 answer: with
    // the credential sent along, a 401 can only be for the missing certificate
    if (outcome.status === 401) return { outcome: 'passed', reasons: [] };
    return { outcome: 'failed', reasons: [`without a client certificate (the credential sent) the partner answered ${outcome.status}`] };
  }
  const outcome = await tryRequest(
    { ...base, cert: tlsOptions.cert, key: tlsOptions.key, minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' },
    url,
    headers,
  );
  if (outcome.error === 'ERR_SSL_NO_PROTOCOLS_AVAILABLE') return skipped("this machine's TLS library cannot offer TLS 1.1");
  if (outcome.error) return { outcome: 'passed', reasons: [] };
  return { outcome: 'failed', reasons: ['the partner accepted a TLS 1.1 connection'] };
}

/** one GET over a connection of its own; the answer's status, or why there was none */
function tryRequest(options: tls.ConnectionOptions, url: URL, headers: Readonly<Record<string, string>>): Promise<{ error?: string; status?: number }> {
  return new Promise((resolve) => {
    const socket = tls.connect(options, () => {
      const lines = Object.entries(headers)
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('');
      socket.write(`GET ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\n${lines}Connection: close\r\n\r\n`);
    });
    let data = '';
    socket.setTimeout(5000, () => socket.destroy(new Error('timeout')));
    socket.on('data', (chunk: Buffer) => (data += chunk.toString('latin1')));
    socket.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    socket.on('close', () => {
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(data)?.[1];
      resolve(status ? { status: Number(status) } : { error: 'closed without an answer' });
    });
  });
}

function credentialHeaders(credential: Credential | undefined): Record<string, string> {
  if (!credential) return {};
  if ('apiKey' in credential) return { 'api-key': credential.apiKey };
  return { authorization: `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString('base64')}` };
}

/** the check's data with its placeholders filled in */
function filled(value: unknown, token: string, context: Context): unknown {
  if (typeof value === 'string')
    return value
      .replace(/\{uuid\}/g, () => randomUUID())
      .replace(/\{token\}/g, token)
      .replace(/\{iccid\}/g, context.kept.iccid ?? '')
      .replace(/\{eid\}/g, context.eid);
  if (Array.isArray(value)) return value.map((v) => filled(v, token, context));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, filled(v, token, context)]));
  return value;
}

function field(json: unknown, name: string): string | undefined {
  const value = json !== null && typeof json === 'object' ? (json as Record<string, unknown>)[name] : undefined;
  return typeof value === 'string' ? value : undefined;
}

function stringHeaders(delivery: Delivery): Record<string, string> {
  return Object.fromEntries(Object.entries(delivery.headers).map(([k, v]) => [k, String(v)]));
}
