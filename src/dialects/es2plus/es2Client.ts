/**
 * The ES2+ client: one operator's SM-DP+, called through the same upstream layer as every partner
 * (its pool with the client certificate and the SM-DP+'s CA, deadline, breaker, outbound limit).
 * A function the SM-DP+ refuses answers HTTP 200 with status `Failed`: that is an outcome, never a
 * breaker failure. An answer that is no ES2+ answer at all is a protocol error.
 */
import { randomUUID } from 'node:crypto';
import type { Es2plusSettings } from './settings';
import type { Logger } from '../../log';
import type { Es2plusMetrics } from './metrics';
import { type Upstream } from '../../upstream/upstream';
import { UpstreamError } from '../../errors/upstreamError';
import { ES2PLUS_PATH, Es2ProtocolError, executed, parseAnswer, requestBody, type Es2Answer, type Es2Function } from './es2Messages';

export class Es2Client {
  constructor(
    private readonly upstream: Upstream,
    private readonly settings: Es2plusSettings,
    private readonly metrics: Es2plusMetrics,
  ) {}

  private get msp(): string {
    return this.upstream.partner.id;
  }

  /** calls `fn`; throws UpstreamError when the SM-DP+ cannot be reached, Es2ProtocolError when
   * its answer is not ES2+; every status the SM-DP+ gives comes back, and is logged unless it is
   * a success */
  async call(fn: Es2Function, input: Readonly<Record<string, unknown>>, timeoutMs: number, log: Logger): Promise<Es2Answer> {
    const functionCallIdentifier = randomUUID();
    const labels = { msp: this.msp, function: fn };
    let answer;
    try {
      answer = await this.upstream.request({
        operation: `es2plus.${fn}`,
        method: 'POST',
        path: `${ES2PLUS_PATH}/${fn}`,
        headers: { 'content-type': 'application/json', accept: 'application/json', 'x-admin-protocol': this.settings.adminProtocol },
        body: Buffer.from(requestBody(this.settings.functionRequesterIdentifier, functionCallIdentifier, input)),
        timeoutMs,
      });
    } catch (err) {
      if (err instanceof UpstreamError) this.metrics.calls.inc({ ...labels, outcome: err.failure });
      throw err;
    }
    this.metrics.duration.observe(labels, answer.durationMs / 1000);
    let parsed: Es2Answer;
    try {
      if (answer.status !== 200) throw new Es2ProtocolError(`the SM-DP+ answered HTTP ${answer.status}`);
      parsed = parseAnswer(answer.body.toString('utf8'));
    } catch (err) {
      this.metrics.calls.inc({ ...labels, outcome: 'protocol_error' });
      log.error({ function: fn, functionCallIdentifier, httpStatus: answer.status, reason: (err as Error).message }, 'ES2+ answer unusable');
      throw err;
    }
    const { execution } = parsed;
    this.metrics.calls.inc({ ...labels, outcome: execution.status });
    if (!executed(execution) || execution.status === 'Executed-WithWarning') {
      // nothing the SM-DP+ says is lost
      // subjectIdentifier is left out: it may name the ICCID or EID, which never go into a log
      const { subjectCode, reasonCode, message } = execution.statusCodeData ?? {};
      log.warn({ function: fn, functionCallIdentifier, status: execution.status, subjectCode, reasonCode, message }, 'ES2+ function not plainly executed');
    }
    return parsed;
  }
}
