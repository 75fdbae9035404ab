/**
 * `aid-gateway conformance`: checks a partner's AID.02 implementation before it goes live (the
 * checks: conformance/*.yaml, plan.ts; how they run: runner.ts). Exit 0 when every check that ran
 * passed, 1 when one failed, 2 for a usage error.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { envSecret } from '../config/envSecret';
import { Apis } from '../openapi/apis';
import { checksFor, loadChecks } from '../conformance/plan';
import { DeliveryInbox } from '../conformance/deliveryInbox';
import { runChecks, type Credential } from '../conformance/runner';
import { htmlReport, junitXml, masker, progressLine, summarize, terminalSummary } from '../conformance/report';
import { PROJECT_ROOT, VERSION } from '../version';
import { isValidEid } from '../esim/eid';
import { UsageError } from '../errors/usageError';
import type { Command } from './command';
import { commandFailed, usage } from './exit';
import { parseListen } from './listenAddress';

const CONFORMANCE_HELP = `Usage: aid-gateway conformance --role msp|cmp --url URL --target-id ID [options]

Plays the other side of AID.02 against a partner's pre-production endpoint and reports, check by
check, what AID.02 chapters 4-7 and Annex B demand of it (the checks: conformance/*.yaml).

  --role msp|cmp        what the partner is: an MSP (the kit calls it as a CMP) or a CMP (as an MSP)
  --url URL             the partner's AID.02 base URL (https://...); the operations' paths follow it
  --target-id ID        the partner's id (target-id); --client-id ID: the kit's (default: conformance)
  --credential KIND     what the kit presents: api-key, or basic:USER; the secret in
                        $CONFORMANCE_SECRET or the file $CONFORMANCE_SECRET_FILE
  --tls-cert FILE --tls-key FILE
                        the kit's client certificate (AID.02 6: two-way TLS)
  --tls-ca FILE         the CA of the partner's server certificate
  --msp-token TOKEN     an MSP: the msp_token of its test user
  --account-id ID       a CMP: an account id it gave its test user (default: AID.02 5.2's example)
  --eid EID             the test car's EID, 32 digits (default: AID.02's example EID)
  --callback-listen HOST:PORT
                        an MSP: where the kit takes its Send Activation Code (default 127.0.0.1:0;
                        the URL is printed: configure it as the CMP's URL at the MSP)
  --allow-destructive   also run the checks that withdraw the test user's msp_token
  --junit FILE          JUnit XML for CI       --html FILE    a report a partner can be sent
  --delivery-timeout-seconds N   how long a 201 may take to be delivered (default: 60)
  --timeout-seconds N   how long one answer may take (default: 10)
  -h, --help            this text

Example:
  CONFORMANCE_SECRET_FILE=key.txt aid-gateway conformance --role cmp --url https://preprod.cmp.example \\
    --target-id cmpNew --credential api-key --tls-cert kit.pem --tls-key kit-key.pem --junit kit.xml`;

const OPTIONS = {
  role: { type: 'string' },
  url: { type: 'string' },
  'target-id': { type: 'string' },
  'client-id': { type: 'string' },
  credential: { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-ca': { type: 'string' },
  'msp-token': { type: 'string' },
  'account-id': { type: 'string' },
  eid: { type: 'string' },
  'callback-listen': { type: 'string' },
  'allow-destructive': { type: 'boolean' },
  junit: { type: 'string' },
  html: { type: 'string' },
  'delivery-timeout-seconds': { type: 'string' },
  'timeout-seconds': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** the EID of AID.02's examples */
const EXAMPLE_EID = '89049032000001000000000831934057';

/** AID.02 5.2's example account id */
const EXAMPLE_ACCOUNT_ID =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjE1ODA3MjQwMDAsInZlciI6Ijc4OSIsInNpZCI6ImE2MjUyMTFhLTJjYmEtNDEzNi1hYThiLTM0YzM5MGI4YTdkNyIsImlhdCI6MTU4MDcyMDQwMH0.ZbD3EEYryEp4yub_8Ca_PYi22TatV2N3TBuf2nNy5Bs';

