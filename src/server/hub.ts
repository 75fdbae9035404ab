/**
 * A running hub: the config in service, the state store, the Koa app and its listeners (plain HTTP,
 * and a TLS listener that requests and verifies partner client certificates). Reload swaps the
 * config atomically; close drains.
 */
import http from 'node:http';
import https from 'node:https';
import { createSecureContext } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildAdminApp, localViews, type AdminAuth } from '../admin/adminApp';
import { buildApp } from '../edge/app';
import { edgeHandler } from '../edge/edge';
import { ConfigError, configFiles, loadConfig } from '../config/load';
import { configWarnings } from '../config/warnings';
import { DIALECTS } from '../dialects';
import type { Config } from '../config/types';
import { accessLogOf, createLogger, type Logger } from '../log';
import { createMetrics, silenced, statusClass, type Metrics } from '../metrics/metrics';
import type { Switchable } from '../measurementSwitches';
import { Apis } from '../openapi/apis';
import { buildRuntime, type EdgeBuilder } from './runtime';
import { serveClusterViews, WORKER_STARTED } from './cluster';
import { MemoryStore } from '../state/memory/store';
import { RedisStore } from '../state/redis/store';
import type { RedisAccess } from '../state/redis/connection';
import type { Store } from '../state/store';
import { instrumentStore } from '../state/instrumentedStore';
import { withLocalFallback } from '../state/rateLimits';
import { PendingActivations } from '../activation/pendingActivations';
import { operationHandlers } from '../pipeline/operations';
import type { PipelineDeps, Runtime } from '../pipeline/types';
import { buildRouter, OperationPaths } from '../edge/router';
import { Breakers } from '../upstream/breakers';
import { isPartnerFailure, type UpstreamGuards } from '../upstream/upstream';
import { OutboxWorker } from '../outbox/deliveryWorker';
import { JourneyRecorder } from '../journeys/recorder';
import { stuckJourneysGauge } from '../journeys/metrics';
import { createListener, DEFAULT_CONNECTION_LIMITS, listenOn, type ConnectionLimits, type TlsMaterial } from '../edge/listener';
import { HubError, type ErrorKind } from '../errors/catalogue';
import { LoginThrottle } from '../pipeline/loginThrottle';
import { PROJECT_ROOT, VERSION } from '../version';
import type { TracingSettings } from '../tracing/settings';
import { Tracing } from '../tracing/tracing';
import { certificatesOf, TrustedProxies } from '../forwardedClient';
import { watchContent, type ContentWatch } from './contentWatch';
import { startupFailure } from '../errors/startupError';

export const SPEC_DIR = path.join(PROJECT_ROOT, 'spec');

export interface Listen {
  readonly host: string;
  readonly port: number;
}

export interface TlsListen extends Listen {
  readonly cert: string;
  readonly key: string;
  /** the CA(s) that issued partner client certificates */
  readonly clientCa: string;
}

export interface HubOptions {
  readonly configDir: string;
  /** the partner files, when not in `configDir/partners` */
  readonly partnersDir?: string;
  readonly listen?: Listen;
  readonly tls?: TlsListen;
  /** Redis when given (one server, Sentinel or Cluster); in-memory state otherwise */
  readonly redis?: RedisAccess;
  /** one Redis server: shorthand for `redis` */
  readonly redisUrl?: string;
  readonly redisKeyPrefix?: string;
  readonly log?: Logger;
  readonly metrics?: Metrics;
  readonly env?: NodeJS.ProcessEnv;
  /** features switched off to measure their cost (bench/ only) */
  readonly switchedOff?: ReadonlySet<Switchable>;
  /** connections the partner listeners take (listener.ts) */
  readonly connectionLimits?: ConnectionLimits;
  /** the admin listener: metrics, health, the partner view */
  readonly admin?: { readonly listen: Listen; readonly auth?: AdminAuth };
  /** one of `--workers` processes: its metrics and views go to the primary's admin listener */
  readonly clusterWorker?: boolean;
  /** reload when the config folder's files or the listener's TLS files change, as on SIGHUP */
  readonly watchFiles?: boolean;
  /** load balancers whose forwarded client certificates and addresses are believed (forwardedClient.ts) */
  readonly trustedProxies?: readonly string[];
  /** the partners' CA: forwarded certificates must be issued by it (the TLS listener's is `tls.clientCa`) */
  readonly clientCa?: string;
  /** export OpenTelemetry traces (tracing/settings.ts); none when absent */
  readonly tracing?: TracingSettings;
  /** wraps the connected store (tests only: a store that loses the answers of chosen calls) */
  readonly wrapStore?: (store: Store) => Store;
}

