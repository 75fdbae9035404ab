/** `aid-gateway check-config`: the config folder, and the command line's TLS files when given, load and belong together. */
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { isLoopbackHost } from '../config/loopback';
import { ConfigError, loadConfig } from '../config/load';
import { configWarnings } from '../config/warnings';
import { DIALECTS } from '../dialects';
import { startupFailure } from '../errors/startupError';
import { commandHelp, type Command } from './command';
import { configDirs } from './commonOptions';
import { failed, usage } from './exit';
import { parseListen } from './listenAddress';
import { CONFIG_OPTIONS, parseOptions, type OptionName } from './options';

const OPTION_NAMES: readonly OptionName[] = [...CONFIG_OPTIONS, 'tls-cert', 'tls-key', 'tls-client-ca', 'insecure-http'];

export const checkConfigCommand: Command = {
  name: 'check-config',
  summary: 'validate a configuration (and --tls-cert, --tls-key, --tls-client-ca when given) and exit (0 valid, 1 invalid)',
  help: commandHelp({
    usage: 'check-config [options]',
    description:
      'Loads the configuration as `start` would and reports every problem with its file and field\n(exit 1), or what it holds (exit 0), with warnings against AID.02 section 6 on stderr. With the TLS\nfiles, also checks that they load and that the certificate and key belong together; with\n--insecure-http, warns about a plain listener off loopback.',
    options: OPTION_NAMES,
    example: 'aid-gateway check-config --config /etc/aid-gateway --tls-cert hub.pem --tls-key hub-key.pem --tls-client-ca ca.pem',
  }),
  async run(argv, env) {
    const { values } = parseOptions(argv, OPTION_NAMES, 'check-config');
    const { configDir, partnersDir } = configDirs(values, env);
    const insecureHttp = values['insecure-http'];
    const tlsFiles = { cert: values['tls-cert'], key: values['tls-key'], ca: values['tls-client-ca'] };
    if (tlsFiles.cert || tlsFiles.key || tlsFiles.ca) {
      if (!tlsFiles.cert || !tlsFiles.key || !tlsFiles.ca) return usage('the TLS files go together: --tls-cert, --tls-key and --tls-client-ca');
      try {
        createSecureContext({ cert: readFileSync(tlsFiles.cert), key: readFileSync(tlsFiles.key), ca: readFileSync(tlsFiles.ca) });
      } catch (err) {
        return failed(startupFailure(err, undefined) ?? (err as Error).message);
      }
    }
    try {
      const config = loadConfig(configDir, DIALECTS, env, partnersDir);
      const partners = [...config.partners.values()];
      const count = (role: string) => partners.filter((p) => p.role === role).length;
      process.stdout.write(`${configDir}: valid: ${count('msp')} MSPs, ${count('cmp')} CMPs, ${config.routes.size} routes\n`);
      const warnings = configWarnings(config, DIALECTS);
      if (insecureHttp !== undefined && !isLoopbackHost(parseListen(insecureHttp, '--insecure-http').host)) {
        warnings.push(`--insecure-http ${insecureHttp}: a plain HTTP listener off loopback; AID.02 6 requires two-way TLS`);
      }
      for (const warning of warnings) process.stderr.write(`warning: ${warning}\n`);
      return 0;
    } catch (err) {
      return failed(`${configDir}: ${err instanceof ConfigError ? err.message : (err as Error).message}`);
    }
  },
};
