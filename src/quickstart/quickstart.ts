/**
 * The quick start: the hub on its embedded defaults (in-memory state, the example partners of the
 * repository) with every example partner played by a simulator on loopback, and the walk printed
 * as curl commands.
 */
import net from 'node:net';
import type { Partner } from '../config/types';
import { Hub, type HubOptions } from '../server/hub';
import { loadConfig } from '../config/load';
import { PROJECT_ROOT } from '../version';
import type { Logger } from '../log';
import type { RedisAccess } from '../state/redis/connection';
import { startCmpSimulator } from '../simulators/cmpSimulator';
import { startMspSimulator } from '../simulators/mspSimulator';
import { dialectNamed } from '../config/dialects';
import { DIALECTS } from '../dialects';
import type { RunningSimulator } from '../simulators/simulatorServer';
import { credentialHeaders, DEMO_CALLBACK_HEADERS, toCurl, walkSteps } from './walk';

/** the example MSPs that answer asynchronously; the others answer at once */
const ASYNC_MSPS = new Set(['mspBeta']);

export interface QuickStart {
  readonly hub: Hub;
  readonly simulators: readonly RunningSimulator[];
  readonly walk: string;
  close(): Promise<void>;
}

export interface QuickStartOptions {
  readonly host: string;
  readonly port: number;
  readonly log?: Logger;
  readonly redis?: RedisAccess;
  readonly admin?: HubOptions['admin'];
  /** the environment the example partners' files read (their `${..._URL}`: where each simulator listens) */
  readonly env?: NodeJS.ProcessEnv;
  /** export OpenTelemetry traces (tracing/settings.ts) */
  readonly tracing?: HubOptions['tracing'];
}

export async function startQuickStart(options: QuickStartOptions): Promise<QuickStart> {
  // the simulators listen before the hub starts: its background work (a fleet's reconcile) runs at
  // once and must find the platform it asks already there, or a clean boot logs a failure
  const partners = loadConfig(PROJECT_ROOT, DIALECTS, options.env).partners;
  const port = options.port === 0 ? await freePort(options.host) : options.port;
  const hubUrl = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`;
  const simulators: RunningSimulator[] = [];
  let hub: Hub;
  try {
    for (const partner of partners.values()) simulators.push(await simulate(partner, hubUrl));
    hub = await Hub.start({
      configDir: PROJECT_ROOT,
      listen: { host: options.host, port },
      log: options.log,
      redis: options.redis,
      admin: options.admin,
      env: options.env,
      tracing: options.tracing,
    });
  } catch (err) {
    await Promise.all(simulators.map((s) => s.close()));
    throw err;
  }
  const origin = (id: string, fallback: string) => hub.config.partners.get(id)?.upstream.url.origin ?? fallback;
  const walk = walkSteps(
    origin('cmpOne', 'http://127.0.0.1:9201'),
    origin('mspGamma', 'http://127.0.0.1:9301'),
    origin('mspDelta', 'http://127.0.0.1:9302'),
    origin('cmpFleet', 'http://127.0.0.1:9203'),
  )
    .map((step) => toCurl(step, hub.url))
    .join('\n\n');
  return {
    hub,
    simulators,
    walk,
    close: async () => {
      await Promise.all(simulators.map((s) => s.close()));
      await hub.close();
    },
  };
}

/** a port on `host` that was free a moment ago: the hub's URL must be known before it listens */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** an example partner played by its simulator, on its upstream URL's port; on `bindHost` instead of
 * the URL's host where given (a container listens on all its addresses under a service name) */
export function simulate(partner: Partner, hubUrl: string, bindHost?: string): Promise<RunningSimulator> {
  const { url, auth } = partner.upstream;
  const listen = { host: bindHost ?? url.hostname, port: Number(url.port), apiKey: auth.kind === 'apiKey' ? auth.apiKey : '' };
  // a partner whose own system is not AID.02 is played by its dialect's simulator
  const dialect = dialectNamed(DIALECTS, partner.dialect);
  if (dialect.simulate)
    return dialect.simulate(partner, partner.settings, {
      host: listen.host,
      port: listen.port,
      hubUrl,
      callbackHeaders: DEMO_CALLBACK_HEADERS[partner.id] ?? {},
    });
  if (partner.role === 'cmp') return startCmpSimulator(listen);
  return startMspSimulator({
    ...listen,
    id: partner.id,
    mode: ASYNC_MSPS.has(partner.id) ? 'async' : 'sync',
    hub: { url: hubUrl, credentials: credentialHeaders(partner.id) },
  });
}
