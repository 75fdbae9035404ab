/**
 * mTLS behind a TLS-terminating load balancer (AID.02 6: "Two way TLS (mutual authentication) SHALL
 * be used for each request."): the partner's certificate arrives as a header from a trusted proxy
 * (Envoy's x-forwarded-client-cert, nginx's ssl-client-cert) and binds the partner as a certificate
 * on the hub's own TLS listener does; from any other address the header is removed, so it is no
 * way around the certificate.
 */
import { randomUUID } from 'node:crypto';
import { createHash, X509Certificate } from 'node:crypto';
import { createPki, type Issued, type TestPki } from '../support/certs';
import { FakePartner } from '../support/fakePartner';
import { paths, sendMspTokenBody } from '../support/messages';
import { TestHub, type PartnerSpec } from '../support/testHub';

let pki: TestPki;
let cmp: FakePartner;
let behindProxy: TestHub;
let notBehindProxy: TestHub;
let mspCert: Issued;
let mspNextCert: Issued;
let mspSCert: Issued;
let foreignCert: Issued;
let expiredCert: Issued;

beforeAll(async () => {
  pki = createPki();
  // every certificate made before any hub starts: making an RSA key blocks the process for
  // seconds on a loaded machine, and a test's calls on a kept-alive connection must not wait on it
  mspCert = pki.client('mspT');
  mspNextCert = pki.client('mspT');
  mspSCert = pki.client('mspS');
  foreignCert = pki.foreignClient('mspT');
  expiredCert = pki.expiredClient('mspT');
  cmp = await FakePartner.start();
  const partners: PartnerSpec[] = [
    // two certificates, as while a partner rolls its certificate over: either binds it
    {
      id: 'mspT',
      role: 'msp',
      certificates: [{ fingerprint256: mspNextCert.fingerprint256 }, { fingerprint256: mspCert.fingerprint256 }],
      upstreamUrl: 'http://127.0.0.1:1',
    },
    { id: 'mspS', role: 'msp', certificates: [{ subject: { CN: 'mspS', O: 'aid-gateway tests' } }], upstreamUrl: 'http://127.0.0.1:1' },
    { id: 'cmpA', role: 'cmp', apiKey: 'key-cmpA', upstreamUrl: cmp.url },
  ];
  behindProxy = await TestHub.start({ partners, store: 'memory', trustedProxies: ['127.0.0.0/8', '::1'], clientCa: pki.caFile });
  notBehindProxy = await TestHub.start({ partners, store: 'memory', trustedProxies: ['10.1.2.3'], clientCa: pki.caFile });
});

afterAll(async () => {
  await behindProxy.close();
  await notBehindProxy.close();
  await cmp.close();
});

const sendToken = (hub: TestHub, as: string, headers: Record<string, string>) =>
  hub.call({ as, to: 'cmpA', method: 'POST', path: paths.sendMspToken(), body: sendMspTokenBody(randomUUID()), headers });

const xfcc = (pem: string) => `By=spiffe://hub;Hash=${sha256Hex(pem)};Cert="${encodeURIComponent(pem)}";Subject="CN=mspT,O=aid-gateway tests";URI=`;

function sha256Hex(pem: string): string {
  return createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');
}

function lastRefusal(hub: TestHub): { reason?: string; detail?: string } {
  const line = hub
    .logLines()
    .filter((l) => l.msg === 'authentication failed')
    .pop();
  return { reason: line?.reason as string | undefined, detail: line?.detail as string | undefined };
}

test("Envoy's x-forwarded-client-cert with the certificate binds the partner by fingerprint", async () => {
  expect((await sendToken(behindProxy, 'mspT', { 'x-forwarded-client-cert': xfcc(mspCert.cert) })).status).toBe(201);
  expect(cmp.received.at(-1)?.headers['x-forwarded-client-cert']).toBeUndefined();
});

