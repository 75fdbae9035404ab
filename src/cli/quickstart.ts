/** `aid-gateway` with no command (or `quickstart`): the hub on its embedded defaults with simulated partners. */
import { startQuickStart } from '../quickstart/quickstart';
import { commandHelp, SIGNALS_NOTE, type Command } from './command';
import { adminOptions, loggerFrom } from './commonOptions';
import { parseListen } from './listenAddress';
import { ADMIN_OPTIONS, parseOptions, REDIS_OPTIONS, type OptionName } from './options';
import { redisAccessFrom } from './redisAccess';
import { tracingSettings } from '../tracing/settings';
import { serve } from './serve';

const OPTION_NAMES: readonly OptionName[] = ['listen', ...ADMIN_OPTIONS, ...REDIS_OPTIONS, 'otlp-endpoint', 'log-level'];

export const quickstartCommand: Command = {
  name: 'quickstart',
  summary:
    'the hub on its embedded defaults (in-memory state, the example partners of the repository) with every partner simulated beside it, and a walk through AID.02 as curl commands (also: no command at all)',
  help: commandHelp({
    usage: '[quickstart] [options]',
    description:
      'Starts the hub on http://127.0.0.1:8080 with in-memory state and the example partners of the\nrepository (routes.yaml, partners/), each played by a simulator on loopback, and prints a walk\nthrough the AID.02 procedures as curl commands. For trying the hub, never for partners.',
    options: OPTION_NAMES,
    example: 'aid-gateway quickstart --redis-url redis://127.0.0.1:6379',
    notes: `The quick start is in-memory unless Redis is named on its command line ($REDIS_URL alone is not\nenough).\n\n${SIGNALS_NOTE}`,
  }),
  async run(argv, env) {
    const { values } = parseOptions(argv, OPTION_NAMES, 'quickstart');
    const log = loggerFrom(values, env);
    // a flag that is wrong, a password or TLS file that cannot be read: said by main.ts in one line
    const redis = redisAccessFrom(values, env);
    return serve(
      async () => {
        const listen = parseListen(values.listen ?? '127.0.0.1:8080', '--listen');
        const named = values['redis-url'] !== undefined || values['redis-cluster'] !== undefined || values['redis-sentinel'] !== undefined;
        const quick = await startQuickStart({
          ...listen,
          log,
          redis: named ? redis : undefined,
          admin: adminOptions(values, env),
          tracing: tracingSettings(values['otlp-endpoint'], env),
        });
        process.stdout.write(
          `\naid-gateway quick start: the hub listens on ${quick.hub.url} with ${quick.hub.store.kind === 'redis' ? 'its state in Redis' : 'in-memory state'}.\n` +
            `The example partners in partners/ are SIMULATORS on loopback: ${quick.simulators.map((s) => s.url).join(', ')}.\n` +
            `Walk through AID.02 in another terminal:\n\n${quick.walk}\n\n`,
        );
        return quick;
      },
      log,
      redis,
    );
  },
};
