/**
 * Who may call whom: the operation must be one the caller's role calls, the target must exist
 * (else AID.02 code 93) and have the other role, and routes.yaml must allow the pair for this
 * operation. Sets the route's policies for the steps after it, and so the variant of the chain (chains.ts).
 */
import { PARTNER_ID_PATTERN } from '../config/schema';
import { HubError } from '../errors/catalogue';
import { callerRoleOf, otherRole } from '../openapi/operations';
import { need, type Stage } from './types';

const ROLE_NAMES = { msp: 'MSP', cmp: 'CMP' } as const;
const PARTNER_ID = new RegExp(PARTNER_ID_PATTERN);

export function route(): Stage {
  return async (ctx, next) => {
    const op = need(ctx.state.operation, 'operation');
    const caller = need(ctx.state.caller, 'caller');
    const callerRole = callerRoleOf(op.id);
    if (caller.role !== callerRole) {
      throw new HubError('wrongRole', { detail: `${op.id} is called by ${ROLE_NAMES[callerRole]}s and ${caller.id} is a ${ROLE_NAMES[caller.role]}` });
    }
    const targetId = ctx.state.ids.targetId;
    if (targetId === undefined) {
      throw new HubError('invalidSyntax', { detail: 'header target-id is required', clientErrorStatus: op.clientErrorStatus });
    }
    const target = ctx.state.runtime.config.partners.get(targetId);
    const targetRole = otherRole(callerRole);
    if (!target) {
      const named = PARTNER_ID.test(targetId) ? ` ${targetId}` : '';
      throw new HubError('unknownTarget', { detail: `no ${ROLE_NAMES[targetRole]}${named} is known to the hub` });
    }
    if (target.role !== targetRole) {
      throw new HubError('wrongRole', { detail: `${op.id} goes to ${ROLE_NAMES[targetRole]}s and ${target.id} is a ${ROLE_NAMES[target.role]}` });
    }
    const settings = ctx.state.runtime.config.routes.find(caller.id, target.id, op.id);
    if (!settings) throw new HubError('routeForbidden', { detail: `no route allows ${caller.id} -> ${target.id} for ${op.id}` });
    ctx.state.target = target;
    ctx.state.route = settings;
    await next();
  };
}
