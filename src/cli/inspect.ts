/**
 * `aid-gateway inspect token MSP_TOKEN | bindings | pending | outbox`: the hub's state in Redis as
 * JSON lines on stdout (inspect.ts chooses what a line may hold); `inspect journey ID` a user's
 * activation journey as a timeline (journeys/terminal.ts); when there is nothing to list,
 * stderr says whether the prefix holds any hub data at all. Exit 0, or 1 for an unknown token.
 */
import { RedisStore } from '../state/redis/store';
import type { RedisAccess } from '../state/redis/connection';
import type { Line } from '../state/redis/inspect';
import { UsageError } from '../errors/usageError';
import { DEFAULT_SETTINGS } from '../config/load';
import { findJourney } from '../journeys/view';
import { timelineText } from '../journeys/terminal';
import { commandHelp, type Command } from './command';
import { withRedis } from './commonOptions';
import { parseOptions, REDIS_OPTIONS, type OptionName } from './options';

const WHAT = ['token', 'bindings', 'pending', 'outbox', 'journey'] as const;

const OPTION_NAMES: readonly OptionName[] = REDIS_OPTIONS;

export const inspectCommand: Command = {
  name: 'inspect',
  summary:
    "read the hub's state (`inspect token MSP_TOKEN | bindings | pending | outbox`, JSON lines; `inspect journey ID`, a timeline; nothing is written); needs Redis",
  help: commandHelp({
    usage:
      'inspect token MSP_TOKEN | inspect bindings | inspect pending | inspect outbox | inspect journey MSP_TOKEN|ACTIVATION_CODE_REQUEST_ID|ICCID [options]',
    description:
      "Reads the hub's state in Redis, one JSON line each, and writes nothing: the binding of one\nmsp_token, every binding, the activation requests waiting for Send Activation Code, the deliveries\nthe outbox still owes; or one user's activation journey as a timeline, found by its msp_token,\nan activationCodeRequestID or an ICCID (stuck after the default limits). When there is nothing to list, stderr says whether the prefix holds any hub\ndata at all.",
    options: OPTION_NAMES,
    example: 'aid-gateway inspect pending --redis-url redis://redis:6379 --redis-prefix aidgw:',
  }),
  run(argv, env) {
    const { values, positionals } = parseOptions(argv, OPTION_NAMES, 'inspect');
    return withRedis('inspect', values, env, (access) => inspect(positionals, access, values['redis-prefix']));
  },
};

async function inspect(args: readonly string[], access: RedisAccess, keyPrefix: string | undefined): Promise<number> {
  const [what, ...rest] = args;
  if (!WHAT.includes(what as (typeof WHAT)[number])) throw new UsageError(`inspect takes one of: ${WHAT.join(', ')}`);
  if (what === 'token' || what === 'journey' ? rest.length !== 1 : rest.length !== 0)
    throw new UsageError(
      what === 'token' || what === 'journey'
        ? `inspect ${what} takes the ${what === 'token' ? 'msp_token' : 'msp_token, activationCodeRequestID or ICCID'}`
        : `inspect ${what} takes nothing more`,
    );
  const store = await RedisStore.connect({ access, keyPrefix });
  try {
    if (what === 'journey') return await inspectJourney(store, rest[0]);
    const inspector = store.inspector();
    let lines: AsyncIterable<Line>;
    if (what === 'token') {
      const line = await inspector.token(rest[0]);
      if (!line) {
        process.stderr.write(`no binding of that msp_token under the prefix ${store.prefix}\n`);
        return 1;
      }
      lines = (async function* () {
        yield line;
      })();
    } else {
      lines = what === 'bindings' ? inspector.bindings() : what === 'pending' ? inspector.pending() : inspector.outbox();
    }
    let count = 0;
    for await (const line of lines) {
      process.stdout.write(`${JSON.stringify(line)}\n`);
      count += 1;
    }
    if (count === 0) process.stderr.write(`${await nothingListed(store, 'nothing to list')}\n`);
    return 0;
  } finally {
    await store.close();
  }
}

/** why a listing is empty: there is nothing of its kind, or nothing of a hub under the prefix at all */
export async function nothingListed(store: RedisStore, nothing: string): Promise<string> {
  if (await store.inspector().holdsHubData()) return `${nothing} (Redis ${store.description}, prefix ${store.prefix})`;
  return `no hub data under the prefix ${store.prefix} in Redis ${store.description}: is --redis-prefix the hub's?`;
}

async function inspectJourney(store: RedisStore, id: string): Promise<number> {
  const stuckAfter = {
    awaitingCode: DEFAULT_SETTINGS.journeyStuckAwaitingCodeSeconds,
    awaitingCsimStatus: DEFAULT_SETTINGS.journeyStuckAwaitingCsimStatusSeconds,
  };
  const view = await findJourney(store.journeys, id, stuckAfter);
  if (!view) {
    process.stderr.write(`${await nothingListed(store, 'no journey for that msp_token, activationCodeRequestID or ICCID')}\n`);
    return 1;
  }
  process.stdout.write(timelineText(view));
  return 0;
}
