/**
 * A simulated SM-DP+ speaking ES2+ as SGP.22 writes it (5.3, with the seed's functions and status
 * codes): an inventory of profiles per profile type moving through the SGP.22 states (available,
 * allocated, linked, confirmed, released, downloaded, installed, unavailable), over HTTPS with
 * client certificates when given TLS material. A 19-digit ICCID is written F-padded to 20 (SGP.22
 * 5.2.1), every answer carries `X-Admin-Protocol`. `download` plays a car fetching its profile with
 * an activation code: the profile is downloaded and installed, and the operator (the hub) is sent
 * HandleDownloadProgressInfo for notification points 1, 3 and 4 (`timestamp`, `resultData` with the
 * installation result), or 2 when the confirmation fails, as a real SM-DP+ does. `spelling:
 * 'seedVendor'` switches to the seed vendor's deviation (`timeStamp`). Also reachable as POST
 * /simulator/download for the quick start.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { Agent, fetch } from 'undici';
import { closeServer, listen } from '../../simulators/simulatorServer';

export type SmdpProfileState = 'available' | 'allocated' | 'linked' | 'confirmed' | 'released' | 'downloaded' | 'installed' | 'unavailable';

export interface SmdpProfile {
  readonly iccid: string;
  readonly profileType: string;
  state: SmdpProfileState;
  eid?: string;
  matchingId?: string;
}

export interface SmdpSimulatorOptions {
  /** profile type -> ICCIDs in the inventory, all `available` */
  readonly inventory: Readonly<Record<string, readonly string[]>>;
  /** returned by ConfirmOrder; omitted when undefined (the operator then uses its own) */
  readonly smdpAddress?: string;
  /** serve HTTPS and require a client certificate signed by `ca` */
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer; readonly ca: string | Buffer };
  /** where HandleDownloadProgressInfo goes: the operator's base URL, the credential headers, and
   * the SM-DP+'s client certificate (with the CA of the operator's server) for mutual TLS */
  readonly operator?: {
    readonly url: string;
    readonly headers?: Readonly<Record<string, string>>;
    readonly tls?: { readonly cert: string; readonly key: string; readonly ca: string };
  };
  readonly host?: string;
  readonly port?: number;
  /** `sgp22` (default): `timestamp`; `seedVendor`: the seed vendor's `timeStamp` */
  readonly spelling?: 'sgp22' | 'seedVendor';
}

const ADMIN_PROTOCOL = 'gsma/rsp/v2.5.0';

/** SGP.22 5.2.1: a 19-digit ICCID travels padded with F to 20 */
export function paddedIccid(iccid: string): string {
  return iccid.length === 19 ? `${iccid}F` : iccid;
}

export interface EsCall {
  readonly function: string;
  readonly body: Record<string, unknown>;
  readonly headers: http.IncomingHttpHeaders;
}

/** what the next call of a function meets instead of (or before) its normal handling */
export type SmdpFault =
  | { readonly kind: 'status'; readonly subjectCode: string; readonly reasonCode: string; readonly message: string }
  | { readonly kind: 'drop' }
  /** the function is carried out, then the connection is cut before the answer */
  | { readonly kind: 'lostAnswer' }
  | { readonly kind: 'delay'; readonly ms: number };

export interface SmdpSimulator {
  readonly url: string;
  readonly calls: EsCall[];
  /** the next call of `fn` meets `fault` (a queue: one fault per call) */
  failNext(fn: string, fault: SmdpFault): void;
  profile(iccid: string): SmdpProfile | undefined;
  /** where HandleDownloadProgressInfo goes from now on (an operator started after the SM-DP+) */
  notifyTo(operator: SmdpSimulatorOptions['operator']): void;
  /** a car downloads with the activation code (or, without one, what is released for its EID);
   * `failAt` makes point 2 (confirmation), 3 or 4 fail */
  download(activationCode: string | undefined, eid: string, failAt?: 2 | 3 | 4): Promise<SmdpProfile>;
  close(): Promise<void>;
}

type Failure = { subjectCode: string; reasonCode: string; message: string };
type Outcome = { data?: Record<string, unknown> } | { failure: Failure };