test('a partner with two certificates configured (a rollover) is bound by either', async () => {
  expect((await sendToken(behindProxy, 'mspT', { 'x-forwarded-client-cert': xfcc(mspNextCert.cert) })).status).toBe(201);
  expect((await sendToken(behindProxy, 'mspT', { 'x-forwarded-client-cert': xfcc(mspCert.cert) })).status).toBe(201);
});

test("nginx's ssl-client-cert (URL-encoded PEM) binds the partner by subject", async () => {
  expect((await sendToken(behindProxy, 'mspS', { 'ssl-client-cert': encodeURIComponent(mspSCert.cert) })).status).toBe(201);
});

test('an XFCC element with only the hash binds a fingerprint partner, and not a subject partner', async () => {
  expect((await sendToken(behindProxy, 'mspT', { 'x-forwarded-client-cert': `Hash=${sha256Hex(mspCert.cert)}` })).status).toBe(201);
  expect((await sendToken(behindProxy, 'mspS', { 'x-forwarded-client-cert': `Hash=${sha256Hex(mspSCert.cert)}` })).status).toBe(401);
  expect(lastRefusal(behindProxy).reason).toBe('certificate_mismatch');
});

test('AID.02 6 "Two way TLS ... SHALL be used": a forwarded certificate of another CA, or expired, is refused as the TLS listener refuses it', async () => {
  expect((await sendToken(behindProxy, 'mspT', { 'x-forwarded-client-cert': xfcc(foreignCert.cert) })).status).toBe(401);
  expect(lastRefusal(behindProxy)).toMatchObject({ reason: 'certificate_untrusted', detail: 'not issued by the client CA (forwarded)' });
  expect((await sendToken(behindProxy, 'mspT', { 'ssl-client-cert': encodeURIComponent(expiredCert.cert) })).status).toBe(401);
  expect(lastRefusal(behindProxy).reason).toBe('certificate_untrusted');
});

test('AID.02 6 "Two way TLS ... SHALL be used": from an address that is no trusted proxy, the forwarded certificate is removed and the partner refused', async () => {
  const answer = await sendToken(notBehindProxy, 'mspT', {
    'x-forwarded-client-cert': xfcc(mspCert.cert),
    'ssl-client-cert': encodeURIComponent(mspCert.cert),
  });
  expect(answer.status).toBe(401);
  expect(lastRefusal(notBehindProxy)).toMatchObject({ reason: 'certificate_missing' });
});

test('AID.02 6: a header that is no certificate is no certificate', async () => {
  expect((await sendToken(behindProxy, 'mspT', { 'x-forwarded-client-cert': 'Cert="not%20a%20certificate"' })).status).toBe(401);
  expect(lastRefusal(behindProxy).reason).toBe('certificate_missing');
});

test("failed logins are counted against the partner's forwarded address, not the load balancer's", async () => {
  const hub = await TestHub.start({
    partners: [
      { id: 'mspT', role: 'msp', certificates: [{ fingerprint256: mspCert.fingerprint256 }], upstreamUrl: 'http://127.0.0.1:1' },
      { id: 'cmpA', role: 'cmp', apiKey: 'key-cmpA', upstreamUrl: cmp.url },
    ],
    store: 'memory',
    trustedProxies: ['127.0.0.1'],
    clientCa: pki.caFile,
    routes: { routes: [{ from: '*', to: '*' }], settings: { authFailuresPerAddress: 2, authFailuresPerClient: 1000 } },
  });
  try {
    for (let i = 0; i < 3; i++) await sendToken(hub, 'mspT', { 'x-forwarded-for': '198.51.100.7' });
    expect((await sendToken(hub, 'mspT', { 'x-forwarded-for': '198.51.100.7', 'x-forwarded-client-cert': xfcc(mspCert.cert) })).status).toBe(429);
    // another partner behind the same load balancer is not locked out
    expect((await sendToken(hub, 'mspT', { 'x-forwarded-for': '203.0.113.9', 'x-forwarded-client-cert': xfcc(mspCert.cert) })).status).toBe(201);
  } finally {
    await hub.close();
  }
});
