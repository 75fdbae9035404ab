/**
 * Compiles the routes of routes.yaml into a lookup by (from, to, operation), once at load. A route
 * names partners or `*`; the most specific route wins: exact pair, then a named caller to any
 * target, then any caller to a named target, then `*` to `*`. Two routes claiming the same
 * (from, to, operation) at the same specificity are a config error.
 */
import { OPERATION_IDS } from '../openapi/operations';
import type { RouteLookup, RouteSettings } from './types';

export interface RouteDefinition {
  readonly from: string;
  readonly to: string;
  readonly operations?: readonly string[];
  readonly settings: (operationId: string) => RouteSettings;
  readonly where: string;
}

export function compileRoutes(definitions: readonly RouteDefinition[], problems: string[]): RouteLookup {
  const table = new Map<string, { settings: RouteSettings; where: string }>();
  for (const def of definitions) {
    for (const op of def.operations ?? OPERATION_IDS) {
      const key = routeKey(def.from, def.to, op);
      const existing = table.get(key);
      if (existing) {
        problems.push(`${def.where}: ${def.from} -> ${def.to} (${op}) is already defined by ${existing.where}`);
        continue;
      }
      table.set(key, { settings: Object.freeze(def.settings(op)), where: def.where });
    }
  }
  return Object.freeze({
    size: definitions.length,
    find(from: string, to: string, operationId: string): RouteSettings | undefined {
      return (
        table.get(routeKey(from, to, operationId)) ??
        table.get(routeKey(from, '*', operationId)) ??
        table.get(routeKey('*', to, operationId)) ??
        table.get(routeKey('*', '*', operationId))
      )?.settings;
    },
  });
}

// partner ids are [A-Za-z0-9], so a space cannot occur inside one
function routeKey(from: string, to: string, operationId: string): string {
  return `${from} ${to} ${operationId}`;
}
