/**
 * What the config loader needs of a dialect: its name, the roles it serves, the schema and the
 * typed settings of its block in a partner file, and the endpoints section 6's checks look at. The
 * registry (dialects/index.ts) is handed in by the caller; config/ never imports it, so a dialect
 * may use config/ without a circle.
 */
import type { BreakerSettings, Role } from './types';

/** where the settings of a partner file come from, for problems that name file and field */
export interface SettingsContext {
  /** the partner file as problems name it */
  readonly where: string;
  /** the config folder, for files the settings name */
  readonly dir: string;
  readonly breaker: BreakerSettings;
}

export interface DialectConfig<S = unknown> {
  /** the value of `dialect:` in a partner file, and the key of its settings there */
  readonly name: string;
  readonly roles: readonly Role[];
  /** the partner's upstream is its own AID.02 API (section 6's rules for that API apply to it);
   * absent: the upstream is the dialect's own platform */
  readonly upstreamIsAid02?: true;
  /** the JSON Schema of the partner file's `<name>:` block; absent: the dialect takes none */
  readonly settingsSchema?: Readonly<Record<string, unknown>>;
  /** the typed settings from the block the schema accepted; problems are pushed, named by field */
  settings?(raw: unknown, context: SettingsContext, problems: string[]): S | undefined;
  /** the partner's outbound endpoints besides `upstream`, for the checks of AID.02 section 6 */
  endpoints?(settings: S): readonly { readonly name: string; readonly url: URL }[];
}

/** the dialects a config may name, as the registry hands them in */
export type DialectConfigs = readonly DialectConfig[];

/** the dialect of a name the config schema accepted */
export function dialectNamed<D extends DialectConfig>(dialects: readonly D[], name: string): D {
  const found = dialects.find((d) => d.name === name);
  if (!found) throw new Error(`no dialect ${name}`);
  return found;
}
