/**
 * A secret from the environment: `NAME`, or the content of the file `NAME_FILE` names (a
 * Kubernetes or Docker secret mounted as a file), without its final line break. Every secret the
 * hub reads from its environment, and every `${NAME}` of the configuration, goes through here.
 */
import { readFileSync } from 'node:fs';

export class SecretFileError extends Error {}

export function envSecret(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const direct = env[name];
  if (direct !== undefined) return direct;
  const file = env[`${name}_FILE`];
  if (file === undefined || file === '') return undefined;
  try {
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    throw new SecretFileError(`${name}_FILE names ${file}, which cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}
