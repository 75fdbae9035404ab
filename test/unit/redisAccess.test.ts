/** The command line's Redis (cli/redisAccess.ts): one topology at a time, every flag checked. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { redisAccessFrom } from '../../src/cli/redisAccess';
import { SecretFileError } from '../../src/config/envSecret';
import { UsageError } from '../../src/errors/usageError';

test('no Redis named: in-memory state (undefined)', () => {
  expect(redisAccessFrom({}, {})).toBeUndefined();
});

test('one server from the flag or $REDIS_URL, a cluster from a list, a Sentinel group with its master', () => {
  expect(redisAccessFrom({ 'redis-url': 'redis://h:1' }, {})?.target).toEqual({ kind: 'single', url: 'redis://h:1' });
  expect(redisAccessFrom({}, { REDIS_URL: 'rediss://h:2' })?.target).toEqual({ kind: 'single', url: 'rediss://h:2' });
  expect(redisAccessFrom({ 'redis-cluster': 'redis://a:1, redis://b:2' }, {})?.target).toEqual({ kind: 'cluster', urls: ['redis://a:1', 'redis://b:2'] });
  expect(redisAccessFrom({ 'redis-sentinel': 'a:26379,b:26379', 'redis-sentinel-master': 'm' }, {})?.target).toEqual({
    kind: 'sentinel',
    sentinels: ['a:26379', 'b:26379'],
    master: 'm',
  });
});

test('the ACL password from $REDIS_PASSWORD or the file $REDIS_PASSWORD_FILE names, without its line break', () => {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'aidgw-secret-')), 'pw');
  writeFileSync(file, 's3cret\n');
  expect(redisAccessFrom({ 'redis-url': 'redis://h:1', 'redis-user': 'hub' }, { REDIS_PASSWORD_FILE: file })).toEqual(
    expect.objectContaining({ username: 'hub', password: 's3cret' }),
  );
  expect(redisAccessFrom({ 'redis-url': 'redis://h:1' }, { REDIS_PASSWORD: 'direct', REDIS_PASSWORD_FILE: file })?.password).toBe('direct');
  expect(() => redisAccessFrom({ 'redis-url': 'redis://h:1' }, { REDIS_PASSWORD_FILE: `${file}-missing` })).toThrow(SecretFileError);
});

test.each([
  [{ 'redis-url': 'redis://h:1', 'redis-cluster': 'redis://a:1' }, 'give one of'],
  [{ 'redis-sentinel': 'a:26379' }, '--redis-sentinel-master'],
  [{ 'redis-user': 'hub' }, '--redis-user needs a Redis'],
  [{ 'redis-url': 'http://h:1' }, 'no Redis scheme'],
  [{ 'redis-url': 'not a url' }, 'is no URL'],
  [{ 'redis-url': 'redis://h:1', 'redis-wait-replicas': '-1' }, 'whole number'],
  [{ 'redis-url': 'redis://h:1', 'redis-cert': 'c.pem' }, 'go together'],
])('%j is a usage error: %s', (flags, message) => {
  expect(() => redisAccessFrom(flags, {})).toThrow(UsageError);
  expect(() => redisAccessFrom(flags, {})).toThrow(message);
});

test('a URL with credentials that does not parse is not echoed', () => {
  expect(() => redisAccessFrom({ 'redis-url': 'redis://user:pa ss@h:1:2' }, {})).toThrow('a URL with credentials is no URL');
});
