/**
 * Callgrind's counts by function, JavaScript's included: callgrind names code it has no symbol for
 * by its address, and V8 compiles JavaScript at run time, so on its own callgrind can name Node's
 * C++ and V8's builtins but none of the hub's functions. Node run with `--perf-basic-prof` writes
 * where it put each compiled function (`/tmp/perf-<pid>.map`, V8's fixed place); this reads
 * callgrind_annotate's table and gives each address its function's name from that map.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

interface Code {
  readonly start: number;
  readonly end: number;
  readonly name: string;
}

/** the map's entries, sorted by address: `start size name`, both in hex */
function codeMap(file: string): Code[] {
  const codes: Code[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [start, size, ...name] = line.split(' ');
    if (name.length === 0) continue;
    const at = parseInt(start, 16);
    codes.push({ start: at, end: at + parseInt(size, 16), name: name.join(' ') });
  }
  return codes.sort((a, b) => a.start - b.start);
}

function nameAt(codes: readonly Code[], address: number): string | undefined {
  let low = 0;
  let high = codes.length - 1;
  while (low <= high) {
    const mid = (low + high) >> 1;
    if (codes[mid].start <= address) low = mid + 1;
    else high = mid - 1;
  }
  const code = codes[high];
  return code && address < code.end ? code.name : undefined;
}

/** callgrind_annotate's table of `file` (functions' own costs, or with their callees) */
function annotate(file: string, inclusive: boolean): string {
  const annotated = spawnSync('callgrind_annotate', [`--inclusive=${inclusive ? 'yes' : 'no'}`, '--threshold=100', file], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  if (annotated.status !== 0) throw new Error(`callgrind_annotate: ${annotated.stderr}`);
  return annotated.stdout;
}

/** each row of the table: its cost and its function */
function* rows(table: string): Generator<[cost: number, fn: string]> {
  for (const line of table.split('\n')) {
    const row = /^\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*)$/.exec(line);
    if (row && !row[2].includes('PROGRAM TOTALS')) yield [Number(row[1].replace(/,/g, '')), row[2]];
  }
}

/**
 * What V8's compilers took of the dump, callees included: `--predictable` compiles on the main
 * thread, so a process that is still optimising its code when the measured requests start counts
 * that work among theirs, and the hub, with far more code than a proxy, takes longer to be done
 * (3,000 requests of warm-up are not enough under callgrind). Every `Runtime_Compile…` entry (lazy,
 * baseline, optimised): none of them calls another.
 */
export function compilation(callgrindFile: string): number {
  let total = 0;
  for (const [cost, fn] of rows(annotate(callgrindFile, true))) if (/v8::internal::Runtime_Compile\w*\(/.test(fn)) total += cost;
  return total;
}

/** the `top` functions by instructions per request, own (`inclusive` false) or with their callees */
export function functionsByCost(callgrindFile: string, perfMap: string, requests: number, inclusive: boolean, top: number): string[] {
  const codes = codeMap(perfMap);
  const costs = new Map<string, number>();
  for (const [cost, fn] of rows(annotate(callgrindFile, inclusive))) {
    const address = /\?\?\?:0x([0-9a-f]+)/.exec(fn);
    const name = (address && nameAt(codes, parseInt(address[1], 16))) ?? fn.replace(/ \[[^\]]*\]$/, '');
    costs.set(name, (costs.get(name) ?? 0) + cost);
  }
  return [...costs]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, cost]) => `${(cost / requests / 1000).toFixed(1).padStart(8)} k  ${name}`);
}
