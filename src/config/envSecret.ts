/**
 * A secret from the environment: `NAME`, or the content of the file `NAME_FILE` names (a Docker
 * secret), or the file `NAME` in the folder `$AID_GATEWAY_SECRETS_DIR` (a Kubernetes Secret mounted
 * as files, one a key), without its final line break. Every secret the hub reads from its
 * environment, and every `${NAME}` of the configuration, goes through here, at every reload.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export class SecretFileError extends Error {}

export function envSecret(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const direct = env[name];
  if (direct !== undefined) return direct;
  const named = env[`${name}_FILE`];
  const inFolder = env.AID_GATEWAY_SECRETS_DIR ? path.join(env.AID_GATEWAY_SECRETS_DIR, name) : undefined;
  const file = named || inFolder;
  if (file === undefined) return undefined;
  try {
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // a folder of secrets need not hold every name: a missing one is an unset variable
    if (!named && code === 'ENOENT') return undefined;
    throw new SecretFileError(
      `${named ? `${name}_FILE names` : '$AID_GATEWAY_SECRETS_DIR holds'} ${file}, which cannot be read (${code ?? (err as Error).message})`,
    );
  }
}
