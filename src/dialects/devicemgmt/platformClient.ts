/**
 * The client of a CMP's device-management platform (seed: `/ws/v1/esim_profiles`), through the same
 * upstream layer as every partner (pool, TLS, credential, deadline, breaker, outbound limit). The
 * actions (download, enable, disable, delete) and the multistep operation answer at once with a
 * transaction or operation to follow; the inventory pages with a cursor. An answer other than 2xx
 * is a DevicePlatformError with its status; no answer is the upstream layer's UpstreamError. Where
 * the seed allows two readings (a body as an object or as a list, a cursor on every full page or
 * only when more follow) the client accepts both (docs/dialects/devicemgmt.md). A platform
 * that stops answering is one warning and the `platform_available` gauge, not a line per call.
 */
import type { Logger } from '../../log';
import { type Upstream } from '../../upstream/upstream';
import { UpstreamError } from '../../errors/upstreamError';
import type { DevicemgmtMetrics } from './metrics';

export const ESIM_PATH = '/ws/v1/esim_profiles';
/** seed: "The maximum and default is 1000" */
export const PAGE_SIZE = 1000;
/** a task's run makes at most three calls: within its lock (tasks.ts) */
export const CALL_TIMEOUT_MS = 5000;

export type Action = 'download' | 'enable' | 'disable' | 'delete';

/** seed: eSIM Action Data */
export interface ActionRequest {
  readonly device_id: string;
  readonly eid: string;
  readonly iccid?: string;
  readonly activation_code?: string;
}

/** seed: eSIM Profile Transaction Data (status: in_progress, complete, failed, unknown) */
export interface Transaction {
  readonly status: string;
  readonly iccid?: string;
  readonly message_code?: string;
  readonly message?: string;
}

/** seed: eSIM Multistep Operation Data (status: starting, download, download_verify, enable,
 * enable_verify, failed, successful) */
export interface Operation {
  readonly id: string;
  readonly status: string;
  readonly iccid?: string;
  readonly download_tx?: string;
  readonly enable_tx?: string;
  readonly message_code?: string;
  readonly message?: string;
}

/** seed: eSIM Profile Data */
export interface InventoryProfile {
  readonly iccid: string;
  readonly eid?: string;
  readonly device_id?: string;
  readonly status?: string;
  readonly carrier?: string;
  readonly type?: string;
}

/** one page of the inventory; `last` when it is known to be the end: no cursor, and fewer rows than
 * a full page (seed: the cursor "is returned in the full page" when more are available, so a full
 * page without one may be the end or not) */
export interface InventoryPage {
  readonly profiles: InventoryProfile[];
  readonly cursor?: string;
  readonly last: boolean;
}

export class DevicePlatformError extends Error {
  constructor(
    readonly httpStatus: number,
    message: string,
  ) {
    super(message);
    this.name = 'DevicePlatformError';
  }
}

/** answers that say nothing of the request itself: the hub's credential refused (401, 403), a
 * timeout (408), too many requests (429) */
const NOT_ABOUT_THE_REQUEST = new Set([401, 403, 408, 429]);

/** the platform away, failing or refusing the hub itself (no answer, 5xx, 401/403/408/429): what is
 * waiting for it waits, nothing is concluded */
export function isPlatformAway(err: unknown): boolean {
  return err instanceof UpstreamError || (err instanceof DevicePlatformError && (err.httpStatus >= 500 || NOT_ABOUT_THE_REQUEST.has(err.httpStatus)));
}

export class DevicePlatformClient {
  /** the platform has failed since it last answered: warned about once */
  private away = false;

  constructor(
    private readonly upstream: Upstream,
    private readonly metrics: DevicemgmtMetrics,
  ) {}

  private get cmp(): string {
    return this.upstream.partner.id;
  }

  /** starts an action on a device: its transaction id; `tried`: a refusal (400) is expected */
  async act(action: Action, body: ActionRequest, log: Logger, tried = false): Promise<string> {
    const json = await this.call(action, 'POST', `/${action}`, log, body, { tried });
    const tx = json.transaction ?? json.tx ?? json.id;
    if (typeof tx !== 'string' && typeof tx !== 'number') throw new DevicePlatformError(502, `the ${action} answer names no transaction`);
    return String(tx);
  }

