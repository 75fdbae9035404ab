/**
 * A simulated device-management platform speaking the seed's `/ws/v1/esim_profiles`: devices with
 * eUICCs and their profiles (active / inactive), the actions download, enable, disable and delete,
 * each a transaction that stays `in_progress` for `transactionMs` and then is `complete` (or
 * `failed` on demand, or never ends when held), the multistep operation `activate` (download, then
 * enable: statuses starting, download, enable, successful / failed), the inventory with a cursor
 * when a page is full (`size`, `query` with `eid="…"`), and the bulk CSV call capped with a
 * `Truncated` header. Where the seed allows two readings it has a switch per reading (`readings`):
 * what a transaction under way reports, the body of `inventory/{iccid}` and of an operation, when a
 * page carries a cursor, the platform's own page size, the name of an action's transaction id, what
 * the multistep operation's carrier finds, which download bodies it takes. Its multistep operation
 * picks the profile to enable by carrier, as the seed warns, and fails when none reports it. It
 * checks the API key the hub presents. For the quick start it also plays the CMP's back office
 * (`POST /backoffice/events`, seen at `GET /simulator/backoffice`) and shows its vehicles (`GET
 * /simulator/vehicles`). Everything is in memory.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { closeServer, listen, readJsonObject } from '../../simulators/simulatorServer';

export interface SimProfile {
  readonly iccid: string;
  status: 'active' | 'inactive';
  readonly carrier: string;
  readonly type: string;
}

export interface SimDevice {
  readonly deviceId: string;
  readonly eid: string;
  readonly profiles: Map<string, SimProfile>;
}

export type SimAction = 'download' | 'enable' | 'disable' | 'delete' | 'activate';

interface Transaction {
  readonly transaction: string;
  readonly action: Exclude<SimAction, 'activate'>;
  readonly device: SimDevice;
  iccid?: string;
  readonly activationCode?: string;
  status: 'in_progress' | 'complete' | 'failed';
  readonly endsAt: number;
  readonly fails?: string;
  readonly created: string;
  updated: string;
  message?: string;
}

interface Operation {
  readonly id: string;
  readonly device: SimDevice;
  readonly carrier?: string;
  readonly activationCode?: string;
  iccid?: string;
  status: 'starting' | 'download' | 'enable' | 'successful' | 'failed';
  readonly created: string;
  download_tx?: string;
  enable_tx?: string;
  message?: string;
}

/** the seed's two readings, one switch each (the first value is the default) */
export interface DeviceMgmtReadings {
  /** a transaction under way: `in_progress`, `unknown` (seed: among the statuses), or no status */
  readonly running?: 'in_progress' | 'unknown' | 'none';
  /** `inventory/{iccid}` and `operations/inventory/{id}` (listed with "cursor size query orderby"):
   * the record itself (404 when none), or `{count, list}` (an empty list when none) */
  readonly single?: 'object' | 'list';
  /** "a cursor value is returned in the full page": only when more rows follow, on every full page
   * (the last one too), or never */
  readonly cursor?: 'more' | 'fullPage' | 'never';
  /** the platform's own largest page (seed: "The maximum and default is 1000") */
  readonly pageSize?: number;
  /** an action's answer names its transaction ("return a transaction ID") as `transaction`, the
   * transaction data's name, or as `id` */
  readonly actionAnswer?: 'transaction' | 'id';
  /** the multistep operation's carrier, "Used to find a matching activation code or existing profile
   * on the device": it downloads the code, or enables a profile of that carrier already on the
   * device without downloading, or (`codeByCarrier`) downloads a code registered under that carrier,
   * the supplier's name, ignoring the code in the request */
  readonly operationFinds?: 'code' | 'existingProfile' | 'codeByCarrier';
  /** the download's body (seed: `iccid` "If the activation code is registered with the system, then
   * required for download"; `activation_code` "Only required if the activation code is not already
   * registered … If … already registered, then use the iccid"): any of the code, the ICCID or both;
   * `exclusive`: an unregistered code never with an ICCID, an ICCID alone only for a registered code;
   * `iccidWhenRegistered`: a registered code's download must name its ICCID */
  readonly downloadBody?: 'either' | 'exclusive' | 'iccidWhenRegistered';
}