export const conformanceCommand: Command = {
  name: 'conformance',
  summary: "check a partner's AID.02 implementation before it goes live (`conformance --role msp|cmp --url URL ...`)",
  help: CONFORMANCE_HELP,
  run(argv, env) {
    return runKit(argv, env).catch((err: unknown) => {
      if ((err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) return usage(`${(err as Error).message}\n\n${CONFORMANCE_HELP}`);
      if (err instanceof UsageError) return usage(`${err.message}\n\n${CONFORMANCE_HELP}`);
      return commandFailed('run the conformance kit', err, undefined);
    });
  },
};

async function runKit(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values } = parseArgs({ args: [...argv], options: OPTIONS, strict: true });
  const role = values.role;
  if (role !== 'msp' && role !== 'cmp') throw new UsageError('--role takes msp or cmp');
  if (!values.url || !/^https?:\/\//.test(values.url)) throw new UsageError("--url takes the partner's http(s):// base URL");
  if (!values['target-id']) throw new UsageError("--target-id takes the partner's id");
  if (role === 'msp' && !values['msp-token']) throw new UsageError('an MSP is checked with its test user: --msp-token TOKEN');
  if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  const eid = values.eid ?? EXAMPLE_EID;
  if (!isValidEid(eid)) throw new UsageError('--eid takes an EID: 32 digits with their check digits (SGP.29)');
  const credential = credentialOf(values.credential, env);
  const mask = masker(credential ? Object.values(credential) : []);
  const startedAt = new Date();
  const read = (file: string | undefined) => (file === undefined ? undefined : readFileSync(file));
  const callback = parseListen(values['callback-listen'] ?? '127.0.0.1:0', '--callback-listen');
  const inbox = role === 'msp' ? await DeliveryInbox.start(callback.host, callback.port) : undefined;
  try {
    if (inbox) process.stdout.write(`Send Activation Code to the kit at ${inbox.url} (the CMP's URL at the MSP)\n`);
    const checks = checksFor(role, loadChecks(path.join(PROJECT_ROOT, 'conformance')));
    const apis = await Apis.load(path.join(PROJECT_ROOT, 'spec'));
    const tty = process.stdout.isTTY === true;
    const results = await runChecks(
      checks,
      apis,
      {
        role,
        url: values.url,
        credential,
        tls: { cert: read(values['tls-cert']), key: read(values['tls-key']), ca: read(values['tls-ca']) },
        clientId: values['client-id'] ?? 'conformance',
        targetId: values['target-id'],
        mspToken: values['msp-token'],
        accountId: values['account-id'] ?? EXAMPLE_ACCOUNT_ID,
        eid,
        allowDestructive: values['allow-destructive'] ?? false,
        requestTimeoutMs: seconds(values['timeout-seconds'], '--timeout-seconds', 10) * 1000,
        deliveryTimeoutMs: seconds(values['delivery-timeout-seconds'], '--delivery-timeout-seconds', 60) * 1000,
        inbox,
      },
      (done, result) => process.stdout.write(progressLine(result, done, checks.length, tty, mask)),
    );
    const run = { title: `AID.02 conformance: ${role.toUpperCase()} ${values['target-id']} at ${values.url}`, startedAt, version: VERSION };
    if (values.junit) writeFileSync(values.junit, junitXml(results, run, mask));
    if (values.html) writeFileSync(values.html, htmlReport(results, run, mask));
    const summary = summarize(results);
    process.stdout.write(terminalSummary(summary, role, values.url, run));
    return summary.failed === 0 ? 0 : 1;
  } finally {
    await inbox?.close();
  }
}

function credentialOf(kind: string | undefined, env: NodeJS.ProcessEnv): Credential | undefined {
  if (kind === undefined) return undefined;
  const secret = envSecret(env, 'CONFORMANCE_SECRET');
  if (!secret) throw new UsageError('--credential needs its secret in $CONFORMANCE_SECRET or the file $CONFORMANCE_SECRET_FILE');
  if (kind === 'api-key') return { apiKey: secret };
  const basic = /^basic:(.+)$/.exec(kind);
  if (basic) return { username: basic[1], password: secret };
  throw new UsageError('--credential takes api-key or basic:USER');
}

function seconds(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} takes a number of seconds above 0`);
  return n;
}
