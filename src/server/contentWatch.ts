/**
 * Calls back when the content of a set of files changes: the configuration folder (a Kubernetes
 * ConfigMap is swapped whole by moving a symlink, so the files' names stay and their content
 * changes) and the listener's TLS files (a renewed certificate). `fs.watch` on the files' folders
 * makes it prompt, a poll makes it sure (some file systems send no events, and a watched folder
 * may be replaced); either way the callback runs only when the bytes differ from the last reading,
 * so a touch or an event storm reloads nothing.
 */
import { createHash } from 'node:crypto';
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';

export interface ContentWatch {
  close(): void;
}

export interface ContentWatchOptions {
  /** how long events settle before the files are read (a swap writes several) */
  readonly settleMs?: number;
  readonly pollMs?: number;
}

/** `files()` is asked again at every reading: a folder's file list may change too */
export function watchContent(files: () => readonly string[], changed: () => void, options: ContentWatchOptions = {}): ContentWatch {
  const settleMs = options.settleMs ?? 300;
  let last = digest(files());
  let watchers: FSWatcher[] = [];
  let settling: NodeJS.Timeout | undefined;
  let closed = false;
  const check = () => {
    settling = undefined;
    if (closed) return;
    const now = digest(files());
    if (now === last) return;
    last = now;
    // a swap may have replaced a watched folder: watch the folders as they are now
    arm();
    changed();
  };
  const soon = () => {
    if (settling === undefined && !closed) settling = setTimeout(check, settleMs);
  };
  const arm = () => {
    for (const w of watchers) w.close();
    const folders = new Set(files().map((f) => path.dirname(f)));
    watchers = [...folders].flatMap((folder) => {
      try {
        return [watch(folder, soon).on('error', soon)];
      } catch {
        // a folder that is not there (yet): the poll sees it come
        return [];
      }
    });
  };
  arm();
  const poll = setInterval(soon, options.pollMs ?? 5000);
  poll.unref();
  return {
    close() {
      closed = true;
      clearInterval(poll);
      if (settling) clearTimeout(settling);
      for (const w of watchers) w.close();
    },
  };
}

function digest(files: readonly string[]): string {
  const hash = createHash('sha256');
  for (const file of [...files].sort()) {
    hash.update(file).update('\0');
    try {
      hash.update(readFileSync(file));
    } catch {
      hash.update('\0missing');
    }
    hash.update('\0');
  }
  return hash.digest('hex');
}
