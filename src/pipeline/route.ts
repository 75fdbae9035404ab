/**
 * Who may call whom: the operation must be one the caller's role calls, the target must exist
 * (else AID.02 code 93) and have the other role, and routes.yaml must allow the pair for this
 * operation. What it yields carries the route's policies, and so which variant of the operation
 * runs (operations.ts).
 */
import type { Partner } from '../config/types';
import { PARTNER_ID_PATTERN } from '../config/schema';
import { HubError } from '../errors/catalogue';
import type { ApiOperation } from '../openapi/apis';
import { callerRoleOf, otherRole } from '../openapi/operations';
import type { Routed } from './request';
import type { HubContext } from './types';

const ROLE_NAMES = { msp: 'MSP', cmp: 'CMP' } as const;
const PARTNER_ID = new RegExp(PARTNER_ID_PATTERN);

export function routeOf(ctx: HubContext, operation: ApiOperation, caller: Partner): Routed {
  const callerRole = callerRoleOf(operation.id);
  if (caller.role !== callerRole) {
    throw new HubError('wrongRole', { detail: `${operation.id} is called by ${ROLE_NAMES[callerRole]}s and ${caller.id} is a ${ROLE_NAMES[caller.role]}` });
  }
  const targetId = ctx.state.ids.targetId;
  if (targetId === undefined) {
    throw new HubError('invalidSyntax', { detail: 'header target-id is required', clientErrorStatus: operation.clientErrorStatus });
  }
  const target = ctx.state.runtime.config.partners.get(targetId);
  const targetRole = otherRole(callerRole);
  if (!target) {
    const named = PARTNER_ID.test(targetId) ? ` ${targetId}` : '';
    throw new HubError('unknownTarget', { detail: `no ${ROLE_NAMES[targetRole]}${named} is known to the hub` });
  }
  if (target.role !== targetRole) {
    throw new HubError('wrongRole', { detail: `${operation.id} goes to ${ROLE_NAMES[targetRole]}s and ${target.id} is a ${ROLE_NAMES[target.role]}` });
  }
  const route = ctx.state.runtime.config.routes.find(caller.id, target.id, operation.id);
  if (!route) throw new HubError('routeForbidden', { detail: `no route allows ${caller.id} -> ${target.id} for ${operation.id}` });
  ctx.state.target = target;
  return { operation, caller, target, route };
}