export type ReloadResult = { readonly ok: true; readonly generation: number } | { readonly ok: false; readonly problems: readonly string[] };

export class Hub {
  private runtime: Runtime;
  private readonly servers: (http.Server | https.Server)[] = [];
  private readonly background = new Set<Promise<unknown>>();
  private draining = false;
  private adminServer?: http.Server;
  private tlsServer?: https.Server;
  private proxies?: TrustedProxies;
  private readonly watches: ContentWatch[] = [];
  readonly worker: OutboxWorker;

  private constructor(
    private readonly options: HubOptions,
    readonly store: Store,
    readonly metrics: Metrics,
    readonly log: Logger,
    private readonly guards: UpstreamGuards,
    private readonly edge: EdgeBuilder,
    activations: PendingActivations,
    journeys: JourneyRecorder,
    runtime: Runtime,
  ) {
    this.runtime = runtime;
    metrics.configGeneration.set(runtime.generation);
    this.worker = new OutboxWorker(store.outbox, activations, () => this.runtime, log, metrics, guards.tracing, journeys);
  }

  /** keeps work that outlives its request, so that close waits for it */
  track(work: Promise<unknown>): void {
    const settled = work
      .catch((err: unknown) => this.log.error({ err: (err as Error).message }, 'background work failed'))
      .finally(() => this.background.delete(settled));
    this.background.add(settled);
  }

