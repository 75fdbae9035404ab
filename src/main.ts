#!/usr/bin/env node
/**
 * The command line: a table of commands, each in cli/<command>.ts with its own options and help.
 * `aid-gateway help [COMMAND]` and `aid-gateway COMMAND --help` print a command's help; no command
 * at all is the quick start.
 */
import { bindingsCommand } from './cli/bindings';
import { checkConfigCommand } from './cli/checkConfig';
import { SECRETS_NOTE, type Command } from './cli/command';
import { conformanceCommand } from './cli/conformance';
import { commandFailed, usage } from './cli/exit';
import { wrap } from './cli/options';
import { inspectCommand } from './cli/inspect';
import { outboxCommand } from './cli/outbox';
import { quickstartCommand } from './cli/quickstart';
import { ignoreHangupsUntilServing } from './cli/serve';
import { simulateCommand } from './cli/simulate';
import { startCommand } from './cli/start';
import { VERSION } from './version';

const COMMANDS: readonly Command[] = [
  quickstartCommand,
  startCommand,
  checkConfigCommand,
  outboxCommand,
  inspectCommand,
  bindingsCommand,
  simulateCommand,
  conformanceCommand,
];

const HELP = `Usage: aid-gateway [COMMAND] [options]

A hub for the GSMA AID.02 interface between Mobile Service Providers and Car Mobility Providers.

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(16)}${wrap(c.summary, 82).join(`\n${' '.repeat(18)}`)}`).join('\n')}
  help [COMMAND]  this text, or a command's usage, options and an example

Options:
  -v, --version   the hub's version and its Node.js
  -h, --help      this text

\`aid-gateway help COMMAND\` (or \`aid-gateway COMMAND --help\`) lists a command's options.

${SECRETS_NOTE}`;

async function main(argv: readonly string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === '--help' || first === '-h') return print(HELP);
  if (first === '--version' || first === '-v' || first === 'version') return print(`aid-gateway ${VERSION} (Node.js ${process.version})`);
  if (first === 'help') {
    if (rest.length === 0) return print(HELP);
    const named = COMMANDS.find((c) => c.name === rest[0]);
    return named ? print(named.help) : unknownCommand(rest[0]);
  }
  // no command, or options only: the quick start
  const command = first === undefined || first.startsWith('-') ? quickstartCommand : COMMANDS.find((c) => c.name === first);
  if (!command) return unknownCommand(first);
  const args = command === quickstartCommand && first !== 'quickstart' ? argv : rest;
  if (args.includes('--help') || args.includes('-h')) return print(command.help);
  try {
    return await command.run(args, process.env);
  } catch (err) {
    // a usage error (2), a secret file or a start-up failure (1) in one line; anything else goes up whole
    return commandFailed(command === quickstartCommand ? 'start' : command.name, err, undefined);
  }
}

function print(text: string): number {
  process.stdout.write(`${text}\n`);
  return 0;
}

function unknownCommand(name: string): number {
  return usage(`unknown command ${name}; the commands: ${COMMANDS.map((c) => c.name).join(', ')}, help (aid-gateway help)`);
}

ignoreHangupsUntilServing();

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`aid-gateway: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