const fail = (subjectCode: string, reasonCode: string, message: string): Outcome => ({ failure: { subjectCode, reasonCode, message } });
const MISSING = (name: string) => fail('1.6', '2.2', `Mandatory Element Missing: ${name}`);
const UNKNOWN_ICCID = fail('8.2.1', '3.9', 'Unknown');

export async function startSmdpSimulator(options: SmdpSimulatorOptions): Promise<SmdpSimulator> {
  const profiles = new Map<string, SmdpProfile>();
  for (const [profileType, iccids] of Object.entries(options.inventory)) {
    for (const iccid of iccids) profiles.set(withoutFiller(iccid), { iccid: withoutFiller(iccid), profileType, state: 'available' });
  }
  const calls: EsCall[] = [];
  let operator = options.operator;
  let dispatcher = agentFor(operator);
  const faults = new Map<string, SmdpFault[]>();
  const find = (iccid: unknown) => (typeof iccid === 'string' ? profiles.get(withoutFiller(iccid)) : undefined);

  const functions: Record<string, (body: Record<string, unknown>) => Outcome> = {
    downloadOrder(body) {
      const { eid, iccid, profileType } = body;
      if (iccid === undefined && profileType === undefined) return MISSING('iccid or profileType');
      if (eid !== undefined && !isEid(textOf(eid))) return fail('8.1.1', '2.1', 'Invalid');
      let profile: SmdpProfile | undefined;
      if (iccid !== undefined) {
        profile = find(iccid);
        if (!profile) return UNKNOWN_ICCID;
        if (profileType !== undefined && profile.profileType !== profileType) return fail('8.2.5', '3.8', 'Refused');
        if (profile.state !== 'available') return fail('8.2.1', '3.3', 'Already in Use');
      } else {
        if (![...profiles.values()].some((p) => p.profileType === profileType)) return fail('8.2.5', '3.9', 'Unknown');
        profile = [...profiles.values()].find((p) => p.profileType === profileType && p.state === 'available');
        if (!profile) return fail('8.2.5', '3.7', 'No more Profile');
      }
      profile.state = eid === undefined ? 'allocated' : 'linked';
      profile.eid = eid === undefined ? undefined : textOf(eid);
      return { data: { iccid: paddedIccid(profile.iccid) } };
    },
    confirmOrder(body) {
      if (body.iccid === undefined) return MISSING('iccid');
      if (typeof body.releaseFlag !== 'boolean') return MISSING('releaseFlag');
      const profile = find(body.iccid);
      if (!profile) return UNKNOWN_ICCID;
      if (profile.state === 'confirmed' || profile.state === 'released') return fail('8.2.1', '3.3', 'Already in Use');
      if (profile.state !== 'allocated' && profile.state !== 'linked') return fail('8.2.1', '3.5', 'Invalid Transition');
      if (body.eid !== undefined && profile.eid !== undefined && body.eid !== profile.eid) return fail('8.1.1', '3.10', 'Invalid Association');
      const matchingId = typeof body.matchingId === 'string' ? body.matchingId : randomUUID().toUpperCase();
      if ([...profiles.values()].some((p) => p !== profile && p.matchingId === matchingId)) return fail('8.2.6', '3.3', 'Already in Use');
      profile.eid ??= body.eid === undefined ? undefined : textOf(body.eid);
      profile.matchingId = matchingId;
      profile.state = body.releaseFlag ? 'released' : 'confirmed';
      return { data: { eid: profile.eid, matchingId, ...(options.smdpAddress ? { smdpAddress: options.smdpAddress } : {}) } };
    },
    cancelOrder(body) {
      if (body.iccid === undefined) return MISSING('iccid');
      if (body.finalProfileStatusIndicator === undefined) return MISSING('finalProfileStatusIndicator');
      const profile = find(body.iccid);
      if (!profile) return UNKNOWN_ICCID;
      if (profile.state === 'downloaded' || profile.state === 'installed') return fail('8.2.1', '3.3', 'Already in Use');
      if (body.eid !== undefined && profile.eid !== undefined && body.eid !== profile.eid) return fail('8.2.1', '3.10', 'Invalid Association');
      if (body.matchingId !== undefined && profile.matchingId !== undefined && body.matchingId !== profile.matchingId)
        return fail('8.2.6', '3.10', 'Invalid Association');
      const final = body.finalProfileStatusIndicator;
      if ((final !== 'Available' && final !== 'Unavailable') || profile.state === 'available' || profile.state === 'unavailable') {
        return fail('8.2.1', '3.5', 'Invalid Transition');
      }
      profile.state = final === 'Available' ? 'available' : 'unavailable';
      if (final === 'Available') {
        profile.eid = undefined;
        profile.matchingId = undefined;
      }
      return {};
    },
    releaseProfile(body) {
      if (body.iccid === undefined) return MISSING('iccid');
      const profile = find(body.iccid);
      if (!profile) return UNKNOWN_ICCID;
      if (profile.state === 'downloaded' || profile.state === 'installed') return fail('8.2.1', '3.3', 'Already in Use');
      if (profile.state === 'released') return {};
      if (profile.state !== 'confirmed') return fail('8.2.1', '3.5', 'Invalid transition');
      profile.state = 'released';
      return {};
    },
  };

  async function notify(profile: SmdpProfile, notificationPointId: number, ok: boolean): Promise<void> {
    if (!operator) return;
    const status = ok
      ? { status: 'Executed-Success' }
      : { status: 'Failed', statusCodeData: { subjectCode: '8.1', reasonCode: '4.8', message: 'simulated failure' } };
    const timestampName = options.spelling === 'seedVendor' ? 'timeStamp' : 'timestamp';
    const answer = await fetch(operator.url.replace(/\/+$/, '') + PROGRESS_CALLBACK_PATH, {
      dispatcher,
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-admin-protocol': ADMIN_PROTOCOL, ...operator.headers },
      body: JSON.stringify({
        header: { functionRequesterIdentifier: 'smdp-simulator', functionCallIdentifier: randomUUID() },
        eid: profile.eid,
        iccid: paddedIccid(profile.iccid),
        profileType: profile.profileType,
        [timestampName]: new Date().toISOString(),
        notificationPointId,
        notificationPointStatus: status,
        // the eUICC's ProfileInstallationResult finalResult, after the installation point
        ...(notificationPointId === 4 ? { resultData: Buffer.from(ok ? 'successResult' : 'errorResult').toString('base64') } : {}),
      }),
    });
    if (answer.status !== 204) throw new Error(`the operator answered HandleDownloadProgressInfo with ${answer.status}`);
  }

  async function download(activationCode: string | undefined, eid: string, failAt?: 2 | 3 | 4): Promise<SmdpProfile> {
    // without a code, the profile released for the EID (the default SM-DP+ a device may ask)
    const matchingId = activationCode === undefined ? undefined : matchingIdOf(activationCode);
    const profile = [...profiles.values()].find((p) => p.state === 'released' && (matchingId === undefined ? p.eid === eid : p.matchingId === matchingId));
    if (!profile || profile.state !== 'released' || profile.eid !== eid) throw new Error('no released profile for this activation code and EID');
    await notify(profile, 1, true);
    if (failAt === 2) return notify(profile, 2, false).then(() => profile);
    if (failAt === 3) return notify(profile, 3, false).then(() => profile);
    profile.state = 'downloaded';
    await notify(profile, 3, true);
    if (failAt === 4) return notify(profile, 4, false).then(() => profile);
    profile.state = 'installed';
    await notify(profile, 4, true);
    return profile;
  }

  const handler = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
    } catch {
      return send(res, 400, { error: 'the body is not JSON' });
    }
    const path = (req.url ?? '').split('?')[0];
    if (req.method === 'POST' && path === '/simulator/download') {
      try {
        const profile = await download(typeof body.activationCode === 'string' ? body.activationCode : undefined, textOf(body.eid));
        return send(res, 200, { iccid: profile.iccid, state: profile.state });
      } catch (err) {
        return send(res, 409, { error: (err as Error).message });
      }
    }
    const fn = path.startsWith(`${ES2PLUS_PATH}/`) ? path.slice(ES2PLUS_PATH.length + 1) : '';
    if (req.method !== 'POST' || !Object.hasOwn(functions, fn)) return send(res, 404, { error: 'no such ES2+ function' });
    calls.push({ function: fn, body, headers: req.headers });
    const fault = faults.get(fn)?.shift();
    if (fault?.kind === 'drop') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'delay') await new Promise((resolve) => setTimeout(resolve, fault.ms));
    if (fault?.kind === 'status') {
      const { subjectCode, reasonCode, message } = fault;
      return send(res, 200, { header: { functionExecutionStatus: { status: 'Failed', statusCodeData: { subjectCode, reasonCode, message } } } });
    }
    const header = body.header as { functionRequesterIdentifier?: unknown; functionCallIdentifier?: unknown } | undefined;
    const outcome: Outcome = !header?.functionRequesterIdentifier || !header.functionCallIdentifier ? MISSING('header') : functions[fn](body);
    if (fault?.kind === 'lostAnswer') {
      req.socket.destroy();
      return;
    }
    if ('failure' in outcome) return send(res, 200, { header: { functionExecutionStatus: { status: 'Failed', statusCodeData: outcome.failure } } });
    send(res, 200, { header: { functionExecutionStatus: { status: 'Executed-Success' } }, ...outcome.data });
  };
  const listener = (req: http.IncomingMessage, res: http.ServerResponse) => {
    handler(req, res).catch(() => send(res, 500, { error: 'simulator failure' }));
  };
  const server = options.tls ? https.createServer({ ...options.tls, requestCert: true, rejectUnauthorized: true }, listener) : http.createServer(listener);
  const host = options.host ?? '127.0.0.1';
  const port = await listen(server, host, options.port ?? 0);
  return {
    url: `${options.tls ? 'https' : 'http'}://${host}:${port}`,
    calls,
    failNext: (fn, fault) => {
      faults.set(fn, [...(faults.get(fn) ?? []), fault]);
    },
    notifyTo: (given) => {
      operator = given;
      void dispatcher?.close();
      dispatcher = agentFor(given);
    },
    profile: (iccid) => profiles.get(withoutFiller(iccid)),
    download,
    close: async () => {
      await dispatcher?.close();
      await closeServer(server);
    },
  };
}

