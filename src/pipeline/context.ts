/**
 * First stage inside `respond`: takes the runtime in service, reads the AID.02 ids (section 5.1),
 * starts the timer and gives the request a logger that carries the ids, never the body.
 */
import { randomBytes } from 'node:crypto';
import { header, type PipelineDeps, type Stage } from './types';

// ids go into every log line; an over-long value is cut rather than logged whole
const MAX_LOGGED_ID = 64;

export function context(deps: PipelineDeps): Stage {
  return async (ctx, next) => {
    ctx.state.startedAt = performance.now();
    ctx.state.runtime = deps.runtime();
    ctx.state.params = {};
    const ids = {
      requestId: header(ctx, 'cmp-request-id'),
      correlationId: header(ctx, 'correlation-id'),
      clientId: header(ctx, 'client-id'),
      targetId: header(ctx, 'target-id'),
      traceparent: header(ctx, 'traceparent') ?? newTraceparent(),
    };
    ctx.state.ids = ids;
    ctx.state.log = deps.log.child({
      requestId: clip(ids.requestId),
      correlationId: clip(ids.correlationId),
      client: clip(ids.clientId),
      target: clip(ids.targetId),
      traceId: ids.traceparent.split('-')[1],
      generation: ctx.state.runtime.generation,
    });
    const leave = ctx.state.runtime.enter();
    try {
      await next();
    } finally {
      leave();
    }
  };
}

function clip(value: string | undefined): string | undefined {
  return value === undefined || value.length <= MAX_LOGGED_ID ? value : `${value.slice(0, MAX_LOGGED_ID)}...`;
}

/** W3C trace context: a request without one starts a trace here */
function newTraceparent(): string {
  return `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;
}