  /**
   * Starts the download of the MSP's code. Seed: `activation_code` "Only required if the activation
   * code is not already registered with the system. If the activation code is already registered
   * with the system, then use the iccid for download", and `iccid` "If the activation code is
   * registered with the system, then required for download". Whether the MSP's code is registered
   * the hub cannot know, and a platform may read "use the iccid" as "the iccid alone": the code
   * with the ICCID first (the platform then knows the profile by the ICCID the MSP gave, which the
   * hub reports under), and on a 400 (a refused body starts nothing) the code alone, then the ICCID
   * alone.
   */
  async download(device: { device_id: string; eid: string }, activationCode: string | undefined, iccid: string | undefined, log: Logger): Promise<string> {
    const forms: { activation_code?: string; iccid?: string }[] = [];
    if (activationCode !== undefined && iccid !== undefined) forms.push({ activation_code: activationCode, iccid });
    if (activationCode !== undefined) forms.push({ activation_code: activationCode });
    if (iccid !== undefined) forms.push({ iccid });
    for (const [i, form] of forms.entries()) {
      const last = i === forms.length - 1;
      try {
        return await this.act('download', { ...device, ...form }, log, !last);
      } catch (err) {
        if (last || !(err instanceof DevicePlatformError) || err.httpStatus !== 400) throw err;
        log.debug({ fields: Object.keys(form) }, 'the platform refused this form of the download; trying the next');
      }
    }
    throw new DevicePlatformError(400, 'a download needs an activation code or an ICCID');
  }

  async progress(tx: string, log: Logger): Promise<Transaction> {
    const json = await this.call('progress', 'GET', `/progress/${encodeURIComponent(tx)}`, log);
    return { ...json, status: typeof json.status === 'string' ? json.status : 'unknown' };
  }

  /** starts a multistep operation (download and enable): its id */
  async startOperation(body: Readonly<Record<string, unknown>>, log: Logger): Promise<string> {
    const json = await this.call('startOperation', 'POST', '/operations/inventory', log, body);
    if (typeof json.id !== 'string' && typeof json.id !== 'number') throw new DevicePlatformError(502, 'the operation answer names no id');
    return String(json.id);
  }

  /** seed: `GET operations/inventory/{id}` takes "cursor size query orderby" like a list: the
   * operation comes as the object itself or as the one row of `list` */
  async operation(id: string, log: Logger): Promise<Operation> {
    const json = await this.call('operation', 'GET', `/operations/inventory/${encodeURIComponent(id)}`, log);
    const row = Array.isArray(json.list) ? (json.list as unknown[]).find((r) => isObject(r) && String(r.id) === id) : json;
    if (!isObject(row)) throw new DevicePlatformError(502, 'the operation answer holds no operation');
    return { ...row, id, status: typeof row.status === 'string' ? row.status : 'unknown' };
  }

  /**
   * The profile as the platform reports it (seed: `GET inventory/{iccid}`), null when no vehicle
   * reports it: a 404, or an empty list. The profile comes as the object itself or as the row of
   * `list`; an answer that names another ICCID is not understood (502), never taken for "gone".
   */
  async profile(iccid: string, log: Logger): Promise<InventoryProfile | null> {
    const json = await this.call('profile', 'GET', `/inventory/${encodeURIComponent(iccid)}`, log, undefined, { absentOn404: true });
    if (json === undefined) return null;
    if (Array.isArray(json.list) && json.list.length === 0) return null;
    const row = Array.isArray(json.list) ? (json.list as unknown[]).find((r) => isObject(r) && r.iccid === iccid) : json;
    if (!isObject(row) || row.iccid !== iccid) throw new DevicePlatformError(502, 'the profile answer names another profile');
    return row as unknown as InventoryProfile;
  }

  /**
   * The newest transaction of `action` on the device started at `since` or later (and for `iccid`
   * when given): how a task finds the action an instance started and died before it could record.
   * Seed: `transactions/inventory` (or `operations/inventory` for `activate`), queried by device.
   */
  async startedSince(action: Action | 'activate', deviceId: string, since: number, iccid: string | undefined, log: Logger): Promise<string | undefined> {
    const path = action === 'activate' ? '/operations/inventory' : '/transactions/inventory';
    const params = new URLSearchParams({ size: String(PAGE_SIZE), query: `device_id="${deviceId}"`, orderby: 'desc created' });
    const json = await this.call(action === 'activate' ? 'operations' : 'transactions', 'GET', `${path}?${params.toString()}`, log);
    const list = Array.isArray(json.list) ? (json.list as Record<string, unknown>[]) : [];
    const found = list.find(
      (t) =>
        (action === 'activate' || t.action === action) &&
        (iccid === undefined || t.iccid === undefined || t.iccid === iccid) &&
        typeof t.created === 'string' &&
        Date.parse(t.created) >= since,
    );
    const id = action === 'activate' ? found?.id : found?.transaction;
    return typeof id === 'string' ? id : undefined;
  }

