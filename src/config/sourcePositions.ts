/**
 * Where a field of a YAML file is, as `line:column` (1-based), for problems that name the field by
 * its path (`upstream.tls.cert`, `routes[2].timeoutMs`): an editor or a terminal jumps there. The
 * file is read once more by the `yaml` library, which keeps every node's source range; the values
 * the hub uses come from the loader's own parse.
 */
import { isMap, isSeq, LineCounter, parseDocument, type Node } from 'yaml';

export class SourcePositions {
  private readonly lines = new LineCounter();
  private readonly root: unknown;

  constructor(text: string) {
    this.root = parseDocument(text, { lineCounter: this.lines }).contents;
  }

  /** `line:column` of the field at `path`; a key's own position where the path ends on a key; the
   * nearest existing parent where the field is missing; undefined for the whole file */
  of(path: string): string | undefined {
    const segments = segmentsOf(path);
    if (segments === undefined || segments.length === 0) return undefined;
    let node = this.root;
    let offset: number | undefined;
    for (const segment of segments) {
      if (isMap(node)) {
        const pair = node.items.find((p) => keyOf(p.key) === String(segment));
        if (!pair) break;
        offset = rangeOf(pair.key) ?? offset;
        node = pair.value;
      } else if (isSeq(node) && typeof segment === 'number' && segment < node.items.length) {
        node = node.items[segment];
        offset = rangeOf(node) ?? offset;
      } else break;
    }
    if (offset === undefined) return undefined;
    const { line, col } = this.lines.linePos(offset);
    return `${line}:${col}`;
  }
}

/** `a.b[2].c` into its keys and indexes; undefined for what is no path (`(file)`, a sentence) */
function segmentsOf(path: string): (string | number)[] | undefined {
  if (!/^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+|\[\d+\])*$/.test(path)) return undefined;
  return [...path.matchAll(/([A-Za-z0-9_$-]+)|\[(\d+)\]/g)].map((m) => (m[2] !== undefined ? Number(m[2]) : m[1]));
}

function keyOf(key: unknown): string | undefined {
  const value = (key as { value?: unknown } | null)?.value;
  // a mapping's key is a scalar: a string, or a number, boolean or null as YAML writes it
  return value === undefined ? undefined : typeof value === 'string' ? value : JSON.stringify(value);
}

function rangeOf(node: unknown): number | undefined {
  return (node as Node | null)?.range?.[0];
}
