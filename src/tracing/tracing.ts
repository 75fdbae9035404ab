/**
 * OpenTelemetry traces, exported over OTLP/HTTP (JSON) when configured (settings.ts); without it
 * the hub makes no span object at all: every caller holds `Tracing | undefined` and skips.
 *
 * A request is a SERVER span, its parent the caller's `traceparent`; each call to a partner's
 * dialect is a CLIENT span under it, and the `traceparent` the partner receives names that span; a
 * dialect's calls to its platform (an SM-DP+, an eSIM or device platform) are CLIENT spans under the
 * partner call; an outbox delivery starts a trace of its own, linked to the span that queued it (a
 * stored request's `traceparent` header, or the trace context kept with the delivery).
 * The active span is carried by an AsyncLocalStorage of this instance, not by the SDK's global
 * context, so two hubs in one process (the tests) never see each other's spans.
 *
 * What a span carries is named and bounded: operation, partner ids, dialect, status, the operation's
 * path template. Never a body, a header value, a concrete path (paths carry msp_tokens) or a query.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage } from 'node:http';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Link, type Span, type Tracer } from '@opentelemetry/api';
import { ExportResultCode, parseTraceParent, W3CTraceContextPropagator, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type ReadableSpan,
  type Sampler,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_VERSION,
} from '@opentelemetry/semantic-conventions';
import type { Logger } from '../log';
import type { Delivery, OutboxQueue } from '../state/outbox';
import type { Ledger } from '../state/ledger';
import type { Store } from '../state/store';
import type { SamplerName, TracingSettings } from './settings';

/** the hub's own attributes: what AID.02 and the hub's config name */
export const ATTR = {
  operation: 'aid.operation',
  caller: 'aid.caller',
  target: 'aid.target',
  dialect: 'aid.dialect',
  outcome: 'aid.outcome',
  platformOperation: 'aid.platform.operation',
  attempt: 'aid.delivery.attempt',
} as const;

/** a partner call, as far as its span needs to know it (dialects/dialect.ts DialectCall) */
export interface TracedCall {
  readonly operation: string;
  readonly caller: string;
  readonly target: string;
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** a request's end, as far as its span needs to know it */
export interface RequestOutcome {
  readonly operation?: string;
  readonly route?: string;
  readonly caller?: string;
  readonly target?: string;
  readonly dialect?: string;
  readonly status: number;
  readonly outcome?: 'replayed' | 'bridged' | 'stored';
}

/** what is active within a partner call: its context, and which upstream request is the call itself */
interface Active {
  readonly context: Context;
  readonly call?: TracedCall;
}

const headers = {
  get: (carrier: IncomingMessage['headers'], key: string) => carrier[key],
  keys: (carrier: IncomingMessage['headers']) => Object.keys(carrier),
};

export class Tracing {
  private readonly provider: BasicTracerProvider;
  private readonly tracer: Tracer;
  private readonly active = new AsyncLocalStorage<Active>();
  private readonly propagator = new W3CTraceContextPropagator();

  constructor(settings: TracingSettings, version: string, log: Logger) {
    const resource = detectResources({ detectors: [envDetector] }).merge(
      resourceFromAttributes({ [ATTR_SERVICE_NAME]: settings.serviceName, [ATTR_SERVICE_VERSION]: version }),
    );
    this.provider = new BasicTracerProvider({
      resource,
      sampler: samplerOf(settings.sampler, settings.ratio),
      spanProcessors: [
        new BatchSpanProcessor(new LoggedExporter(new OTLPTraceExporter({ url: settings.url, timeoutMillis: settings.exportTimeoutMs }), log), {
          scheduledDelayMillis: settings.exportDelayMs,
        }),
      ],
    });
    this.tracer = this.provider.getTracer('aid-gateway', version);
  }

  /** a request's SERVER span, from now; its parent the caller's trace context, if any */
  request(req: IncomingMessage): RequestSpan {
    const parent = this.propagator.extract(ROOT_CONTEXT, req.headers, headers);
    const span = this.tracer.startSpan(req.method ?? 'request', { kind: SpanKind.SERVER, attributes: { [ATTR_HTTP_REQUEST_METHOD]: req.method } }, parent);
    return new RequestSpan(span, trace.setSpan(parent, span), this.active, req.method ?? '');
  }

