/**
 * A simulated eSIM management platform speaking the seed's TelcoAPI (`/api/v1/esim`): devices
 * (register, look up, compatibility), profiles in the platform's states (CREATED, DOWNLOADED,
 * INSTALLED, ENABLED, DISABLED, DELETED: enable, disable, delete), activation codes, its error
 * format and codes, and its per-endpoint rate limits (seed table, per minute) answered 429
 * `RATE_LIMIT_EXCEEDED` with Retry-After. `download` plays a car fetching its profile: the profile
 * becomes DOWNLOADED, then INSTALLED, and the operator's webhook is sent PROFILE_DOWNLOADED and
 * PROFILE_INSTALLED. Faults: an error answer, a delay, an answer lost after the work was done. Also
 * reachable as POST /simulator/download for the quick start. Everything is in memory.
 *
 * Where the seed allows two readings, `readings` picks one, so the simulator can play a platform
 * built either way: where the webhook's signature lives and how it is made, when the events of the
 * hub's own calls are sent, which compatibility endpoint exists, the shape of a device's profile
 * list, the status for an ICCID that exists, the `LPA:` prefix of activation codes, error messages
 * that echo the caller's credential, device events (`data.iccid: null`), what a deleted profile
 * answers.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import { closeServer, listen, readJsonObject } from '../../simulators/simulatorServer';

export type PlatformProfileState = 'CREATED' | 'DOWNLOADED' | 'INSTALLED' | 'ENABLED' | 'DISABLED' | 'DELETED';

export interface PlatformProfile {
  readonly iccid: string;
  readonly eid: string;
  readonly profileType: string;
  readonly mno: string;
  profileState: PlatformProfileState;
  activationCode: string;
  readonly createdAt: string;
}

export type Endpoint = 'profileCreation' | 'deviceRegistration' | 'activationCodeGeneration';

export interface TelcoapiSimulatorOptions {
  /** the bearer token the platform accepts */
  readonly token: string;
  readonly smdpAddress: string;
  /** requests per minute per endpoint; the seed's table when absent */
  readonly limits?: Partial<Record<Endpoint, number>>;
  /** EIDs the platform finds incompatible with every profile type */
  readonly incompatibleEids?: readonly string[];
  /** profiles a device may hold (seed: restrictions.maxProfiles) */
  readonly maxProfilesPerDevice?: number;
  /** where events go and the secret they are signed with */
  readonly webhook?: { readonly url: string; readonly secret: string };
  readonly readings?: Readings;
  readonly host?: string;
  readonly port?: number;
}

/** the seed's ambiguous places, one reading each; the defaults are the first named */
export interface Readings {
  /** the signature: the hub's `x-telcoapi-signature` header, or the seed's `signature` member of the payload */
  readonly signatureIn?: 'header' | 'body';
  /** in the body: the HMAC as hex or base64 */
  readonly signatureEncoding?: 'hex' | 'base64';
  /** in the body: HMAC over the compact JSON of the other members, or over the bytes sent (pretty
   * printed here) as they were before the member was put in */
  readonly signedOver?: 'compactJson' | 'sentBytes';
  /** the events of the hub's own enable, disable and delete: none, sent (and their answers awaited)
   * before the call is answered, or after */
  readonly callEvents?: 'none' | 'beforeAnswer' | 'afterAnswer';
  /** the device compatibility endpoints offered: the API Reference's GET, the endpoint list's POST, or both */
  readonly compatibility?: 'both' | 'get' | 'post';
  /** a device's profiles (getAvailableProfiles: `ESimProfile[]`) as the list itself, or wrapped in `{profiles: [...]}` */
  readonly profileList?: 'array' | 'object';
  /** Create Profile for an ICCID that exists: 409, or the seed's 400 example (`details.field: iccid`) */
  readonly existingIccid?: 409 | 400;
  /** activation codes as SGP.22's `1$…`, or in the QR form `LPA:1$…` */
  readonly lpaPrefix?: boolean;
  /** a refused credential is quoted in the error message */
  readonly echoCredential?: boolean;
  /** the seed's "device events": DEVICE_REGISTERED after a device is registered, `data.iccid: null` (the
   * payload's data shape is fixed at `{iccid, eid, status}`), its answers counted in `eventStatuses` */
  readonly deviceEvents?: boolean;
  /** a deleted profile: gone (404 PROFILE_NOT_FOUND), or readable as DELETED and Delete Profile
   * refused 409 OPERATION_NOT_PERMITTED */
  readonly deletedProfile?: 404 | 409;
}