  /** one page of the inventory: a cursor is followed whatever the page's length (a platform may
   * serve fewer rows than asked); a cursor given back unchanged ends the walk */
  async inventory(query: string | undefined, cursor: string | undefined, log: Logger): Promise<InventoryPage> {
    const params = new URLSearchParams({ size: String(PAGE_SIZE) });
    if (query) params.set('query', query);
    if (cursor) params.set('cursor', cursor);
    const json = await this.call('inventory', 'GET', `/inventory?${params.toString()}`, log);
    const list = Array.isArray(json.list) ? json.list : [];
    const profiles = list.filter((p): p is InventoryProfile => isObject(p) && typeof p.iccid === 'string');
    const next = typeof json.cursor === 'string' && json.cursor !== '' && json.cursor !== cursor ? json.cursor : undefined;
    // the page size the platform applied when it says so (its own maximum may be below ours)
    const served = typeof json.size === 'number' && json.size > 0 ? Math.min(json.size, PAGE_SIZE) : PAGE_SIZE;
    return { profiles, cursor: next, last: next === undefined && list.length < served };
  }

  /** a call and its JSON object; with `absentOn404`, undefined for a 404 (an answer, not a failure);
   * `tried`: a 400 is one of the forms tried, logged at debug */
  private async call(
    fn: string,
    method: 'GET' | 'POST',
    path: string,
    log: Logger,
    body?: unknown,
    options?: { tried: boolean },
  ): Promise<Record<string, unknown>>;
  private async call(
    fn: string,
    method: 'GET',
    path: string,
    log: Logger,
    body: undefined,
    options: { absentOn404: true },
  ): Promise<Record<string, unknown> | undefined>;
  private async call(
    fn: string,
    method: 'GET' | 'POST',
    path: string,
    log: Logger,
    body?: unknown,
    options: { absentOn404?: boolean; tried?: boolean } = {},
  ): Promise<Record<string, unknown> | undefined> {
    const labels = { cmp: this.cmp, function: fn };
    let answer;
    try {
      answer = await this.upstream.request({
        operation: `devicemgmt.${fn}`,
        method,
        path: `${ESIM_PATH}${path}`,
        headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : Buffer.from(JSON.stringify(body)),
        timeoutMs: CALL_TIMEOUT_MS,
      });
    } catch (err) {
      if (err instanceof UpstreamError) {
        this.metrics.calls.inc({ ...labels, outcome: err.failure });
        this.failing(fn, err.failure, log);
      }
      throw err;
    }
    this.metrics.callDuration.observe(labels, answer.durationMs / 1000);
    this.metrics.calls.inc({ ...labels, outcome: answer.status >= 200 && answer.status < 300 ? 'ok' : String(answer.status) });
    if (answer.status >= 500 || NOT_ABOUT_THE_REQUEST.has(answer.status)) {
      this.failing(fn, String(answer.status), log);
      throw new DevicePlatformError(answer.status, `the platform answered ${answer.status} to ${fn}`);
    }
    this.answering(log);
    if (options.absentOn404 && answer.status === 404) return undefined;
    if (answer.status < 200 || answer.status >= 300) {
      if (options.tried && answer.status === 400) log.debug({ function: fn, httpStatus: answer.status }, 'the device-management platform refused');
      else log.warn({ function: fn, httpStatus: answer.status }, 'the device-management platform refused');
      throw new DevicePlatformError(answer.status, `the platform answered ${answer.status} to ${fn}`);
    }
    try {
      const value: unknown = answer.body.length === 0 ? {} : JSON.parse(answer.body.toString('utf8'));
      if (isObject(value)) return value;
    } catch {
      // not JSON: below
    }
    throw new DevicePlatformError(502, `the platform's answer to ${fn} is no JSON object`);
  }

  /** an outage is one warning (and the gauge at 0) until the platform answers again */
  private failing(fn: string, failure: string, log: Logger): void {
    this.metrics.platformAvailable.set({ cmp: this.cmp }, 0);
    if (this.away) {
      log.debug({ function: fn, failure }, 'the device-management platform is still away');
      return;
    }
    this.away = true;
    log.warn({ function: fn, failure }, 'the device-management platform is not answering; its vehicle tasks and the reconcile wait for it');
  }

  private answering(log: Logger): void {
    this.metrics.platformAvailable.set({ cmp: this.cmp }, 1);
    if (!this.away) return;
    this.away = false;
    log.info('the device-management platform answers again');
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
