/**
 * The dialect seam's background work and close (dialects/dialect.ts): a dialect instance's routines
 * run while its config is in service, one run at a time, a failed run does not end the loop, and
 * retiring the config stops them before the instance is closed. The module under test is a real
 * dialect (aid02) with a routine and a close of its own, built through the runtime as the hub does.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../../src/config/load';
import { DIALECTS } from '../../src/dialects';
import { aid02 } from '../../src/dialects/aid02/forward';
import type { DialectModule } from '../../src/dialects/dialect';
import { createLogger } from '../../src/log';
import { createMetrics } from '../../src/metrics/metrics';
import { buildRuntime } from '../../src/server/runtime';
import { MemoryStore } from '../../src/state/memory/store';
import { withLocalFallback } from '../../src/state/rateLimits';
import { Breakers } from '../../src/upstream/breakers';
import { isPartnerFailure } from '../../src/upstream/upstream';
import { ALL_ROUTES, writeConfig } from '../support/testHub';

test('routines run one at a time while the config is in service; retiring stops them, then closes the instance', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'aidgw-routines-'));
  writeConfig(dir, [{ id: 'mspW', role: 'msp', apiKey: 'key-mspW', upstreamUrl: 'http://127.0.0.1:9' }], ALL_ROUTES);
  const events: string[] = [];
  let runs = 0;
  let concurrent = 0;
  let mostConcurrent = 0;
  const withWorker: DialectModule = {
    ...aid02,
    build: (partner, settings, services) => ({
      ...aid02.build(partner, settings, services),
      routines: [
        {
          name: 'follow',
          everyMs: 5,
          run: async () => {
            concurrent += 1;
            mostConcurrent = Math.max(mostConcurrent, concurrent);
            runs += 1;
            // slower than the pause between runs: a second run must not start beside it
            await sleep(20);
            concurrent -= 1;
            events.push('run');
            if (runs === 2) throw new Error('the partner system was away');
          },
        },
      ],
      close: async () => void events.push('close'),
    }),
  };
  const log = createLogger({ level: 'silent' });
  const metrics = createMetrics();
  const store = new MemoryStore();
  const guards = { breakers: new Breakers(log, metrics, isPartnerFailure), store, metrics, limits: withLocalFallback(store.limits, () => undefined) };
  try {
    const runtime = buildRuntime(loadConfig(dir, DIALECTS, {}), 1, guards, log, () => async () => undefined, [withWorker]);
    while (runs < 4) await sleep(10);
    await runtime.retire();
    const atRetire = runs;
    await sleep(60);
    expect(runs).toBe(atRetire);
    expect(mostConcurrent).toBe(1);
    // the failed second run was followed by more; close came after the last run ended
    expect(events.slice(-1)).toEqual(['close']);
    expect(events.filter((e) => e === 'run').length).toBe(atRetire);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