export type Fault =
  | { readonly kind: 'error'; readonly status: number; readonly error: string; readonly retryAfter?: number }
  | { readonly kind: 'delay'; readonly ms: number }
  /** the work is done, the connection closed before the answer */
  | { readonly kind: 'lostAnswer' };

export interface PlatformCall {
  readonly method: string;
  readonly path: string;
  readonly body: Record<string, unknown>;
  readonly headers: http.IncomingHttpHeaders;
}

export interface TelcoapiSimulator {
  readonly url: string;
  readonly calls: PlatformCall[];
  readonly profiles: ReadonlyMap<string, PlatformProfile>;
  readonly devices: ReadonlyMap<string, Record<string, unknown>>;
  /** the webhook's answers to the events of the hub's own calls (`readings.callEvents`) */
  readonly eventStatuses: readonly number[];
  /** the next call whose method and path match `pattern` meets `fault` */
  failNext(pattern: RegExp, fault: Fault): void;
  webhookTo(url: string, secret: string): void;
  /** a car downloads the profile of `activationCode`; resolves with the webhook answers' statuses */
  download(activationCode: string | undefined, eid: string): Promise<number[]>;
  /** sends one event about a profile (state changed first), or with `iccid: null` about a device, signed as the options say */
  sendEvent(eventType: string, iccid: string | null, options?: EventOptions): Promise<{ status: number; body: unknown; sent: string }>;
  close(): Promise<void>;
}

export interface EventOptions {
  readonly secret?: string;
  /** when the event was made (its `t`, or its `timestamp` with the signature in the body) */
  readonly unixSeconds?: number;
  readonly eventId?: string;
  /** the bytes to send as they are, with the signature header made over them when it is a header */
  readonly raw?: string;
  /** a device event's device */
  readonly eid?: string;
}

const SEED_LIMITS: Readonly<Record<Endpoint, number>> = { profileCreation: 100, deviceRegistration: 30, activationCodeGeneration: 100 };
const API = '/api/v1/esim';
const EVENT_STATE: Readonly<Record<string, PlatformProfileState>> = {
  PROFILE_DOWNLOADED: 'DOWNLOADED',
  PROFILE_INSTALLED: 'INSTALLED',
  PROFILE_ENABLED: 'ENABLED',
  PROFILE_DISABLED: 'DISABLED',
  PROFILE_DELETED: 'DELETED',
};

/** `event`: what the platform tells the webhook about the change the call made */
type Answer = { status: number; body?: unknown; headers?: Record<string, string>; event?: { eventType: string; iccid: string | null; eid?: string } };

