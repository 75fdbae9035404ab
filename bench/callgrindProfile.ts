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

/** the `top` functions by instructions per request, own (`inclusive` false) or with their callees */
export function functionsByCost(callgrindFile: string, perfMap: string, requests: number, inclusive: boolean, top: number): string[] {
  const codes = codeMap(perfMap);
  const annotated = spawnSync('callgrind_annotate', [`--inclusive=${inclusive ? 'yes' : 'no'}`, '--threshold=100', callgrindFile], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  if (annotated.status !== 0) throw new Error(`callgrind_annotate: ${annotated.stderr}`);
  const costs = new Map<string, number>();
  for (const line of annotated.stdout.split('\n')) {
    const row = /^\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*)$/.exec(line);
    if (!row || row[2].includes('PROGRAM TOTALS')) continue;
    const address = /\?\?\?:0x([0-9a-f]+)/.exec(row[2]);
    const name = (address && nameAt(codes, parseInt(address[1], 16))) ?? row[2].replace(/ \[[^\]]*\]$/, '');
    costs.set(name, (costs.get(name) ?? 0) + Number(row[1].replace(/,/g, '')));
  }
  return [...costs]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, cost]) => `${(cost / requests / 1000).toFixed(1).padStart(8)} k  ${name}`);
}