export interface DeviceMgmtSimulatorOptions {
  readonly apiKey: string;
  /** the fleet: device id and EID per vehicle, and the profiles it has already (a bootstrap one) */
  readonly devices: readonly { readonly deviceId: string; readonly eid: string; readonly profiles?: readonly SimProfile[] }[];
  /** how long a transaction stays in progress */
  readonly transactionMs?: number;
  /** the SPN a downloaded profile reports (seed: it may differ from the activation code's carrier) */
  readonly reportedCarrier?: string;
  readonly readings?: DeviceMgmtReadings;
  readonly host?: string;
  readonly port?: number;
}

export interface DeviceMgmtSimulator {
  readonly url: string;
  readonly devices: ReadonlyMap<string, SimDevice>;
  /** every request, for the tests: method, path and query, body */
  readonly calls: { readonly method: string; readonly path: string; readonly body: Record<string, unknown> }[];
  /** the ICCID a car reports after downloading the profile of `activationCode` (else one made up);
   * `registered`: the code is registered with the platform (`supplier`: the carrier it is registered
   * under, the supplier's name, which the profile need not report) */
  registerCode(activationCode: string, iccid: string, registered?: { readonly supplier?: string } | false): void;
  /** the next `calls` calls whose path (and query) starts with `path` are answered `status` (a refusal) */
  refuseNext(path: string, status: number, calls?: number): void;
  /** the answer to the next start of `action` comes `ms` late (the transaction starts at once) */
  delayNext(action: SimAction, ms: number): void;
  /** the next `calls` calls are answered 503 (the platform down for a while) */
  unavailableFor(calls: number): void;
  /** the next transaction of `action` fails with `message` */
  failNext(action: SimAction, message: string): void;
  /** transactions of `action` started from now on never end */
  hold(action: SimAction, held: boolean): void;
  /** a profile changed on a vehicle by someone else (the driver, the platform's UI) */
  change(iccid: string, change: 'active' | 'inactive' | 'deleted'): void;
  /** what the back office received (quick start) */
  readonly backOffice: unknown[];
  close(): Promise<void>;
}

const API = '/ws/v1/esim_profiles';
const BULK_CAP = 20000;

