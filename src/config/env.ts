/**
 * `${NAME}` and `${NAME:-default}` in any string value of a parsed YAML file are replaced by the
 * environment variable (or the file `NAME_FILE` names: envSecret.ts), so that no secret has to sit
 * in the repository. Substitution happens on parsed values, never on the YAML text, so a
 * variable's content cannot change the file's structure.
 */
import { envSecret } from './envSecret';

const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export function substituteEnv(value: unknown, env: NodeJS.ProcessEnv, problems: string[], path = ''): unknown {
  if (typeof value === 'string') {
    return value.replace(REFERENCE, (_match, name: string, fallback: string | undefined) => {
      let found;
      try {
        found = envSecret(env, name);
      } catch (err) {
        problems.push(`${path || '(file)'}: ${(err as Error).message}`);
        return '';
      }
      if (found !== undefined) return found;
      if (fallback !== undefined) return fallback;
      problems.push(`${path || '(file)'}: environment variable ${name} is not set`);
      return '';
    });
  }
  if (Array.isArray(value)) {
    return value.map((item, i) => substituteEnv(item, env, problems, `${path}[${i}]`));
  }
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substituteEnv(v, env, problems, path ? `${path}.${k}` : k)]));
  }
  return value;
}
