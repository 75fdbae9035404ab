/**
 * `aid-gateway simulate [PARTNER...] --hub-url URL [--bind HOST]`: the quick start's simulated
 * partners on their own, each on its upstream URL's port, calling the hub at URL; for a demo
 * where the hub runs elsewhere (docker-compose: one container a partner). Runs until SIGTERM or
 * SIGINT.
 */
import { once } from 'node:events';
import { loadConfig } from '../config/load';
import { simulate } from '../quickstart/quickstart';
import type { RunningSimulator } from '../simulators/simulatorServer';
import { UsageError } from './usageError';

export async function simulateCommand(ids: readonly string[], configDir: string, partnersDir: string | undefined, hubUrl: string | undefined, bindHost: string | undefined): Promise<number> {
  if (hubUrl === undefined) throw new UsageError('simulate needs --hub-url URL: where the simulated partners call the hub');
  const config = loadConfig(configDir, process.env, partnersDir);
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
