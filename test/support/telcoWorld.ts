/**
 * The TelcoAPI test world: a simulated eSIM management platform (src/simulators/telcoapiSimulator),
 * a TelcoAPI operator `opt` served by the hub, two CMPs and the operator's back office as real HTTP
 * servers, and the hub on real Redis. The platform's webhooks reach the hub signed with SECRET.
 */
import { randomUUID } from 'node:crypto';
import { startTelcoapiSimulator, type TelcoapiSimulator, type TelcoapiSimulatorOptions } from '../../src/dialects/telcoapi/simulator';
import { newEid } from './es2World';
import { FakePartner } from './fakePartner';
import { paths, requestActivationCodeBody, sendMspTokenBody } from './messages';
import { TestHub, type Answer, type TestHubOptions } from './testHub';

export const TOKEN = 'platform-token-of-the-hub';
export const SECRET = 'webhook-secret-one-0123456789';
export const NEXT_SECRET = 'webhook-secret-two-9876543210';
export const SMDP = 'smdp.platform.example';

export interface TelcoWorldOptions {
  readonly profilesPerSubscription?: number;
  readonly redisKeyPrefix?: string;
  /** the hub's store (Redis unless a test says memory) */
  readonly store?: 'redis' | 'memory';
  readonly simulator?: Partial<TelcoapiSimulatorOptions>;
  /** the operator's `telcoapi:` block, merged over the world's */
  readonly settings?: Record<string, unknown>;
  readonly routes?: Record<string, unknown>;
  readonly breaker?: Record<string, unknown>;
  readonly tracing?: TestHubOptions['tracing'];
}

export class TelcoWorld {
  private constructor(
    readonly hub: TestHub,
    readonly platform: TelcoapiSimulator,
    readonly cmp: FakePartner,
    readonly cmpB: FakePartner,
    readonly backOffice: FakePartner,
    private readonly owned: boolean,
  ) {}

  /** with `shared`, a second hub on the same platform, back office and Redis keys */
  static async start(options: TelcoWorldOptions = {}, shared?: TelcoWorld): Promise<TelcoWorld> {
    const platform = shared?.platform ?? (await startTelcoapiSimulator({ token: TOKEN, smdpAddress: SMDP, ...options.simulator }));
    const cmpB = shared?.cmpB ?? (await FakePartner.start());
    const backOffice = shared?.backOffice ?? (await FakePartner.start());
    backOffice.answer(() => ({ status: 204 }));
    const cmp = await FakePartner.start();
    const hub = await TestHub.start({
      partners: [
        { id: 'cmpA', role: 'cmp', apiKey: 'key-cmpA', upstreamUrl: cmp.url },
        { id: 'cmpB', role: 'cmp', apiKey: 'key-cmpB', upstreamUrl: cmpB.url },
        {
          id: 'opt',
          role: 'msp',
          apiKey: 'key-opt',
          upstreamUrl: platform.url,
          extra: {
            dialect: 'telcoapi',
            upstream: { url: platform.url, auth: { bearer: TOKEN }, ...(options.breaker ? { breaker: options.breaker } : {}) },
            telcoapi: {
              mno: 'MNO-TEST',
              profileTypes: {
                personal: { platformType: 'OPERATIONAL', iccids: { from: '894901000000000000', to: '894901000000099999' } },
                business: { platformType: 'OPERATIONAL', iccids: { from: '894902000000000000', to: '894902000000000000' } },
              },
              profilesPerSubscription: options.profilesPerSubscription ?? 2,
              webhookSecrets: [SECRET],
              webhook: { url: `${backOffice.url}/events`, auth: { apiKey: 'hub-key-at-opt-backoffice' } },
              // tests make many devices and profiles in seconds; the limit test sets its own
              rateLimits: Object.fromEntries(
                ['profileCreation', 'deviceRegistration', 'activationCodeGeneration'].map((e) => [e, { requests: 6000, perSeconds: 60, burst: 1000 }]),
              ),
              ...options.settings,
            },
          },
        },
      ],
      // a budget no loaded CI machine exceeds; a test of a slow platform sets its own
      routes: options.routes ?? { routes: [{ from: '*', to: '*', timeoutMs: 20000 }] },
      redisKeyPrefix: options.redisKeyPrefix ?? shared?.hub.keyPrefix,
      store: options.store,
      tracing: options.tracing,
    }).catch(async (err: unknown) => {
      await cmp.close();
      if (!shared) await Promise.all([platform.close(), cmpB.close(), backOffice.close()]);
      throw err;
    });
    if (!shared) platform.webhookTo(`${hub.url}/telcoapi/opt/events`, SECRET);
    return new TelcoWorld(hub, platform, cmp, cmpB, backOffice, !shared);
  }

  /** the operator issues an msp_token to a CMP through the hub (AID.02 4.2, Send MSP Token) */
  async onboard(token: string = randomUUID(), cmp = 'cmpA'): Promise<string> {
    const answer = await this.hub.call({ as: 'opt', to: cmp, method: 'POST', path: paths.sendMspToken(), body: sendMspTokenBody(token) });
    if (answer.status !== 201) throw new Error(`onboarding answered ${answer.status}`);
    return token;
  }

  requestCode(token: string, body: Partial<ReturnType<typeof requestActivationCodeBody>> = {}, cmp = 'cmpA'): Promise<Answer> {
    return this.hub.call({
      as: cmp,
      to: 'opt',
      method: 'POST',
      path: paths.requestActivationCode(token),
      body: { ...requestActivationCodeBody(), eid: newEid(), ...body },
    });
  }

  csimStatus(token: string, iccid: string, status: string, cmp = 'cmpA'): Promise<Answer> {
    return this.hub.call({ as: cmp, to: 'opt', method: 'POST', path: paths.sendCsimStatus(token), body: { iccid, eid: newEid(), status } });
  }

  profileStatus(token: string, iccid?: string, cmp = 'cmpA'): Promise<Answer> {
    return this.hub.call({ as: cmp, to: 'opt', method: 'GET', path: paths.requestProfileStatus(token, iccid) });
  }

  invalidate(token: string, cmp = 'cmpA'): Promise<Answer> {
    return this.hub.call({ as: cmp, to: 'opt', method: 'DELETE', path: paths.requestInvalidateFederatedID(token) });
  }

  /** the platform calls of `method path` (path below /api/v1/esim, a regular expression) */
  platformCalls(method: string, path: RegExp): Record<string, unknown>[] {
    return this.platform.calls.filter((c) => c.method === method && path.test(c.path)).map((c) => c.body);
  }

  /** the events the operator's back office received */
  events(event?: string): Record<string, unknown>[] {
    return this.backOffice.received.map((r) => r.body as Record<string, unknown>).filter((e) => event === undefined || e.event === event);
  }

  async close(): Promise<void> {
    await this.hub.close();
    await this.cmp.close();
    if (this.owned) await Promise.all([this.platform.close(), this.cmpB.close(), this.backOffice.close()]);
  }
}
