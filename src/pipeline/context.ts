/**
 * The outermost stage, around `respond`: takes the runtime in service, reads the AID.02 ids
 * (section 5.1), starts the timer and gives the request a logger that carries the ids, never the
 * body, so that even the answer to an error is logged with them.
 */
import type { Logger } from '../log';
import { randomHex } from '../randomHex';
import type { RequestOutcome } from '../tracing/tracing';
import { header, type HubContext, type HubState, type PipelineDeps, type RequestIds, type Runtime, type Stage } from './types';

// ids go into every log line as their callers claim them, before anyone is authenticated: an
// over-long value is cut rather than logged whole, and what is not printable ASCII is logged as `?`
const MAX_LOGGED_ID = 64;
const UNPRINTABLE = /[^\x20-\x7e]/g;

export function context(deps: PipelineDeps): Stage {
  return async (ctx, next) => {
    const span = deps.tracing?.request(ctx.req);
    const ids = {
      requestId: header(ctx, 'cmp-request-id'),
      correlationId: header(ctx, 'correlation-id'),
      clientId: header(ctx, 'client-id'),
      targetId: header(ctx, 'target-id'),
      // with tracing, the request's own span carries the trace on (tracing/tracing.ts)
      trace: span?.trace ?? parseTraceparent(header(ctx, 'traceparent')) ?? { traceId: randomHex(32), flags: '01' },
    };
    ctx.state = new RequestState(deps.log, deps.runtime(), ids);
    const leave = ctx.state.runtime.enter();
    try {
      await (span === undefined ? next() : span.within(next));
    } finally {
      leave();
      if (span !== undefined) span.end(outcomeOf(ctx));
    }
  };
}

/**
 * A request's state, one shape for every request (its fields all set from the start, so property
 * reads stay fast). Most requests log only their access line (written with the bindings by
 * respond): the child logger, whose bindings pino serialises and redacts when it is made, is made
 * on first use.
 */
class RequestState implements HubState {
  readonly startedAt = performance.now();
  readonly logBindings: Readonly<Record<string, string | number | undefined>>;
  params: Readonly<Record<string, string>> = {};
  operation: HubState['operation'] = undefined;
  caller: HubState['caller'] = undefined;
  target: HubState['target'] = undefined;
  answer: HubState['answer'] = undefined;
  answeredBy: HubState['answeredBy'] = undefined;
  inboundRoute: HubState['inboundRoute'] = undefined;
  private child: Logger | undefined = undefined;

  constructor(
    private readonly root: Logger,
    readonly runtime: Runtime,
    readonly ids: RequestIds,
  ) {
    this.logBindings = {
      requestId: clip(ids.requestId),
      correlationId: clip(ids.correlationId),
      client: clip(ids.clientId),
      target: clip(ids.targetId),
      traceId: ids.trace.traceId,
      generation: runtime.generation,
    };
  }

  get log(): Logger {
    return (this.child ??= this.root.child(this.logBindings));
  }
}

/** what the request's span records of it: names and ids of the config, never a value of the request */
function outcomeOf(ctx: HubContext): RequestOutcome {
  const { state } = ctx;
  return {
    operation: state.operation?.id ?? state.inboundRoute,
    route: state.operation?.pathTemplate,
    caller: state.caller?.id,
    target: state.target?.id,
    dialect: state.target?.dialect,
    status: ctx.status,
    outcome: state.answeredBy,
  };
}

function clip(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const cut = value.length <= MAX_LOGGED_ID ? value : `${value.slice(0, MAX_LOGGED_ID)}...`;
  return cut.replace(UNPRINTABLE, '?');
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** W3C trace context; an absent or malformed one starts a new trace here */
function parseTraceparent(value: string | undefined): { traceId: string; flags: string } | undefined {
  const match = TRACEPARENT.exec(value ?? '');
  if (!match || /^0+$/.test(match[1]) || /^0+$/.test(match[2])) return undefined;
  return { traceId: match[1], flags: match[3] };
}
