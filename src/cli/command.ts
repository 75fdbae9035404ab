/**
 * A command of the command line: its name, a line for the list of commands, its own `--help`
 * (usage, options, an example) and what it does. main.ts holds the table of them.
 */
import { optionLines, type OptionName } from './options';

export interface Command {
  readonly name: string;
  /** one line in `aid-gateway help` */
  readonly summary: string;
  /** the whole `aid-gateway help NAME` */
  readonly help: string;
  /** the arguments after the command's name; the exit code */
  run(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number>;
}

/** a command's help in the one layout every command uses */
export function commandHelp(parts: { usage: string; description: string; options: readonly OptionName[]; example: string; notes?: string }): string {
  return [
    `Usage: aid-gateway ${parts.usage}`,
    parts.description,
    `Options:\n${optionLines(parts.options)}`,
    `Example:\n  ${parts.example}`,
    ...(parts.notes ? [parts.notes] : []),
  ].join('\n\n');
}

export const SIGNALS_NOTE = `Signals: SIGHUP reloads the configuration and the listener's TLS files (a bad one is refused and
the old one keeps serving; the hub also reloads when those files change); SIGTERM and SIGINT stop
accepting connections, let requests in flight finish, then exit.`;

export const SECRETS_NOTE = `Secrets: every secret the hub reads from its environment (the admin and Redis passwords, each
\${NAME} of the configuration) may instead be in the file $NAME_FILE names, or in the file NAME of
the folder $AID_GATEWAY_SECRETS_DIR (a Kubernetes Secret mounted as files).`;
