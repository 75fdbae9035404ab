/**
 * Background work that runs again and again: one run at a time, the next `everyMs` after the last
 * ended (a slow run never piles up behind itself), a failed run logged and the loop kept going,
 * and a stop that waits for the run under way.
 */
export interface Repeating {
  stop(): Promise<void>;
}

export function repeat(run: () => Promise<void>, everyMs: () => number, onError: (err: Error) => void): Repeating {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  const tick = () => {
    if (stopped) return;
    running = run()
      .catch((err: unknown) => onError(err as Error))
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, everyMs());
      });
  };
  tick();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
