/**
 * Request Activation Code from a partner whose dialect does work of its own as the caller (a CMP
 * whose vehicles are run by a device-management platform): the dialect hears the request before
 * it goes out and the answer after it passed the response checks, before the caller sees it, so
 * what the dialect records is durable by the time the caller has the answer. A replayed answer
 * never comes here (the step sits after the replay), so the work is done once per request.
 */
import { isSuccess } from '../dialects/dialect';
import { dialectCall } from './dispatch';
import { need, type Stage } from './types';

export function callerWork(): Stage {
  return async (ctx, next) => {
    const work = ctx.state.runtime.dialectFor(need(ctx.state.caller, 'caller')).caller;
    if (!work) {
      await next();
      return;
    }
    const call = dialectCall(ctx);
    await work.requested?.(call);
    await next();
    const { answer } = ctx.state;
    if (answer && isSuccess(answer.status)) await work.answered?.(call, answer);
  };
}