  /** a call to a partner's dialect: a CLIENT span under the active one; the partner's
   * `traceparent`, where it gets one, names this span */
  partnerCall<C extends TracedCall, A extends { readonly status: number }>(call: C, dialect: string, send: (call: C) => Promise<A>): Promise<A> {
    const parent = this.active.getStore()?.context ?? ROOT_CONTEXT;
    const span = this.tracer.startSpan(
      `call ${call.operation}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          [ATTR.operation]: call.operation,
          [ATTR.caller]: call.caller,
          [ATTR.target]: call.target,
          [ATTR.dialect]: dialect,
          [ATTR_HTTP_REQUEST_METHOD]: call.method,
        },
      },
      parent,
    );
    const traced = call.headers.traceparent === undefined ? call : { ...call, headers: { ...call.headers, traceparent: traceparentOf(span) } };
    return ended(
      span,
      this.active.run({ context: trace.setSpan(parent, span), call: traced }, () => send(traced)),
    );
  }

  /** a request a dialect makes of its partner's platform, within a partner call (a call the
   * dialect passes on as it came is that partner call's own span); none outside of one (a
   * dialect routine's polling would fill the traces with roots) */
  platformCall<A extends { readonly status: number }>(
    name: string,
    url: URL,
    req: { readonly operation: string; readonly method: string; readonly path: string },
    send: () => Promise<A>,
  ): Promise<A> {
    const active = this.active.getStore();
    if (active === undefined || (active.call !== undefined && active.call.operation === req.operation && active.call.path === req.path)) return send();
    const attributes: Attributes = {
      [ATTR.target]: name,
      [ATTR.platformOperation]: req.operation,
      [ATTR_HTTP_REQUEST_METHOD]: req.method,
      [ATTR_SERVER_ADDRESS]: url.hostname,
      [ATTR_SERVER_PORT]: Number(url.port) || (url.protocol === 'https:' ? 443 : 80),
    };
    const span = this.tracer.startSpan(`${req.method} ${req.operation}`, { kind: SpanKind.CLIENT, attributes }, active.context);
    return ended(span, this.active.run({ context: trace.setSpan(active.context, span) }, send));
  }

  /** an outbox delivery: a trace of its own, linked to the span that queued it (the context kept
   * with the delivery, or the `traceparent` a stored request carries for its partner) */
  delivery<A extends { readonly status: number }>(delivery: Delivery, send: () => Promise<A>): Promise<A> {
    const traceparent = delivery.traceparent ?? delivery.headers.traceparent;
    const stored = traceparent === undefined ? null : parseTraceParent(traceparent);
    const links: Link[] = stored === null ? [] : [{ context: stored }];
    const span = this.tracer.startSpan(
      `deliver ${delivery.operation}`,
      {
        kind: SpanKind.CONSUMER,
        links,
        root: true,
        attributes: { [ATTR.operation]: delivery.operation, [ATTR.target]: delivery.target, [ATTR.attempt]: delivery.attempts + 1 },
      },
      ROOT_CONTEXT,
    );
    return ended(span, this.active.run({ context: trace.setSpan(ROOT_CONTEXT, span) }, send));
  }

  /** the store, its outbox keeping with each delivery queued within a span (a bridged activation
   * code, a dialect's event or task) that span's trace context, so that its delivery links to it */
  linkingDeliveries(store: Store): Store {
    const enqueue: OutboxQueue['enqueue'] = (delivery, notBefore) => store.outbox.enqueue(this.stamped(delivery), notBefore);
    const outbox = new Proxy(store.outbox, {
      get: (target, prop, receiver) => (prop === 'enqueue' ? enqueue : (Reflect.get(target, prop, receiver) as unknown)),
    });
    // a late answer's outcome is queued by the ledger's settle, in the same script as the consume
    const settlePending: Ledger['settlePending'] = (pending, delivery) => store.ledger.settlePending(pending, this.stamped(delivery));
    const ledger = new Proxy(store.ledger, {
      get: (target, prop, receiver) => (prop === 'settlePending' ? settlePending : (Reflect.get(target, prop, receiver) as unknown)),
    });
    return { ...store, outbox, ledger };
  }

  private stamped(delivery: Delivery): Delivery {
    if (delivery.traceparent !== undefined || delivery.headers.traceparent !== undefined) return delivery;
    const span = trace.getSpan(this.active.getStore()?.context ?? ROOT_CONTEXT);
    return span === undefined ? delivery : { ...delivery, traceparent: traceparentOf(span) };
  }

  /** exports what is still buffered, then stops */
  shutdown(): Promise<void> {
    return this.provider.shutdown();
  }
}

/** a request's SERVER span: the trace context the hub passes on, then what the request came to */
export class RequestSpan {
  /** the trace context as the request's ids carry it (pipeline/types.ts RequestIds) */
  readonly trace: { readonly traceId: string; readonly spanId: string; readonly flags: string };

  constructor(
    private readonly span: Span,
    private readonly context: Context,
    private readonly active: AsyncLocalStorage<Active>,
    private readonly method: string,
  ) {
    const { traceId, spanId, traceFlags } = span.spanContext();
    this.trace = { traceId, spanId, flags: flagsOf(traceFlags) };
  }

  /** runs the request's steps with this span active */
  within<T>(steps: () => Promise<T>): Promise<T> {
    return this.active.run({ context: this.context }, steps);
  }

  end(outcome: RequestOutcome): void {
    const { span } = this;
    if (span.isRecording()) {
      // the HTTP conventions' name, `{method} {route}`, where the request reached an operation
      span.updateName(outcome.route === undefined ? (outcome.operation ?? this.method) : `${this.method} ${outcome.route}`);
      span.setAttributes({
        [ATTR.operation]: outcome.operation,
        [ATTR_HTTP_ROUTE]: outcome.route,
        [ATTR.caller]: outcome.caller,
        [ATTR.target]: outcome.target,
        [ATTR.dialect]: outcome.dialect,
        [ATTR.outcome]: outcome.outcome,
        [ATTR_HTTP_RESPONSE_STATUS_CODE]: outcome.status,
      });
      // a server span fails with a 5xx; a 4xx is the caller's (OpenTelemetry HTTP conventions)
      if (outcome.status >= 500) {
        span.setAttribute(ATTR_ERROR_TYPE, String(outcome.status));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
    }
    span.end();
  }
}

/** the exporter, its failures logged (the SDK reports them to its own diagnostics, silent by
 * default), at most once a minute: a collector that is away must not fill the log */
class LoggedExporter implements SpanExporter {
  private warnedAt = -Infinity;

  constructor(
    private readonly exporter: SpanExporter,
    private readonly log: Logger,
  ) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.exporter.export(spans, (result) => {
      if (result.code !== ExportResultCode.SUCCESS && performance.now() - this.warnedAt > 60000) {
        this.warnedAt = performance.now();
        this.log.warn({ spans: spans.length, reason: result.error?.message }, 'traces not exported: the collector did not take them');
      }
      done(result);
    });
  }

  shutdown(): Promise<void> {
    return this.exporter.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.exporter.forceFlush?.() ?? Promise.resolve();
  }
}

/** ends `span` with what `work` came to: the status answered, or the failure's kind */
async function ended<A extends { readonly status: number }>(span: Span, work: Promise<A>): Promise<A> {
  try {
    const answer = await work;
    span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, answer.status);
    if (answer.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    return answer;
  } catch (err) {
    span.setAttribute(ATTR_ERROR_TYPE, errorType(err));
    span.setStatus({ code: SpanStatusCode.ERROR });
    throw err;
  } finally {
    span.end();
  }
}

/** a failure's kind, never its message (which may quote a partner's answer) */
function errorType(err: unknown): string {
  const failure = (err as { failure?: unknown }).failure;
  if (typeof failure === 'string') return failure;
  const kind = (err as { kind?: unknown }).kind;
  return typeof kind === 'string' ? kind : err instanceof Error ? err.name : 'unknown';
}

function traceparentOf(span: Span): string {
  const { traceId, spanId, traceFlags } = span.spanContext();
  return `00-${traceId}-${spanId}-${flagsOf(traceFlags)}`;
}

function flagsOf(traceFlags: number): string {
  return (traceFlags & 0xff).toString(16).padStart(2, '0');
}

function samplerOf(name: SamplerName, ratio: number): Sampler {
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio);
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
  }
}
