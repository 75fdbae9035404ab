/**
 * The ES2+ test world: a simulated SM-DP+ over mutual TLS (its own server certificate, the hub's
 * client certificate, both from the test CA), an ES2+ operator `opx` served by the hub, a CMP and
 * the operator's webhook as real HTTP servers, and the hub on real Redis.
 */
import { randomUUID } from 'node:crypto';
import { eidWithCheckDigits } from '../../src/esim/eid';
import { startSmdpSimulator, type SmdpSimulator } from '../../src/dialects/es2plus/simulator';
import { createPki, type TestPki } from './certs';
import { FakePartner } from './fakePartner';
import { paths, requestActivationCodeBody, sendMspTokenBody } from './messages';
import { TestHub, type Answer, type PartnerSpec } from './testHub';

export const CALLBACK_KEY = 'smdp-callback-key';
export const SMDP_ADDRESS = 'smdp.example.com';

let serial = 0;
/** a valid EID (check digits right), different each call */
export function newEid(): string {
  serial += 1;
  return eidWithCheckDigits(`890490320000010000${String(Date.now() % 1e6).padStart(6, '0')}${String(serial).padStart(6, '0')}`);
}

/** `count` ICCIDs of 19 digits (the SM-DP+ pads them with F), unique per world */
export function iccids(count: number): string[] {
  const base = 8949000000000000000n + BigInt(Math.floor(Math.random() * 1e9)) * 1000n;
  return Array.from({ length: count }, (_, i) => String(base + BigInt(i)));
}

export interface Es2WorldOptions {
  readonly profilesPerSubscription?: number;
  readonly inventory?: Record<string, string[]>;
  /** another hub's Redis key prefix, to share its state */
  readonly redisKeyPrefix?: string;
  /** the hub's store (Redis unless a test says memory) */
  readonly store?: 'redis' | 'memory';
  readonly smdpUrl?: string;
  readonly breaker?: Record<string, unknown>;
  readonly pki?: TestPki;
  readonly withoutClientCertificate?: boolean;
  readonly routes?: Record<string, unknown>;
  /** the SM-DP+ calls back over the hub's TLS listener with this client certificate's subject */
  readonly callbackCertificateCn?: string;
  /** the SM-DP+ speaks SGP.22 (default) or with the seed vendor's spelling */
  readonly spelling?: 'sgp22' | 'seedVendor';
  /** the operator's `es2plus.callback` and `callbackRequires` instead of the API key */
  readonly callback?: { readonly credentials: Record<string, unknown>; readonly requires?: 'any' | 'all' };
}

export class Es2World {
  private constructor(
    readonly hub: TestHub,
    readonly smdp: SmdpSimulator,
    readonly cmp: FakePartner,
    /** a second CMP the operator's users may federate with too */
    readonly cmpB: FakePartner,
    readonly webhook: FakePartner,
    readonly pki: TestPki,
  ) {}