  /** loads config and spec, connects the store, and listens; throws ConfigError on a bad config */
  static async start(options: HubOptions): Promise<Hub> {
    // the listener's TLS files first: one missing or unusable is told before any port is taken
    const material = options.tls ? tlsMaterial(options.tls) : undefined;
    const log = options.log ?? createLogger();
    const off = options.switchedOff ?? new Set();
    if (off.size > 0) log.warn({ switchedOff: [...off] }, 'features switched off for measuring; never run a hub like this for partners');
    const created = options.metrics ?? createMetrics(undefined, { processMetrics: true });
    const metrics = off.has('metrics') ? silenced(created) : created;
    const config = loadConfig(options.configDir, DIALECTS, options.env, options.partnersDir);
    for (const warning of configWarnings(config, DIALECTS)) log.warn({ warning }, 'configuration against AID.02 section 6');
    const apis = await Apis.load(SPEC_DIR);
    const redis = options.redis ?? (options.redisUrl !== undefined ? { target: { kind: 'single' as const, url: options.redisUrl } } : undefined);
    const connected = redis
      ? await RedisStore.connect({
          access: redis,
          keyPrefix: options.redisKeyPrefix,
          onError: (err) => log.error({ err: err.message }, 'redis connection error'),
          onUnreplicated: (replicas) => {
            metrics.redisUnreplicatedWrites.inc();
            log.warn({ replicas, asked: redis.waitReplicas }, 'a write reached fewer Redis replicas than --redis-wait-replicas in time');
          },
        })
      : new MemoryStore({ maxEntries: config.settings.memoryStoreMaxEntries });
    const tracing = options.tracing && new Tracing(options.tracing, VERSION, log);
    const instrumented = instrumentStore(options.wrapStore ? options.wrapStore(connected) : connected, metrics);
    const store = tracing ? tracing.linkingDeliveries(instrumented) : instrumented;
    metrics.setScrapeSources({ pendingActivations: () => store.ledger.countPending(), outboxDepth: () => store.outbox.depth() });
    const limits = withLocalFallback(store.limits, () => metrics.rateLimitFallbacks.inc());
    const guards: UpstreamGuards = { breakers: new Breakers(log, metrics, isPartnerFailure), store, metrics, limits, tracing };
    // the pipeline reads the runtime in service through `hub`, which exists once the first runtime does
    let hub: Hub | undefined;
    const activations = new PendingActivations(store.ledger, metrics, () => (hub as Hub).runtime.config.settings);
    const deps: PipelineDeps = {
      apis,
      store,
      metrics,
      log,
      accessLog: accessLogOf(log),
      limits,
      activations,
      runtime: () => (hub as Hub).runtime,
      track: (work) => hub?.track(work),
      draining: () => hub?.draining ?? false,
      loginThrottle: new LoginThrottle(store, (client) => {
        metrics.guessedClients.inc({ client });
        log.warn({ client }, 'failed logins for a partner past its limit: its requests from addresses that have not proven it are slowed');
      }),
      tracing,
      journeys: new JourneyRecorder(store.journeys, () => (hub as Hub).runtime.config.settings),
    };
    stuckJourneysGauge(metrics.registry, deps.journeys);
    const paths = new OperationPaths(deps.apis, operationHandlers(deps, off));
    const edge: EdgeBuilder = (inbound) => buildRouter(deps, paths, inbound);
    hub = new Hub(options, store, metrics, log, guards, edge, activations, deps.journeys, buildRuntime(config, 1, guards, log, edge));
    const started = hub;
    const views = localViews(
      {
        metrics,
        store,
        config: () => started.runtime.config,
        draining: () => started.draining,
        breakers: (partner) => guards.breakers.viewOf(partner),
      },
      deps.journeys,
    );
    if (options.admin) {
      // Koa answers its own errors: its promise is nobody's to wait for
      const admin = buildAdminApp(views, options.admin.auth).callback();
      hub.adminServer = await listenOn(
        http.createServer((req, res) => void admin(req, res)),
        options.admin.listen,
      );
    }
    // a worker of --workers: the primary's admin listener asks it (cluster.ts)
    if (options.clusterWorker) serveClusterViews(metrics.registry, views);
    const app = buildApp(deps);
    hub.worker.start();
    const koa = app.callback();
    const handler = edgeHandler(deps, paths, (req, res) => void koa(req, res));
    const connections = options.connectionLimits ?? DEFAULT_CONNECTION_LIMITS;
    // a request Node's parser refuses never reaches the pipeline: counted here
    const onRefused = (kind: ErrorKind) =>
      metrics.requests.inc({ operation: 'unknown', client: 'unauthenticated', target: 'unknown', status_class: statusClass(new HubError(kind).status) });
    const listen = options.listen ?? (options.tls ? undefined : { host: '127.0.0.1', port: 0 });
    hub.proxies = hub.trustedProxies();
    // behind a load balancer the plain listener is where partners arrive: what it forwarded is read first
    const plain = options.trustedProxies
      ? (req: http.IncomingMessage, res: http.ServerResponse) => {
          started.proxies?.accept(req);
          handler(req, res);
        }
      : handler;
    if (listen) hub.servers.push(await listenOn(createListener(plain, connections, onRefused), listen));
    if (options.tls && material) {
      hub.tlsServer = (await listenOn(createListener(handler, connections, onRefused, material), options.tls)) as https.Server;
      hub.servers.push(hub.tlsServer);
    }
    if (options.watchFiles) hub.watchFiles();
    log.info({ store: store.kind, partners: config.partners.size, routes: config.routes.size, urls: hub.urls, admin: hub.adminUrl }, 'hub started');
    if (options.tracing)
      log.info({ sampler: options.tracing.sampler, ratio: options.tracing.ratio, service: options.tracing.serviceName }, 'exporting traces over OTLP/HTTP');
    // the primary of --workers learns that this worker is up (a worker that dies before stops them all)
    if (options.clusterWorker) process.send?.({ type: WORKER_STARTED });
    return hub;
  }

  /** the config in service */
  get config(): Config {
    return this.runtime.config;
  }

  get generation(): number {
    return this.runtime.generation;
  }

  get urls(): string[] {
    return this.servers.map((s) => {
      const { address, port } = s.address() as AddressInfo;
      const host = address.includes(':') ? `[${address}]` : address;
      return `${s instanceof https.Server ? 'https' : 'http'}://${host}:${port}`;
    });
  }

  /** the admin listener's URL, when there is one */
  get adminUrl(): string | undefined {
    if (!this.adminServer) return undefined;
    const { port } = this.adminServer.address() as AddressInfo;
    return `http://${this.options.admin?.listen.host}:${port}`;
  }

  /** the plain HTTP listener's URL, or the TLS one when that is all there is */
  get url(): string {
    return this.urls[0];
  }

