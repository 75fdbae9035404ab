/**
 * The Redis connection the ports share and the shape of their keys: `${prefix}${kind}:${id}`, so
 * that several hubs (or test runs) can share one Redis under different prefixes.
 */
import type { createClient } from 'redis';

export type RedisClient = ReturnType<typeof createClient>;

export type KeyOf = (kind: string, id: string) => string;

export function keysUnder(prefix: string): KeyOf {
  return (kind, id) => `${prefix}${kind}:${id}`;
}