  static async start(options: Es2WorldOptions = {}, shared?: Es2World): Promise<Es2World> {
    const pki = options.pki ?? shared?.pki ?? createPki();
    const cmp = shared?.cmp ?? (await FakePartner.start());
    const cmpB = shared?.cmpB ?? (await FakePartner.start());
    const webhook = shared?.webhook ?? (await FakePartner.start());
    const hubClient = pki.client('aid-gateway');
    const smdp =
      shared?.smdp ??
      (await startSmdpSimulator({
        inventory: options.inventory ?? { PT_PERSONAL: iccids(200), PT_BUSINESS: iccids(1), PT_LEGACY_UNKNOWN_AT_SMDP: [] },
        smdpAddress: SMDP_ADDRESS,
        tls: { ...pki.server(), ca: pki.ca.cert },
        spelling: options.spelling,
      }));
    const specs: PartnerSpec[] = [
      { id: 'cmpA', role: 'cmp', apiKey: 'key-cmpA', upstreamUrl: cmp.url },
      { id: 'cmpB', role: 'cmp', apiKey: 'key-cmpB', upstreamUrl: cmpB.url },
      {
        id: 'opx',
        role: 'msp',
        apiKey: 'key-opx',
        upstreamUrl: options.smdpUrl ?? smdp.url,
        extra: {
          dialect: 'es2plus',
          upstream: {
            url: options.smdpUrl ?? smdp.url,
            tls: options.withoutClientCertificate ? { ca: 'smdp-ca.pem' } : { cert: 'hub-client.pem', key: 'hub-client-key.pem', ca: 'smdp-ca.pem' },
            breaker: options.breaker,
          },
          es2plus: {
            functionRequesterIdentifier: 'aid-gateway.test',
            adminProtocol: 'gsma/rsp/v2.5.0',
            smdpAddress: SMDP_ADDRESS,
            profileTypes: { personal: 'PT_PERSONAL', business: 'PT_BUSINESS', legacy: 'PT_UNKNOWN_AT_SMDP' },
            profilesPerSubscription: options.profilesPerSubscription ?? 2,
            webhook: { url: `${webhook.url}/events`, auth: { apiKey: 'hub-key-at-opx-backoffice' } },
            callback:
              options.callback?.credentials ??
              (options.callbackCertificateCn ? { certificates: [{ subject: { CN: options.callbackCertificateCn } }] } : { apiKeys: [CALLBACK_KEY] }),
            ...(options.callback?.requires ? { callbackRequires: options.callback.requires } : {}),
          },
        },
      },
    ];
    const hub = await TestHub.start({
      partners: specs,
      tls:
        options.callbackCertificateCn || options.callback
          ? { host: '127.0.0.1', port: 0, cert: pki.serverCertFile, key: pki.serverKeyFile, clientCa: pki.caFile }
          : undefined,
      // a budget no loaded CI machine exceeds: a test of the 3-second budget (7.7.1) sets its own
      routes: options.routes ?? { routes: [{ from: '*', to: '*', timeoutMs: 20000 }] },
      redisKeyPrefix: options.redisKeyPrefix,
      store: options.store,
      files: { 'hub-client.pem': hubClient.cert, 'hub-client-key.pem': hubClient.key, 'smdp-ca.pem': pki.ca.cert },
    }).catch(async (err: unknown) => {
      if (!shared) await Promise.all([smdp.close(), cmp.close(), cmpB.close(), webhook.close()]);
      throw err;
    });
    if (options.callbackCertificateCn) {
      const smdpClient = pki.client(options.callbackCertificateCn);
      smdp.notifyTo({ url: hub.hub.urls[1], tls: { cert: smdpClient.cert, key: smdpClient.key, ca: pki.ca.cert } });
    } else if (!shared) {
      smdp.notifyTo({ url: hub.url, headers: { 'api-key': CALLBACK_KEY } });
    }
    return new Es2World(hub, smdp, cmp, cmpB, webhook, pki);
  }

  /** the operator issues an msp_token to a CMP through the hub (AID.02 4.2, Send MSP Token) */
  async onboard(token: string = randomUUID(), cmp = 'cmpA'): Promise<string> {
    const answer = await this.hub.call({ as: 'opx', to: cmp, method: 'POST', path: paths.sendMspToken(), body: sendMspTokenBody(token) });
    if (answer.status !== 201) throw new Error(`onboarding answered ${answer.status}`);
    return token;
  }

  requestCode(token: string, body: Partial<ReturnType<typeof requestActivationCodeBody>> = {}, hub: TestHub = this.hub, cmp = 'cmpA'): Promise<Answer> {
    return hub.call({
      as: cmp,
      to: 'opx',
      method: 'POST',
      path: paths.requestActivationCode(token),
      body: { ...requestActivationCodeBody(), eid: newEid(), ...body },
    });
  }

  csimStatus(token: string, iccid: string, status: string): Promise<Answer> {
    return this.hub.call({ as: 'cmpA', to: 'opx', method: 'POST', path: paths.sendCsimStatus(token), body: { iccid, eid: newEid(), status } });
  }

  profileStatus(token: string, iccid?: string): Promise<Answer> {
    return this.hub.call({ as: 'cmpA', to: 'opx', method: 'GET', path: paths.requestProfileStatus(token, iccid) });
  }

  /** ES2+ calls the SM-DP+ received, by function */
  smdpCalls(fn: string): Record<string, unknown>[] {
    return this.smdp.calls.filter((c) => c.function === fn).map((c) => c.body);
  }

  /** the events the operator's back office received */
  events(): Record<string, unknown>[] {
    return this.webhook.received.map((r) => r.body as Record<string, unknown>);
  }

  async close(options: { keepShared?: boolean } = {}): Promise<void> {
    await this.hub.close();
    if (options.keepShared) return;
    await Promise.all([this.smdp.close(), this.cmp.close(), this.cmpB.close(), this.webhook.close()]);
  }
}