  /** SIGHUP: the configuration, the TLS listener's files and the partners' CA, each all or nothing */
  reload(): ReloadResult {
    this.reloadTls();
    return this.reloadConfig();
  }

  /** new TLS files take effect for new connections; files that cannot be used leave the old ones */
  reloadTls(): void {
    const tls = this.options.tls;
    try {
      if (tls && this.tlsServer) this.tlsServer.setSecureContext(tlsMaterial(tls));
      if (this.options.trustedProxies) this.proxies = this.trustedProxies();
    } catch (err) {
      this.metrics.configReloads.inc({ result: 'failure' });
      this.log.error({ err: startupFailure(err, undefined) ?? (err as Error).message }, 'TLS files refused; the previous ones stay in service');
      return;
    }
    if (tls) this.log.info({ cert: tls.cert }, 'TLS files reloaded');
  }

  private trustedProxies(): TrustedProxies | undefined {
    const { trustedProxies, clientCa } = this.options;
    if (!trustedProxies || trustedProxies.length === 0) return undefined;
    const ca = clientCa ?? this.options.tls?.clientCa;
    return new TrustedProxies(trustedProxies, ca ? certificatesOf(readFileSync(ca)) : []);
  }

  private watchFiles(): void {
    this.watches.push(
      watchContent(
        () => configFiles(this.options.configDir, this.options.partnersDir),
        () => void this.reloadConfig(),
      ),
    );
    const tls = this.options.tls;
    const tlsFiles = [tls?.cert, tls?.key, tls?.clientCa, this.options.clientCa].filter((f): f is string => f !== undefined);
    if (tlsFiles.length > 0)
      this.watches.push(
        watchContent(
          () => tlsFiles,
          () => this.reloadTls(),
        ),
      );
  }

  /** loads the config again; a bad config is refused and the one in service stays */
  reloadConfig(): ReloadResult {
    let next: Runtime;
    try {
      next = buildRuntime(
        loadConfig(this.options.configDir, DIALECTS, this.options.env, this.options.partnersDir),
        this.runtime.generation + 1,
        this.guards,
        this.log,
        this.edge,
      );
    } catch (err) {
      const problems = err instanceof ConfigError ? err.problems : [(err as Error).message];
      this.metrics.configReloads.inc({ result: 'failure' });
      this.log.error({ problems }, 'config reload refused; the previous config stays in service');
      return { ok: false, problems };
    }
    const previous = this.runtime;
    this.runtime = next;
    this.metrics.configReloads.inc({ result: 'success' });
    this.metrics.configGeneration.set(next.generation);
    this.log.info({ generation: next.generation, partners: next.config.partners.size }, 'config reloaded');
    void previous.retire();
    return { ok: true, generation: next.generation };
  }

  /** stops accepting connections, lets requests in flight, bridged outcomes and outbox deliveries
   * under way finish, then releases everything */
  async close(): Promise<void> {
    this.draining = true;
    for (const watch of this.watches) watch.close();
    await Promise.all(
      this.servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            // a keep-alive connection becomes idle once its request is answered: close it then,
            // rather than when its keep-alive timeout runs out
            const sweep = setInterval(() => s.closeIdleConnections(), 50);
            s.close(() => {
              clearInterval(sweep);
              resolve();
            });
            s.closeIdleConnections();
          }),
      ),
    );
    await this.worker.stop();
    await Promise.all(this.background);
    await this.runtime.retire();
    // the spans still buffered go out, as far as the collector takes them
    await this.guards.tracing?.shutdown().catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'traces not exported at stop'));
    // the admin listener goes last: /readyz says "stopping" for as long as the hub drains
    await new Promise<void>((resolve) => {
      if (!this.adminServer) return resolve();
      this.adminServer.close(() => resolve());
      this.adminServer.closeAllConnections();
    });
    await this.store.close();
  }
}

/** the listener's files, read and checked to make a context (a certificate and key that do not
 * belong together throw here, not when the listener is made) */
function tlsMaterial(tls: TlsListen): TlsMaterial {
  const material = { cert: readFileSync(tls.cert), key: readFileSync(tls.key), ca: readFileSync(tls.clientCa) };
  createSecureContext(material);
  return material;
}