export async function startTelcoapiSimulator(options: TelcoapiSimulatorOptions): Promise<TelcoapiSimulator> {
  const profiles = new Map<string, PlatformProfile>();
  const devices = new Map<string, Record<string, unknown>>();
  const calls: PlatformCall[] = [];
  const faults: { pattern: RegExp; fault: Fault }[] = [];
  const windows = new Map<Endpoint, number[]>();
  const eventStatuses: number[] = [];
  let webhook = options.webhook;
  const readings = options.readings ?? {};

  const error = (
    status: number,
    code: string,
    message: string,
    extra: { details?: Record<string, unknown>; headers?: Record<string, string> } = {},
  ): Answer => ({
    status,
    headers: extra.headers,
    body: { error: code, message, ...(extra.details ? { details: extra.details } : {}), timestamp: new Date().toISOString() },
  });

  /** the seed's limits, a sliding minute per endpoint */
  function limited(endpoint: Endpoint): Answer | undefined {
    const now = Date.now();
    const recent = (windows.get(endpoint) ?? []).filter((t) => t > now - 60000);
    const limit = options.limits?.[endpoint] ?? SEED_LIMITS[endpoint];
    if (recent.length >= limit) {
      windows.set(endpoint, recent);
      const retryAfter = Math.max(1, Math.ceil((recent[0] + 60000 - now) / 1000));
      return error(429, 'RATE_LIMIT_EXCEEDED', `at most ${limit} requests per minute`, { headers: { 'retry-after': String(retryAfter) } });
    }
    windows.set(endpoint, [...recent, now]);
    return undefined;
  }

  /** a profile the platform does not have, or has deleted (`readings.deletedProfile`) */
  const gone = (profile: PlatformProfile | undefined): Answer =>
    profile && readings.deletedProfile === 409
      ? error(409, 'OPERATION_NOT_PERMITTED', 'The profile is deleted')
      : error(404, 'PROFILE_NOT_FOUND', 'The requested profile does not exist');

  const validEid = (eid: unknown): eid is string => typeof eid === 'string' && /^[0-9]{32}$/.test(eid) && BigInt(eid) % 97n === 1n;

  function newCode(): string {
    const token = randomBytes(10).toString('hex').toUpperCase().match(/.{5}/g)?.join('-');
    return `${readings.lpaPrefix ? 'LPA:' : ''}1$${options.smdpAddress}$${token}`;
  }

  function route(method: string, path: string, query: URLSearchParams, body: Record<string, unknown>): Answer {
    let m: RegExpExecArray | null;
    if (method === 'POST' && path === '/devices') {
      const refused = limited('deviceRegistration');
      if (refused) return refused;
      if (!validEid(body.eid)) return error(400, 'INVALID_EID', 'The provided eUICC identifier is invalid');
      if (devices.has(body.eid)) return error(409, 'OPERATION_NOT_PERMITTED', 'The device is registered already');
      devices.set(body.eid, { eid: body.eid, deviceInfo: body.deviceInfo, deviceId: randomUUID(), registrationDate: new Date().toISOString() });
      const device = devices.get(body.eid) as Record<string, unknown>;
      return {
        status: 201,
        body: { deviceId: device.deviceId, registrationDate: device.registrationDate, status: 'REGISTERED' },
        event: { eventType: 'DEVICE_REGISTERED', iccid: null, eid: body.eid },
      };
    }
    // seed: GET …/compatibility?profileType= (API Reference), POST …/check-compatibility (endpoint list)
    const compatibility = readings.compatibility ?? 'both';
    const byGet = compatibility !== 'post' && method === 'GET' ? /^\/devices\/([^/]+)\/compatibility$/.exec(path) : null;
    const byPost = compatibility !== 'get' && method === 'POST' ? /^\/devices\/([^/]+)\/check-compatibility$/.exec(path) : null;
    if ((m = byGet ?? byPost)) {
      const eid = decodeURIComponent(m[1]);
      const profileType = byGet ? query.get('profileType') : typeof body.profileType === 'string' ? body.profileType : undefined;
      if (!validEid(eid)) return error(400, 'INVALID_EID', 'The provided eUICC identifier is invalid');
      if (!devices.has(eid)) return error(404, 'DEVICE_NOT_FOUND', 'No such device');
      const compatible = !(options.incompatibleEids ?? []).includes(eid);
      return {
        status: 200,
        body: {
          compatible,
          reasons: compatible ? [] : [`LPA too old for ${profileType ?? 'this profile type'}`],
          supportedFeatures: [],
          restrictions: { maxProfiles: options.maxProfilesPerDevice ?? 5, minOsVersion: '1.0' },
        },
      };
    }
    if ((m = /^\/devices\/([^/]+)\/profiles$/.exec(path)) && method === 'GET') {
      // seed: getAvailableProfiles(eid): ESimProfile[]
      const eid = decodeURIComponent(m[1]);
      const listed = [...profiles.values()].filter((p) => p.eid === eid && p.profileState !== 'DELETED').map((p) => ({ ...p }));
      return { status: 200, body: readings.profileList === 'object' ? { profiles: listed } : listed };
    }
    if ((m = /^\/devices\/([^/]+)$/.exec(path)) && method === 'GET') {
      const device = devices.get(decodeURIComponent(m[1]));
      return device ? { status: 200, body: device } : error(404, 'DEVICE_NOT_FOUND', 'No such device');
    }
    if (method === 'POST' && path === '/profiles') {
      const refused = limited('profileCreation');
      if (refused) return refused;
      const metadata = body.metadata as Record<string, unknown> | undefined;
      const missing = ['iccid', 'eid', 'profileType', 'mno', 'metadata'].find((f) => body[f] === undefined);
      if (missing) return error(400, 'INVALID_REQUEST', 'Invalid profile data', { details: { field: missing, reason: 'Required' } });
      if (typeof body.iccid !== 'string' || !/^[0-9]{19,20}$/.test(body.iccid)) return error(400, 'INVALID_REQUEST', 'Invalid profile data');
      if (!['OPERATIONAL', 'PROVISIONING', 'TESTING'].includes(String(body.profileType))) return error(400, 'INVALID_REQUEST', 'Invalid profile data');
      if (
        typeof metadata?.name !== 'string' ||
        typeof metadata.description !== 'string' ||
        !Array.isArray(metadata.policies) ||
        !Array.isArray(metadata.features)
      ) {
        return error(400, 'INVALID_REQUEST', 'Invalid profile data');
      }
      if (!validEid(body.eid)) return error(400, 'INVALID_EID', 'The provided eUICC identifier is invalid');
      if ((options.incompatibleEids ?? []).includes(body.eid)) return error(422, 'DEVICE_NOT_COMPATIBLE', 'Device is not compatible with the profile');
      if (profiles.has(body.iccid)) {
        if (readings.existingIccid === 400)
          return error(400, 'INVALID_REQUEST', 'Invalid profile data', { details: { field: 'iccid', reason: 'Already exists' } });
        return error(409, 'OPERATION_NOT_PERMITTED', 'A profile with this ICCID exists');
      }
      const held = [...profiles.values()].filter((p) => p.eid === body.eid && p.profileState !== 'DELETED').length;
      if (held >= (options.maxProfilesPerDevice ?? 5)) return error(422, 'PROFILE_LIMIT_REACHED', 'Device has reached maximum number of profiles');
      const profile: PlatformProfile = {
        iccid: body.iccid,
        eid: body.eid,
        profileType: String(body.profileType),
        mno: String(body.mno),
        profileState: 'CREATED',
        activationCode: newCode(),
        createdAt: new Date().toISOString(),
      };
      profiles.set(profile.iccid, profile);
      return { status: 200, body: { profileId: randomUUID(), activationCode: profile.activationCode, createdAt: profile.createdAt, status: 'CREATED' } };
    }
    if ((m = /^\/profiles\/([^/]+)\/activation-code$/.exec(path)) && method === 'POST') {
      const refused = limited('activationCodeGeneration');
      if (refused) return refused;
      const profile = profiles.get(decodeURIComponent(m[1]));
      if (!profile || profile.profileState === 'DELETED') return error(404, 'PROFILE_NOT_FOUND', 'The requested profile does not exist');
      if (profile.profileState !== 'CREATED') return error(409, 'OPERATION_NOT_PERMITTED', 'The profile is downloaded already');
      profile.activationCode = newCode();
      return { status: 200, body: { activationCode: profile.activationCode, expiresAt: new Date(Date.now() + 30 * 86400000).toISOString(), remainingUses: 5 } };
    }
    if ((m = /^\/profiles\/([^/]+)\/(enable|disable)$/.exec(path)) && method === 'POST') {
      const profile = profiles.get(decodeURIComponent(m[1]));
      if (!profile || profile.profileState === 'DELETED') return gone(profile);
      if (profile.profileState === 'CREATED') return error(409, 'OPERATION_NOT_PERMITTED', 'The profile is not on a device');
      const state = m[2] === 'enable' ? 'ENABLED' : 'DISABLED';
      profile.profileState = state;
      // seed: Enable Profile's answer; Disable Profile's is taken to be its like
      return {
        status: 200,
        body: { status: state, timestamp: new Date().toISOString(), operationId: randomUUID() },
        event: { eventType: `PROFILE_${state}`, iccid: profile.iccid },
      };
    }
    if ((m = /^\/profiles\/([^/]+)$/.exec(path))) {
      const profile = profiles.get(decodeURIComponent(m[1]));
      if (method === 'GET' && profile?.profileState === 'DELETED' && readings.deletedProfile === 409) return { status: 200, body: { ...profile } };
      if (!profile || profile.profileState === 'DELETED') return gone(profile);
      if (method === 'GET') return { status: 200, body: { ...profile } };
      if (method === 'DELETE') {
        profile.profileState = 'DELETED';
        return { status: 204, event: { eventType: 'PROFILE_DELETED', iccid: profile.iccid } };
      }
    }
    return error(404, 'NOT_FOUND', 'No such endpoint');
  }

  async function sendEvent(eventType: string, iccid: string | null, signing: EventOptions = {}): Promise<{ status: number; body: unknown; sent: string }> {
    if (!webhook) throw new Error('no webhook configured');
    const profile = iccid === null ? undefined : profiles.get(iccid);
    const state = EVENT_STATE[eventType];
    if (profile && state) profile.profileState = state;
    const data = iccid === null ? { iccid, eid: signing.eid, status: 'REGISTERED' } : { iccid, eid: profile?.eid, status: profile?.profileState };
    const secret = signing.secret ?? webhook.secret;
    const unixSeconds = signing.unixSeconds ?? Math.floor(Date.now() / 1000);
    // seed: Webhook Notifications' example payload
    const payload = { eventType, eventId: signing.eventId ?? randomUUID(), timestamp: new Date(unixSeconds * 1000).toISOString(), data };
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    let sent: string;
    if (readings.signatureIn === 'body') {
      sent = signing.raw ?? signedPayload(payload, secret);
    } else {
      sent = signing.raw ?? JSON.stringify(payload);
      headers['x-telcoapi-signature'] = `t=${unixSeconds},v1=${createHmac('sha256', secret).update(`${unixSeconds}.${sent}`).digest('hex')}`;
    }
    const answer = await fetch(webhook.url, { method: 'POST', headers, body: sent });
    const text = await answer.text();
    return { status: answer.status, body: text === '' ? undefined : JSON.parse(text), sent };
  }

  /** seed: `"signature": "<HMAC signature of the payload>"`, a member of the payload itself */
  function signedPayload(payload: Record<string, unknown>, secret: string): string {
    const encoding = readings.signatureEncoding ?? 'hex';
    if (readings.signedOver === 'sentBytes') {
      const text = JSON.stringify(payload, null, 2);
      const signature = createHmac('sha256', secret).update(text).digest(encoding);
      return `${text.slice(0, -2)},\n  "signature": ${JSON.stringify(signature)}\n}`;
    }
    const signature = createHmac('sha256', secret).update(JSON.stringify(payload)).digest(encoding);
    return JSON.stringify({ ...payload, signature });
  }

  /** without an activation code (the quick start's walk): the device's newest profile waiting */
  async function download(activationCode: string | undefined, eid: string): Promise<number[]> {
    const bare = (code: string) => code.replace(/^LPA:/i, '');
    const waiting = [...profiles.values()].filter(
      (p) => p.eid === eid && p.profileState === 'CREATED' && (activationCode === undefined || bare(p.activationCode) === bare(activationCode)),
    );
    const profile = waiting[waiting.length - 1];
    if (!profile) throw new Error('no downloadable profile for this activation code and EID');
    const statuses: number[] = [];
    for (const event of ['PROFILE_DOWNLOADED', 'PROFILE_INSTALLED']) {
      if (webhook) statuses.push((await sendEvent(event, profile.iccid)).status);
      else profile.profileState = EVENT_STATE[event];
    }
    return statuses;
  }

  const handler = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://platform');
    const body = await readJsonObject(req);
    if (!body) return send(res, error(400, 'INVALID_REQUEST', 'The body is not JSON'));
    if (req.method === 'POST' && url.pathname === '/simulator/download') {
      try {
        return send(res, {
          status: 200,
          body: { webhookStatuses: await download(typeof body.activationCode === 'string' ? body.activationCode : undefined, String(body.eid)) },
        });
      } catch (err) {
        return send(res, error(409, 'OPERATION_NOT_PERMITTED', (err as Error).message));
      }
    }
    if (req.headers.authorization !== `Bearer ${options.token}`) {
      const quoted = readings.echoCredential ? `: ${req.headers.authorization ?? 'none'} is not valid` : '';
      return send(res, error(401, 'AUTHENTICATION_FAILED', `A valid bearer token is required${quoted}`));
    }
    if (!url.pathname.startsWith(`${API}/`)) return send(res, error(404, 'NOT_FOUND', 'No such endpoint'));
    const path = url.pathname.slice(API.length);
    calls.push({ method: req.method ?? '', path: path + url.search, body, headers: req.headers });
    const index = faults.findIndex((f) => f.pattern.test(`${req.method} ${path}`));
    const fault = index >= 0 ? faults.splice(index, 1)[0].fault : undefined;
    if (fault?.kind === 'delay') await new Promise((resolve) => setTimeout(resolve, fault.ms));
    if (fault?.kind === 'error') {
      return send(
        res,
        error(fault.status, fault.error, 'injected', fault.retryAfter === undefined ? {} : { headers: { 'retry-after': String(fault.retryAfter) } }),
      );
    }
    const answer = route(req.method ?? '', path, url.searchParams, body);
    if (answer.event?.iccid === null && webhook && readings.deviceEvents && fault?.kind !== 'lostAnswer') {
      const { eventType, eid } = answer.event;
      send(res, answer);
      eventStatuses.push(
        await sendEvent(eventType, null, { eid }).then(
          (a) => a.status,
          () => 0,
        ),
      );
      return;
    }
    const event = answer.event?.iccid && webhook && (readings.callEvents ?? 'none') !== 'none' ? answer.event : undefined;
    // a platform that tells its webhook first answers the call only once the webhook answered
    if (event?.iccid && readings.callEvents === 'beforeAnswer') eventStatuses.push((await sendEvent(event.eventType, event.iccid)).status);
    if (fault?.kind === 'lostAnswer') {
      req.socket.destroy();
    } else {
      send(res, answer);
    }
    // the call is answered already: a webhook that cannot be reached is only counted (status 0)
    if (event?.iccid && readings.callEvents === 'afterAnswer')
      eventStatuses.push(
        await sendEvent(event.eventType, event.iccid).then(
          (a) => a.status,
          () => 0,
        ),
      );
  };
  const server = http.createServer((req, res) => {
    handler(req, res).catch(() => send(res, error(500, 'INTERNAL_ERROR', 'simulator failure')));
  });
  const host = options.host ?? '127.0.0.1';
  const port = await listen(server, host, options.port ?? 0);
  return {
    url: `http://${host}:${port}`,
    calls,
    profiles,
    devices,
    eventStatuses,
    failNext: (pattern, fault) => {
      faults.push({ pattern, fault });
    },
    webhookTo: (url, secret) => {
      webhook = { url, secret };
    },
    download,
    sendEvent,
    close: () => closeServer(server),
  };
}

function send(res: http.ServerResponse, answer: Answer): void {
  if (answer.body === undefined) {
    res.writeHead(answer.status, answer.headers).end();
    return;
  }
  res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers }).end(JSON.stringify(answer.body));
}
