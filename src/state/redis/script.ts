/**
 * A Lua script run by its SHA1 (EVALSHA): the text crosses the wire only when Redis does not have
 * it yet (after a restart or a failover), once, through EVAL, which also caches it there.
 */
import { createHash } from 'node:crypto';
import type { RedisClient } from './keys';

export class Script {
  private readonly sha: string;

  constructor(private readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /** one promise: node-redis's own, with the NOSCRIPT fallback chained to it (node-redis reads the
   * keys and arguments without changing them, so they are passed as they are) */
  run(client: RedisClient, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    const options = { keys: keys as string[], arguments: args as string[] };
    return client.evalSha(this.sha, options).catch((err: unknown) => {
      if (!(err as Error).message.startsWith('NOSCRIPT')) throw err;
      return client.eval(this.source, options);
    });
  }
}
