/** `aid-gateway bindings import FILE`: see bindingsImport.ts; exit 0 imported, 1 refused (nothing imported). */
import { readFileSync } from 'node:fs';
import { conflicts, importBindings, parseBindings } from './bindingsImport';
import { ConfigError, loadConfig } from '../config/load';
import { DIALECTS } from '../dialects';
import { RedisStore } from '../state/redis/store';
import { commandHelp, type Command } from './command';
import { configDirs, withRedis } from './commonOptions';
import { failed } from './exit';
import { CONFIG_OPTIONS, parseOptions, REDIS_OPTIONS, type OptionName } from './options';
import { UsageError } from '../errors/usageError';

const OPTION_NAMES: readonly OptionName[] = [...CONFIG_OPTIONS, ...REDIS_OPTIONS];

export const bindingsCommand: Command = {
  name: 'bindings',
  summary: 'import the token bindings of users federated before the hub (`bindings import FILE`); needs Redis',
  help: commandHelp({
    usage: 'bindings import FILE [options]',
    description:
      'Imports token bindings of users federated before the hub, as CSV lines\nmsp,cmp,msp_token,state (active | invalidated). Every line is checked against --config first, and\nagainst the bindings already in Redis: one bad line and nothing is imported.',
    options: OPTION_NAMES,
    example: 'aid-gateway bindings import federated.csv --config /etc/aid-gateway --redis-url redis://redis:6379',
  }),
  run(argv, env) {
    const { values, positionals } = parseOptions(argv, OPTION_NAMES, 'bindings');
    const { configDir, partnersDir } = configDirs(values, env);
    return withRedis('bindings', values, env, async (access) => {
      const [action, file, ...rest] = positionals;
      if (action !== 'import' || file === undefined || rest.length > 0) throw new UsageError('bindings takes `import FILE`');
      let config;
      let text;
      try {
        config = loadConfig(configDir, DIALECTS, env, partnersDir);
        text = readFileSync(file, 'utf8');
      } catch (err) {
        return failed(err instanceof ConfigError ? `${configDir}: ${err.message}` : (err as Error).message);
      }
      const { rows, problems } = parseBindings(text, config);
      const store = await RedisStore.connect({ access, keyPrefix: values['redis-prefix'] });
      try {
        problems.push(...(await conflicts(rows, store)));
        if (problems.length > 0) return failed(`${file}: nothing imported; ${problems.length} problem(s):\n${problems.map((p) => `  ${p}`).join('\n')}`);
        await importBindings(rows, store, config.settings.tokenBindingTtlSeconds);
        process.stdout.write(`${file}: imported ${rows.length} token bindings\n`);
        return 0;
      } finally {
        await store.close();
      }
    });
  },
};
