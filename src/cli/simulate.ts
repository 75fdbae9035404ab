/**
 * `aid-gateway simulate [PARTNER...] --hub-url URL [--bind HOST]`: the quick start's simulated
 * partners on their own, each on its upstream URL's port, calling the hub at URL; for a demo
 * where the hub runs elsewhere (docker-compose: one container a partner). Runs until SIGTERM or
 * SIGINT.
 */
import { once } from 'node:events';
import { loadConfig } from '../config/load';
import { DIALECTS } from '../dialects';
import { simulate } from '../quickstart/quickstart';
import type { RunningSimulator } from '../simulators/simulatorServer';
import { UsageError } from '../errors/usageError';
import { commandHelp, type Command } from './command';
import { configDirs } from './commonOptions';
import { commandFailed, failed } from './exit';
import { CONFIG_OPTIONS, parseOptions, type OptionName } from './options';
import { ConfigError } from '../config/load';

const OPTION_NAMES: readonly OptionName[] = [...CONFIG_OPTIONS, 'hub-url', 'bind'];

export const simulateCommand: Command = {
  name: 'simulate',
  summary: "the example partners' simulators alone (all, or those named), calling the hub at --hub-url (the docker-compose demo)",
  help: commandHelp({
    usage: 'simulate [PARTNER...] --hub-url URL [options]',
    description:
      "Plays the partners of --config (all, or those named) by their simulators, each on its upstream\nURL's port (on --bind HOST instead of the URL's host where given), calling the hub at --hub-url.\nRuns until SIGTERM or SIGINT. For a demo where the hub runs elsewhere, never for partners.",
    options: OPTION_NAMES,
    example: 'aid-gateway simulate mspAlpha cmpOne --hub-url http://hub:8080 --bind 0.0.0.0',
  }),
  run(argv, env) {
    const { values, positionals } = parseOptions(argv, OPTION_NAMES, 'simulate');
    const { configDir, partnersDir } = configDirs(values, env);
    return simulatePartners(positionals, configDir, partnersDir, values['hub-url'], values.bind).catch((err: unknown) =>
      err instanceof ConfigError ? failed(`${configDir}: ${err.message}`) : commandFailed('simulate', err, undefined),
    );
  },
};

async function simulatePartners(
  ids: readonly string[],
  configDir: string,
  partnersDir: string | undefined,
  hubUrl: string | undefined,
  bindHost: string | undefined,
): Promise<number> {
  if (hubUrl === undefined) throw new UsageError('simulate needs --hub-url URL: where the simulated partners call the hub');
  const config = loadConfig(configDir, DIALECTS, process.env, partnersDir);
  const unknown = ids.filter((id) => !config.partners.has(id));
  if (unknown.length > 0) throw new UsageError(`simulate: no partner ${unknown.join(', ')} in ${configDir}`);
  const partners = ids.length > 0 ? ids.map((id) => config.partners.get(id)!) : [...config.partners.values()];
  const running: RunningSimulator[] = [];
  for (const partner of partners) {
    running.push(await simulate(partner, hubUrl, bindHost));
    process.stdout.write(`${partner.id}: simulated on ${running.at(-1)?.url}\n`);
  }
  await Promise.race([once(process, 'SIGTERM'), once(process, 'SIGINT')]);
  await Promise.all(running.map((r) => r.close()));
  return 0;
}
