/**
 * The logger's second line of defence: a field that must never appear in clear is censored
 * wherever it sits in a line (project standard: no secret, activation code or credential in logs).
 */
import { createLogger } from '../../src/log';

const CODE = 'LPA:1$smdp.example.com$04386-AGYFT-A74Y8-3F815';

function logged(write: (log: ReturnType<typeof createLogger>) => void): string {
  const lines: string[] = [];
  const log = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) } });
  write(log);
  return lines.join('');
}

describe('the logger censors secrets at any depth', () => {
  test.each([
    ['at the top', { activationCode: CODE }],
    ['in the platform spelling', { activation_code: CODE }],
    ['one level down', { task: { activation_code: CODE } }],
    ['three levels down', { answer: { body: { profile: { activationCode: CODE } } } }],
    ['in an array', { tasks: [{ iccid: '8944000000000000001' }, { activation_code: CODE }] }],
    ['on an error', { err: Object.assign(new Error('the platform refused'), { body: { activation_code: CODE } }) }],
  ])('an activation code %s', (_where, fields) => {
    const text = logged((log) => log.info(fields, 'line'));
    expect(text).not.toContain(CODE);
    expect(text).toContain('[redacted]');
  });

  test("in a child logger's bindings, and its child's", () => {
    const text = logged((log) =>
      log
        .child({ task: { activation_code: CODE } })
        .child({ activationCode: CODE })
        .info('line'),
    );
    expect(text).not.toContain(CODE);
    expect(text).toContain('[redacted]');
  });

  test('what is not secret is written as it was, and the logged object is left as it was', () => {
    const fields = { iccid: '8944000000000000001', nested: { activationCode: CODE, status: 'failed' }, err: new Error('the platform refused') };
    const line = JSON.parse(logged((log) => log.info(fields, 'line'))) as Record<string, unknown>;
    expect(line).toMatchObject({ iccid: '8944000000000000001', nested: { activationCode: '[redacted]', status: 'failed' }, msg: 'line' });
    expect((line.err as { message: string }).message).toBe('the platform refused');
    expect(fields.nested.activationCode).toBe(CODE);
  });

  test('an error with a secret keeps its message and stack', () => {
    const err = Object.assign(new Error('the platform refused'), { activationCode: CODE });
    const line = JSON.parse(logged((log) => log.info({ err }, 'line'))) as { err: { message: string; stack: string; activationCode: string } };
    expect(line.err).toMatchObject({ message: 'the platform refused', activationCode: '[redacted]' });
    expect(line.err.stack).toContain('the platform refused');
  });

  test('an object that refers to itself is written once, not walked for ever', () => {
    const loop: Record<string, unknown> = { activation_code: CODE };
    loop.self = loop;
    const text = logged((log) => log.info({ loop }, 'line'));
    expect(text).not.toContain(CODE);
  });
});