export async function startDeviceMgmtSimulator(options: DeviceMgmtSimulatorOptions): Promise<DeviceMgmtSimulator> {
  const devices = new Map<string, SimDevice>(
    options.devices.map((d) => [d.deviceId, { deviceId: d.deviceId, eid: d.eid, profiles: new Map((d.profiles ?? []).map((p) => [p.iccid, { ...p }])) }]),
  );
  let unavailable = 0;
  const delays = new Map<SimAction, number>();
  const transactions = new Map<string, Transaction>();
  const operations = new Map<string, Operation>();
  const codes = new Map<string, string>();
  /** registered codes and the supplier each is registered under */
  const registered = new Map<string, string>();
  const refusals: { path: string; status: number; calls: number }[] = [];
  const failing = new Map<SimAction, string[]>();
  const held = new Set<SimAction>();
  const calls: DeviceMgmtSimulator['calls'] = [];
  const backOffice: unknown[] = [];
  const transactionMs = options.transactionMs ?? 50;
  const readings = {
    running: 'in_progress',
    single: 'object',
    cursor: 'more',
    pageSize: 1000,
    actionAnswer: 'transaction',
    operationFinds: 'code',
    downloadBody: 'either',
    ...options.readings,
  } as const;
  let iccidSerial = 0;

  const now = () => new Date().toISOString();
  const error = (status: number, message: string) => ({ status, body: { error_status: status, error_message: message } });

  function profileRows(): Record<string, unknown>[] {
    return [...devices.values()].flatMap((d) =>
      [...d.profiles.values()].map((p, i) => ({
        iccid: p.iccid,
        eid: d.eid,
        device_id: d.deviceId,
        status: p.status,
        carrier: p.carrier,
        normalized_carrier: p.carrier.toLowerCase(),
        type: p.type,
        id: i + 1,
        customer_id: 1,
      })),
    );
  }

  /** seed: the query language; the simulator knows `eid="…"` */
  function filtered(query: string | null): Record<string, unknown>[] {
    const rows = profileRows();
    const eid = /^eid\s*=\s*"([0-9]+)"$/.exec(query ?? '')?.[1];
    return eid ? rows.filter((r) => r.eid === eid) : rows;
  }

  function start(
    action: Exclude<SimAction, 'activate'>,
    device: SimDevice,
    iccid: string | undefined,
    activationCode: string | undefined,
    failsWith?: string,
  ): Transaction {
    const fails = failsWith ?? failing.get(action)?.shift();
    const tx: Transaction = {
      transaction: randomUUID(),
      action,
      device,
      iccid,
      activationCode,
      status: 'in_progress',
      endsAt: held.has(action) ? Number.POSITIVE_INFINITY : Date.now() + transactionMs,
      fails,
      created: now(),
      updated: now(),
    };
    transactions.set(tx.transaction, tx);
    return tx;
  }

  /** a transaction's state when it is looked at: it ends (and changes the vehicle) once its time is up */
  function settle(tx: Transaction): Transaction {
    if (tx.status !== 'in_progress' || Date.now() < tx.endsAt) return tx;
    tx.updated = now();
    if (tx.fails) {
      tx.status = 'failed';
      tx.message = tx.fails;
      return tx;
    }
    const { device } = tx;
    if (tx.action === 'download') {
      tx.iccid ??= (tx.activationCode && codes.get(tx.activationCode)) || `89490999${String(++iccidSerial).padStart(11, '0')}`;
      device.profiles.set(tx.iccid, { iccid: tx.iccid, status: 'inactive', carrier: options.reportedCarrier ?? 'Mobile', type: 'operational' });
    } else if (tx.action === 'enable') {
      for (const p of device.profiles.values()) p.status = p.iccid === tx.iccid ? 'active' : 'inactive';
    } else if (tx.action === 'disable') {
      const p = device.profiles.get(tx.iccid ?? '');
      if (p) p.status = 'inactive';
    } else {
      device.profiles.delete(tx.iccid ?? '');
    }
    tx.status = 'complete';
    tx.message = 'done';
    return tx;
  }

  function settleOperation(op: Operation): Operation {
    if (op.status === 'starting' || op.status === 'download') {
      const download = op.download_tx ? settle(transactions.get(op.download_tx) as Transaction) : undefined;
      const existing =
        readings.operationFinds === 'existingProfile' && op.carrier ? [...op.device.profiles.values()].find((p) => p.carrier === op.carrier) : undefined;
      if (!download && existing) {
        op.enable_tx = start('enable', op.device, existing.iccid, undefined).transaction;
        op.status = 'enable';
      } else if (!download) {
        const code =
          readings.operationFinds === 'codeByCarrier'
            ? [...registered].find(([c, supplier]) => supplier === op.carrier && !installed(codes.get(c)))?.[0]
            : op.activationCode;
        if (!code) {
          op.status = 'failed';
          op.message = `No available activation code found for carrier ${op.carrier}`;
          return op;
        }
        op.download_tx = start(
          'download',
          op.device,
          readings.operationFinds === 'codeByCarrier' ? codes.get(code) : op.iccid,
          code,
          failing.get('activate')?.shift(),
        ).transaction;
        op.status = 'download';
      } else if (download.status === 'failed') {
        op.status = 'failed';
        op.message = download.message;
      } else if (download.status === 'complete') {
        op.iccid = download.iccid;
        const target = byCarrier(op, download.iccid);
        if (!target) {
          op.status = 'failed';
          op.message = `No eSIM profile reporting carrier ${op.carrier} was found on the device`;
          return op;
        }
        op.enable_tx = start('enable', op.device, target, undefined).transaction;
        op.status = 'enable';
      }
    }
    if (op.status === 'enable') {
      const enable = settle(transactions.get(op.enable_tx as string) as Transaction);
      if (enable.status === 'complete') op.status = 'successful';
      if (enable.status === 'failed') {
        op.status = 'failed';
        op.message = enable.message;
      }
    }
    return op;
  }

  /** seed: the operation uses the carrier "to find a matching activation code or existing profile
   * on the device"; a downloaded profile reporting another SPN makes it "activate another profile" */
  function byCarrier(op: Operation, downloaded: string | undefined): string | undefined {
    const profile = op.device.profiles.get(downloaded ?? '');
    if (!op.carrier || profile?.carrier === op.carrier) return downloaded;
    return [...op.device.profiles.values()].find((p) => p.carrier === op.carrier)?.iccid;
  }

  function installed(iccid: string | undefined): boolean {
    return iccid !== undefined && [...devices.values()].some((d) => d.profiles.has(iccid));
  }

  /** the download's body in the reading played: a refusal, or nothing */
  function downloadRefused(code: string | undefined, iccid: string | undefined): string | undefined {
    const known = code !== undefined ? registered.has(code) : [...registered.keys()].some((c) => codes.get(c) === iccid);
    if (code === undefined && iccid === undefined) return 'activation_code or iccid required';
    if (readings.downloadBody === 'exclusive' && !known && iccid !== undefined)
      return code === undefined ? 'activation_code is required' : 'iccid must not be given with an unregistered activation_code';
    if (readings.downloadBody === 'iccidWhenRegistered' && known && iccid === undefined) return 'iccid is required for a registered activation code';
    return undefined;
  }

  function txView(tx: Transaction): Record<string, unknown> {
    const running = tx.status === 'in_progress';
    return {
      transaction: tx.transaction,
      action: tx.action,
      status: running ? (readings.running === 'none' ? undefined : readings.running) : tx.status,
      device_id: tx.device.deviceId,
      eid: tx.device.eid,
      iccid: tx.iccid,
      message: tx.message,
      message_code: tx.status === 'failed' ? 'ERROR' : undefined,
      created: tx.created,
      updated: tx.updated,
      customer_id: 1,
    };
  }

  function operationView(op: Operation): Record<string, unknown> {
    const { device, ...view } = op;
    return { ...view, device_id: device.deviceId, eid: device.eid, operation: 'activate' };
  }

  function route(
    method: string,
    path: string,
    query: URLSearchParams,
    body: Record<string, unknown>,
  ): { status: number; body: unknown; headers?: Record<string, string> } {
    let m: RegExpExecArray | null;
    if (method === 'GET' && path === '/inventory') {
      const size = Math.min(readings.pageSize, Math.max(1, Number(query.get('size') ?? 1000) || 1000));
      const offset = Number(query.get('cursor') ?? 0) || 0;
      const rows = filtered(query.get('query'));
      const list = rows.slice(offset, offset + size);
      const full = list.length === size;
      const more = offset + size < rows.length;
      const cursor = readings.cursor === 'more' ? more : readings.cursor === 'fullPage' && full;
      return { status: 200, body: { count: list.length, size, list, ...(cursor ? { cursor: String(offset + size) } : {}) } };
    }
    if (method === 'GET' && path === '/bulk') {
      const rows = filtered(query.get('query'));
      const csv = [
        'iccid,eid,device_id,status,carrier',
        ...rows.slice(0, BULK_CAP).map((r) => [r.iccid, r.eid, r.device_id, r.status, r.carrier].map((v) => String(v as string)).join(',')),
      ].join('\n');
      return { status: 200, body: csv, headers: rows.length > BULK_CAP ? { truncated: 'true' } : {} };
    }
    if ((m = /^\/inventory\/([0-9]+)$/.exec(path)) && method === 'GET') {
      const row = profileRows().find((r) => r.iccid === m?.[1]);
      if (readings.single === 'list') return { status: 200, body: { count: row ? 1 : 0, list: row ? [row] : [] } };
      return row ? { status: 200, body: row } : error(404, 'no such eSIM profile');
    }
    if ((m = /^\/(download|enable|disable|delete)$/.exec(path)) && method === 'POST') {
      const action = m[1] as Exclude<SimAction, 'activate'>;
      const device = devices.get(String(body.device_id));
      if (!device || device.eid !== body.eid) return error(400, 'device_id and eid must name one device');
      const iccid = typeof body.iccid === 'string' ? body.iccid : undefined;
      const refused = action === 'download' ? downloadRefused(typeof body.activation_code === 'string' ? body.activation_code : undefined, iccid) : undefined;
      if (refused) return error(400, refused);
      if (action !== 'download' && (!iccid || !device.profiles.has(iccid))) return error(400, 'no such profile on the device');
      const tx = start(action, device, iccid, typeof body.activation_code === 'string' ? body.activation_code : undefined);
      return { status: 200, body: { [readings.actionAnswer]: tx.transaction, status: tx.status } };
    }
    if ((m = /^\/progress\/([^/]+)$/.exec(path)) && method === 'GET') {
      const tx = transactions.get(decodeURIComponent(m[1]));
      return tx ? { status: 200, body: txView(settle(tx)) } : error(404, 'no such transaction');
    }
    if (method === 'POST' && path === '/operations/inventory') {
      const device = devices.get(String(body.device_id));
      if (!device || device.eid !== body.eid) return error(400, 'device_id and eid must name one device');
      if (body.operation !== 'activate') return error(400, 'the simulator runs operation activate');
      const op: Operation = {
        id: randomUUID(),
        created: now(),
        device,
        carrier: typeof body.carrier === 'string' ? body.carrier : undefined,
        activationCode: typeof body.activation_code === 'string' ? body.activation_code : undefined,
        iccid: typeof body.iccid === 'string' ? body.iccid : undefined,
        status: 'starting',
      };
      operations.set(op.id, op);
      return { status: 200, body: { id: op.id, status: op.status } };
    }
    if (method === 'GET' && (path === '/transactions/inventory' || path === '/operations/inventory')) {
      // seed: newest first when asked `orderby=desc created`; the query names the device
      const deviceId = /^device_id\s*=\s*"([^"]+)"$/.exec(query.get('query') ?? '')?.[1];
      const rows =
        path === '/transactions/inventory'
          ? [...transactions.values()].map((tx) => txView(settle(tx)))
          : [...operations.values()].map((op) => operationView(settleOperation(op)));
      const list = rows.filter((r) => deviceId === undefined || r.device_id === deviceId).reverse();
      return { status: 200, body: { count: list.length, size: 1000, list } };
    }
    if ((m = /^\/operations\/inventory\/([^/]+)$/.exec(path)) && method === 'GET') {
      const op = operations.get(decodeURIComponent(m[1]));
      if (!op) return error(404, 'no such operation');
      const view = operationView(settleOperation(op));
      return { status: 200, body: readings.single === 'list' ? { count: 1, list: [view] } : view };
    }
    return error(404, 'no such endpoint');
  }

  const handler = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://platform');
    const body = await readJsonObject(req);
    if (!body) return send(res, error(400, 'the body is not JSON'));
    if (url.pathname === '/backoffice/events' && req.method === 'POST') {
      backOffice.push(body);
      return send(res, { status: 204, body: undefined });
    }
    if (url.pathname === '/simulator/backoffice') return send(res, { status: 200, body: { events: backOffice } });
    if (url.pathname === '/simulator/vehicles') {
      return send(res, {
        status: 200,
        body: { vehicles: [...devices.values()].map((d) => ({ device_id: d.deviceId, eid: d.eid, profiles: [...d.profiles.values()] })) },
      });
    }
    if (req.headers['api-key'] !== options.apiKey) return send(res, error(401, 'authentication required'));
    if (!url.pathname.startsWith(`${API}/`)) return send(res, error(404, 'no such endpoint'));
    const path = url.pathname.slice(API.length);
    calls.push({ method: req.method ?? '', path: path + url.search, body });
    if (unavailable > 0) {
      unavailable -= 1;
      return send(res, error(503, 'service unavailable'));
    }
    const refusal = refusals.find((r) => r.calls > 0 && (path + url.search).startsWith(r.path));
    if (refusal) {
      refusal.calls -= 1;
      return send(res, error(refusal.status, 'refused'));
    }
    const answer = route(req.method ?? '', path, url.searchParams, body);
    const action = /^\/(download|enable|disable|delete)$/.exec(path)?.[1] as SimAction | undefined;
    const delay = action && req.method === 'POST' ? delays.get(action) : undefined;
    if (action && delay !== undefined) {
      delays.delete(action);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
    if (!res.destroyed) send(res, answer);
  };
  const server = http.createServer((req, res) => {
    handler(req, res).catch(() => send(res, error(500, 'simulator failure')));
  });
  const host = options.host ?? '127.0.0.1';
  const port = await listen(server, host, options.port ?? 0);
  return {
    url: `http://${host}:${port}`,
    devices,
    calls,
    backOffice,
    registerCode: (code, iccid, asRegistered = {}) => {
      codes.set(code, iccid);
      if (asRegistered) registered.set(code, asRegistered.supplier ?? options.reportedCarrier ?? 'Mobile');
    },
    refuseNext: (path, status, n = 1) => {
      refusals.push({ path, status, calls: n });
    },
    delayNext: (action, ms) => {
      delays.set(action, ms);
    },
    unavailableFor: (n) => {
      unavailable = n;
    },
    failNext: (action, message) => {
      failing.set(action, [...(failing.get(action) ?? []), message]);
    },
    hold: (action, on) => {
      if (on) held.add(action);
      else held.delete(action);
    },
    change: (iccid, change) => {
      for (const device of devices.values()) {
        const profile = device.profiles.get(iccid);
        if (!profile) continue;
        if (change === 'deleted') device.profiles.delete(iccid);
        else profile.status = change;
      }
    },
    close: () => closeServer(server),
  };
}

function send(res: http.ServerResponse, answer: { status: number; body: unknown; headers?: Record<string, string> }): void {
  if (answer.body === undefined) {
    res.writeHead(answer.status, answer.headers).end();
    return;
  }
  const csv = typeof answer.body === 'string';
  res
    .writeHead(answer.status, { 'content-type': csv ? 'text/csv' : 'application/json', ...answer.headers })
    .end(csv ? answer.body : JSON.stringify(answer.body));
}
