/**
 * `aid-gateway bindings import FILE`: token bindings of users federated before the hub existed,
 * so that `tokenBinding: strict` knows them from the first request. The file is CSV, one binding a
 * line, `msp,cmp,msp_token,state` (a header line with those names is allowed, `#` starts a
 * comment), state `active` or `invalidated`. Every line is checked first (partners of the config
 * with the right roles, the token a UUID, brought to its canonical form, not issued by another
 * MSP in the file or in the store); one bad line and nothing is imported.
 */
import type { Config } from '../config/types';
import { canonicalUuid, isUuid } from '../pipeline/canonicalIds';
import type { Store } from '../state/store';

export interface BindingRow {
  readonly line: number;
  readonly msp: string;
  readonly cmp: string;
  readonly token: string;
  readonly state: 'active' | 'invalidated';
}

const HEADER = 'msp,cmp,msp_token,state';

/** the rows of the file, and every problem with it (line numbers from 1) */
export function parseBindings(text: string, config: Config): { rows: BindingRow[]; problems: string[] } {
  const rows: BindingRow[] = [];
  const problems: string[] = [];
  const issuers = new Map<string, string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const content = raw.trim();
    if (content === '' || content.startsWith('#') || (line === 1 && content.replace(/\s/g, '') === HEADER)) return;
    const fields = content.split(',').map((f) => f.trim());
    if (fields.length !== 4) {
      problems.push(`line ${line}: 4 fields expected (${HEADER}), found ${fields.length}`);
      return;
    }
    const [msp, cmp, rawToken, state] = fields;
    const token = canonicalUuid(rawToken);
    const before = problems.length;
    if (config.partners.get(msp)?.role !== 'msp') problems.push(`line ${line}: ${show(msp)} is no MSP of the config`);
    if (config.partners.get(cmp)?.role !== 'cmp') problems.push(`line ${line}: ${show(cmp)} is no CMP of the config`);
    if (!isUuid(rawToken)) problems.push(`line ${line}: the msp_token is no UUID (AID.02 5.3)`);
    if (state !== 'active' && state !== 'invalidated') problems.push(`line ${line}: state is active or invalidated, not ${show(state)}`);
    const issuer = issuers.get(token);
    if (issuer !== undefined && issuer !== msp) problems.push(`line ${line}: the token is issued by ${issuer} on an earlier line`);
    if (problems.length > before) return;
    issuers.set(token, msp);
    rows.push({ line, msp, cmp, token, state: state as BindingRow['state'] });
  });
  return { rows, problems };
}

/** rows sent to the store at once: their commands share round trips */
const BATCH = 500;

/** a conflict with what the store holds: a token another MSP issued */
export async function conflicts(rows: readonly BindingRow[], store: Store): Promise<string[]> {
  const found = await inBatches(rows, async (row) => {
    const binding = await store.bindings.get(row.token);
    const other = Object.keys(binding?.pairs ?? {}).find((pair) => !pair.startsWith(`${row.msp} `));
    return other === undefined ? undefined : `line ${row.line}: the hub holds the token as issued by ${other.split(' ')[0]}`;
  });
  return found.filter((problem): problem is string => problem !== undefined);
}

export async function importBindings(rows: readonly BindingRow[], store: Store, ttlSeconds: number): Promise<void> {
  await inBatches(rows, async (row) => {
    await store.bindings.bind(row.token, row.msp, row.cmp, ttlSeconds, 'active');
    if (row.state === 'invalidated') await store.bindings.invalidate(row.token, row.msp, row.cmp, ttlSeconds);
  });
}

/** `work` for every row, BATCH at a time; the results in the rows' order */
async function inBatches<T>(rows: readonly BindingRow[], work: (row: BindingRow) => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  for (let i = 0; i < rows.length; i += BATCH) results.push(...(await Promise.all(rows.slice(i, i + BATCH).map(work))));
  return results;
}

/** a field of the file, shown in a problem without letting it fill the terminal */
function show(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
}
