/** `aid-gateway outbox dead | replay`: the outbox's dead letters, listed or put back for delivery. */
import { RedisStore } from '../state/redis/store';
import { commandHelp, type Command } from './command';
import { withRedis } from './commonOptions';
import { nothingListed } from './inspect';
import { parseOptions, REDIS_OPTIONS, type OptionName } from './options';
import { UsageError } from '../errors/usageError';

const OPTION_NAMES: readonly OptionName[] = ['all', ...REDIS_OPTIONS];

export const outboxCommand: Command = {
  name: 'outbox',
  summary: 'list the dead letters of the outbox (`outbox dead`, JSON lines), or put them back for delivery (`outbox replay --all | ENTRY_ID...`); needs Redis',
  help: commandHelp({
    usage: 'outbox dead | outbox replay --all | outbox replay ENTRY_ID... [options]',
    description:
      'The outbox keeps what a partner could not take yet (store-and-forward) and, past its retries,\nits dead letters. `outbox dead` lists them, one JSON line each (entry id, reason, time, target,\noperation, attempts; never a body). `outbox replay` puts dead letters back for delivery: --all, or\nthose named by entry id.',
    options: OPTION_NAMES,
    example: 'aid-gateway outbox replay --all --redis-url redis://redis:6379',
  }),
  run(argv, env) {
    const { values, positionals } = parseOptions(argv, OPTION_NAMES, 'outbox');
    return withRedis('outbox', values, env, async (access) => {
      const [action, ...ids] = positionals;
      if (action !== 'dead' && action !== 'replay') throw new UsageError('outbox takes `dead` or `replay`');
      if (action === 'replay' && !values.all && ids.length === 0) throw new UsageError('outbox replay takes --all or entry ids');
      const store = await RedisStore.connect({ access, keyPrefix: values['redis-prefix'] });
      try {
        if (action === 'dead') {
          const dead = await store.outbox.listDead(10000);
          for (const letter of dead) {
            const { delivery } = letter;
            const line = {
              entryId: letter.entryId,
              reason: letter.reason,
              at: new Date(letter.at).toISOString(),
              target: delivery.target,
              operation: delivery.operation,
              id: delivery.id,
              attempts: delivery.attempts,
            };
            process.stdout.write(`${JSON.stringify(line)}\n`);
          }
          // stderr, so that a script reading the lines reads none
          if (dead.length === 0) process.stderr.write(`${await nothingListed(store, 'no dead letters')}\n`);
        } else {
          const replayed = await store.outbox.replayDead(values.all ? undefined : ids);
          process.stdout.write(`${replayed} dead letters back in the outbox\n`);
        }
        return 0;
      } finally {
        await store.close();
      }
    });
  },
};
