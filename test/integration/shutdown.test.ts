/**
 * Graceful shutdown of the real process: SIGTERM while requests are in flight lets every one of
 * them finish with its answer (no connection reset), refuses new connections, and exits 0.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Pool } from 'undici';
import { FakePartner } from '../support/fakePartner';
import { paths, requestActivationCodeBody } from '../support/messages';
import { writeConfig } from '../support/testHub';

const MAIN = path.join(__dirname, '../../dist/src/main.js');

test('SIGTERM during load: every request in flight is answered, then the process exits 0', async () => {
  const msp = await FakePartner.start();
  msp.answer(() => ({
    status: 200,
    delayMs: 600,
    body: { iccid: '8949000000000000001', activationCode: '1$a$b', profileType: 'personal', swappedIccid: null },
  }));
  const dir = mkdtempSync(path.join(tmpdir(), 'aidgw-shutdown-'));
  writeConfig(
    dir,
    [
      { id: 'cmpA', role: 'cmp', apiKey: 'key-cmpA', upstreamUrl: 'http://127.0.0.1:1' },
      { id: 'mspA', role: 'msp', apiKey: 'key-mspA', upstreamUrl: msp.url },
    ],
    { defaults: { tokenBinding: 'off' }, routes: [{ from: '*', to: '*' }] },
  );
  const child = spawn(process.execPath, [MAIN, 'start', '--config', dir, '--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0'], {
    env: { PATH: process.env.PATH },
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    while (!output.includes('hub started')) await new Promise((r) => setTimeout(r, 25));
    const url = (JSON.parse(output.split('\n').find((l) => l.includes('hub started')) as string) as { urls: string[] }).urls[0];
    const pool = new Pool(url, { connections: 20 });
    const inFlight = Array.from({ length: 20 }, () =>
      pool
        .request({
          method: 'POST',
          path: paths.requestActivationCode(randomUUID()),
          headers: {
            'api-key': 'key-cmpA',
            'client-id': 'cmpA',
            'target-id': 'mspA',
            'cmp-request-id': randomUUID(),
            'correlation-id': randomUUID(),
            'content-type': 'application/json',
          },
          body: JSON.stringify(requestActivationCodeBody()),
        })
        .then(
          async (res) => {
            await res.body.text();
            return res.statusCode;
          },
          (err: Error & { code?: string }) => err.code ?? err.message,
        ),
    );
    while (msp.received.length < 20) await new Promise((r) => setTimeout(r, 10));
    child.kill('SIGTERM');
    expect(await Promise.all(inFlight)).toEqual(Array(20).fill(200));
    expect(await exited).toBe(0);
    await pool.close();
    const after = await fetch(`${url}/v1/profiles/status/${randomUUID()}`).then(
      () => 'answered',
      (err: Error & { cause?: { code?: string } }) => err.cause?.code,
    );
    expect(after).toBe('ECONNREFUSED');
    expect(output).toContain('stopping: finishing requests in flight');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await msp.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
