/**
 * The client of a CMP's device-management platform (seed: `/ws/v1/esim_profiles`), through the same
 * upstream layer as every partner (pool, TLS, credential, deadline, breaker, outbound limit). The
 * actions (download, enable, disable, delete) and the multistep operation answer at once with a
 * transaction or operation to follow; the inventory pages with a cursor. An answer other than 2xx
 * is a DevicePlatformError with its status; no answer is the upstream layer's UpstreamError.
 */
import type { Logger } from '../../log';
import { type Upstream } from '../../upstream/upstream';
import { UpstreamError } from '../../upstream/upstreamError';
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

export class DevicePlatformError extends Error {
  constructor(
    readonly httpStatus: number,
    message: string,
  ) {
    super(message);
    this.name = 'DevicePlatformError';
  }
}

export class DevicePlatformClient {
  constructor(
    private readonly upstream: Upstream,
    private readonly metrics: DevicemgmtMetrics,
  ) {}

  private get cmp(): string {
    return this.upstream.partner.id;
  }

  /** starts an action on a device: its transaction id */
  async act(action: Action, body: ActionRequest, log: Logger): Promise<string> {
    const json = await this.call(action, 'POST', `/${action}`, log, body);
    const tx = json.transaction ?? json.tx ?? json.id;
    if (typeof tx !== 'string' && typeof tx !== 'number') throw new DevicePlatformError(502, `the ${action} answer names no transaction`);
    return String(tx);
  }

  async progress(tx: string, log: Logger): Promise<Transaction> {
    const json = await this.call('progress', 'GET', `/progress/${encodeURIComponent(tx)}`, log);
    return { ...json, status: typeof json.status === 'string' ? json.status : 'unknown' } as Transaction;
  }

  /** starts a multistep operation (download and enable): its id */
  async startOperation(body: Readonly<Record<string, unknown>>, log: Logger): Promise<string> {
    const json = await this.call('startOperation', 'POST', '/operations/inventory', log, body);
    if (typeof json.id !== 'string' && typeof json.id !== 'number') throw new DevicePlatformError(502, 'the operation answer names no id');
    return String(json.id);
  }

  async operation(id: string, log: Logger): Promise<Operation> {
    const json = await this.call('operation', 'GET', `/operations/inventory/${encodeURIComponent(id)}`, log);
    return { ...json, id, status: typeof json.status === 'string' ? json.status : 'unknown' } as Operation;
  }

  /**
   * The newest transaction of `action` on the device started at `since` or later (and for `iccid`
   * when given): how a task finds the action an instance started and died before it could record.
   * Seed: `transactions/inventory` (or `operations/inventory` for `activate`), queried by device.
   */
  async startedSince(action: Action | 'activate', deviceId: string, since: number, iccid: string | undefined, log: Logger): Promise<string | undefined> {
    const path = action === 'activate' ? '/operations/inventory' : '/transactions/inventory';
    const params = new URLSearchParams({ size: String(PAGE_SIZE), query: `device_id="${deviceId}"`, orderby: 'desc created' });
    const json = await this.call(action === 'activate' ? 'operations' : 'transactions', 'GET', `${path}?${params}`, log);
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

  /** one page of the inventory, and the cursor of the next when the page was full */
  async inventory(query: string | undefined, cursor: string | undefined, log: Logger): Promise<{ profiles: InventoryProfile[]; cursor?: string }> {
    const params = new URLSearchParams({ size: String(PAGE_SIZE) });
    if (query) params.set('query', query);
    if (cursor) params.set('cursor', cursor);
    const json = await this.call('inventory', 'GET', `/inventory?${params}`, log);
    const list = Array.isArray(json.list) ? json.list : [];
    const profiles = list.filter((p): p is InventoryProfile => typeof p === 'object' && p !== null && typeof (p as { iccid?: unknown }).iccid === 'string');
    const next = typeof json.cursor === 'string' && json.cursor !== '' && list.length >= PAGE_SIZE ? json.cursor : undefined;
    return { profiles, cursor: next };
  }

  private async call(fn: string, method: 'GET' | 'POST', path: string, log: Logger, body?: unknown): Promise<Record<string, unknown>> {
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
      if (err instanceof UpstreamError) this.metrics.calls.inc({ ...labels, outcome: err.failure });
      throw err;
    }
    this.metrics.callDuration.observe(labels, answer.durationMs / 1000);
    this.metrics.calls.inc({ ...labels, outcome: answer.status >= 200 && answer.status < 300 ? 'ok' : String(answer.status) });
    if (answer.status < 200 || answer.status >= 300) {
      log.warn({ function: fn, httpStatus: answer.status }, 'the device-management platform refused');
      throw new DevicePlatformError(answer.status, `the platform answered ${answer.status} to ${fn}`);
    }
    try {
      const value: unknown = answer.body.length === 0 ? {} : JSON.parse(answer.body.toString('utf8'));
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
    } catch {
      // not JSON: below
    }
    throw new DevicePlatformError(502, `the platform's answer to ${fn} is no JSON object`);
  }
}