function agentFor(operator: SmdpSimulatorOptions['operator']): Agent | undefined {
  return operator?.tls && new Agent({ connect: operator.tls });
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'x-admin-protocol': ADMIN_PROTOCOL }).end(JSON.stringify(body));
}

// The SM-DP+'s own reading of the formats, written from SGP.22 and not taken from the hub's parsers,
// so that a misreading the hub makes shows up as a disagreement with the simulator.

/** SGP.22 5.3: ES2+ functions are POSTed to /gsma/rsp2/es2plus/<function>, the operator's too */
const ES2PLUS_PATH = '/gsma/rsp2/es2plus';
const PROGRESS_CALLBACK_PATH = `${ES2PLUS_PATH}/handleDownloadProgressInfo`;

/** SGP.22 5.2.1: a 19-digit ICCID is padded to 20 with a filler F; the profile is the same */
function withoutFiller(iccid: string): string {
  return iccid.replace(/[fF]$/, '');
}

/** SGP.29: 32 digits whose whole number is 1 modulo 97 (ISO/IEC 7064 MOD 97-10) */
function isEid(eid: string): boolean {
  return /^[0-9]{32}$/.test(eid) && BigInt(eid) % 97n === 1n;
}

/** SGP.22 4.1: `[LPA:]1$<SM-DP+ address>$<MatchingID>[$...]`; the MatchingID is the third field */
function matchingIdOf(activationCode: string): string {
  const fields = activationCode.replace(/^LPA:/, '').split('$');
  if (fields[0] !== '1' || !fields[2]) throw new Error('not an activation code of SGP.22 4.1');
  return fields[2];
}

/** a field of a request as the simulator keeps it: a string as sent, a scalar as String writes it */
function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || value === undefined || value === null) return String(value);
  return JSON.stringify(value);
}
