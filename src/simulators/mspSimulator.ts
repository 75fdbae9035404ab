/**
 * A simulated MSP backend (Annex B.2, the API the MSP provides). It hands out activation codes for
 * any msp_token it is asked about, keeps up to `maxProfiles` live profiles per token and swaps the
 * CMP's candidate (or its oldest) beyond that (AID.02 4.3.1). In `async` mode it answers 201 and
 * delivers the code a moment later through the hub's Send Activation Code, as AID.02 7.7.2 describes.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { startSimulator, type RunningSimulator, type SimAnswer, type SimRequest, type SimulatorServerOptions } from './simulatorServer';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** misbehaviours for the conformance kit's tests, one switch each */
export type MspDefect =
  'noErrorBody' | 'ignoresHeaders' | 'slow' | 'newCodeOnRetry' | 'codesAfterInvalidation' | 'noDelivery' | 'csimStatus200' | 'noClientCertificate';

export interface MspSimulatorOptions {
  readonly id: string;
  /** the key the hub presents to this MSP */
  readonly apiKey: string;
  readonly mode: 'sync' | 'async';
  readonly maxProfiles?: number;
  /** where the async delivery goes, and the credential headers this MSP presents to the hub */
  readonly hub?: { readonly url: string; readonly credentials: Readonly<Record<string, string>> };
  readonly asyncDelayMs?: number;
  readonly host?: string;
  readonly port?: number;
  readonly tls?: SimulatorServerOptions['tls'];
  readonly defects?: ReadonlySet<MspDefect>;
  /** Send CSIM Status for a profile it does not know: AID.02 7.8 lists 404 ("the request could not
   * be found") and 422 ("cannot be processed"); the hub's ES2+ operator answers 422 */
  readonly unknownProfileStatus?: 404 | 422;
}

type ProfileStatus = 'prepared' | 'installed' | 'enabled' | 'disabled' | 'deleted';

interface Subscription {
  invalidated: boolean;
  readonly profiles: Map<string, { status: ProfileStatus; readonly createdAt: number }>;
  readonly answers: Map<string, SimAnswer>;
}

const CSIM_TO_PROFILE: Readonly<Record<string, ProfileStatus>> = {
  deleted: 'deleted',
  enabled: 'enabled',
  disabled: 'disabled',
  installed: 'installed',
  installation_failed: 'prepared',
};

export function startMspSimulator(options: MspSimulatorOptions): Promise<RunningSimulator> {
  const defects = options.defects ?? new Set<MspDefect>();
  const subscriptions = new Map<string, Subscription>();
  const maxProfiles = options.maxProfiles ?? 2;
  const subscription = (token: string): Subscription => {
    let found = subscriptions.get(token);
    if (!found) {
      found = { invalidated: false, profiles: new Map(), answers: new Map() };
      subscriptions.set(token, found);
    }
    return found;
  };

  const requestActivationCode = async (req: SimRequest): Promise<SimAnswer> => {
    const answer = answerActivationCode(req);
    // past the 3 seconds AID.02 7.7.1 allows a synchronous code
    if (defects.has('slow') && answer.status === 200) await new Promise((r) => setTimeout(r, 3200));
    return answer;
  };

  const answerActivationCode = (req: SimRequest): SimAnswer => {
    const sub = subscription(req.params.msp_token);
    const body = (req.body ?? {}) as { profileType: string; eid: string; activationCodeRequestID?: string; replaceIccid: string | null };
    if (typeof body.activationCodeRequestID !== 'string' || !UUID.test(body.activationCodeRequestID))
      return { status: 422, body: { code: '91', error: 'Invalid request syntax: activationCodeRequestID must be a UUID' } };
    const earlier = defects.has('newCodeOnRetry') ? undefined : sub.answers.get(body.activationCodeRequestID);
    if (earlier) return earlier;
    if (sub.invalidated && !defects.has('codesAfterInvalidation'))
      return { status: 404, body: { code: '21', error: 'The msp_token was found but is no longer valid' } };
    if (!/^\d{32}$/.test(body.eid)) return { status: 423, body: { code: '91', error: 'Invalid eid' } };
    if (body.profileType !== 'personal') return { status: 422, body: { code: '50', error: 'Profile type unknown' } };
    const swappedIccid = swapIfFull(sub, body.replaceIccid, maxProfiles);
    const iccid = newIccid();
    sub.profiles.set(iccid, { status: 'prepared', createdAt: Date.now() });
    const code = {
      iccid,
      activationCode: `1$smdp.${options.id.toLowerCase()}.example$${randomBytes(16).toString('hex').toUpperCase()}`,
      profileType: 'personal',
      swappedIccid,
    };
    const answer: SimAnswer = options.mode === 'sync' ? { status: 200, body: code } : { status: 201 };
    sub.answers.set(body.activationCodeRequestID, answer);
    if (options.mode === 'async' && !defects.has('noDelivery')) {
      setTimeout(
        () => void deliver(options, req, { ...code, activationCodeRequestID: body.activationCodeRequestID, error: null }),
        options.asyncDelayMs ?? 500,
      ).unref();
    }
    return answer;
  };

  return startSimulator(
    [
      { method: 'POST', path: '/v1/activation-code-requests/{msp_token}', handle: requestActivationCode },
      {
        method: 'POST',
        path: '/v1/statuses/{msp_token}',
        handle: (req) => {
          const body = req.body as { iccid: string; status: string };
          const profile = subscription(req.params.msp_token).profiles.get(body.iccid);
          if (!profile)
            return { status: options.unknownProfileStatus ?? 404, body: { code: '61', error: `The profile with the ICCID ${body.iccid} could not be found` } };
          profile.status = CSIM_TO_PROFILE[body.status];
          return { status: defects.has('csimStatus200') ? 200 : 201 };
        },
      },
      {
        method: 'DELETE',
        path: '/v1/users/{msp_token}',
        handle: (req) => {
          subscription(req.params.msp_token).invalidated = true;
          return { status: 204 };
        },
      },
      {
        method: 'GET',
        path: '/v1/profiles/status/{msp_token}',
        handle: (req) => {
          const live = [...subscription(req.params.msp_token).profiles].filter(([, p]) => p.status !== 'deleted');
          const wanted = typeof req.query.iccid === 'string' ? live.filter(([iccid]) => iccid === req.query.iccid) : live;
          if (typeof req.query.iccid === 'string' && wanted.length === 0) {
            return { status: 404, body: { code: '61', error: `The profile with the ICCID ${req.query.iccid} could not be found` } };
          }
          return { status: 200, body: { profiles: wanted.map(([iccid, p]) => ({ iccid, status: p.status })) } };
        },
      },
    ],
    {
      apiKey: options.apiKey,
      host: options.host,
      port: options.port,
      tls: options.tls && { ...options.tls, requestCert: !defects.has('noClientCertificate') },
      defects: { noErrorBody: defects.has('noErrorBody'), ignoresHeaders: defects.has('ignoresHeaders') },
    },
  );
}

function swapIfFull(sub: Subscription, candidate: string | null, maxProfiles: number): string | null {
  const live = [...sub.profiles].filter(([, p]) => p.status !== 'deleted').sort(([, a], [, b]) => a.createdAt - b.createdAt);
  if (live.length < maxProfiles) return null;
  const swapped = live.find(([iccid]) => iccid === candidate)?.[0] ?? live[0][0];
  const profile = sub.profiles.get(swapped);
  if (profile) profile.status = 'deleted';
  return swapped;
}

function newIccid(): string {
  return `8949${Array.from(randomBytes(15), (b) => b % 10).join('')}`;
}

async function deliver(options: MspSimulatorOptions, req: SimRequest, body: Record<string, unknown>): Promise<void> {
  if (!options.hub) return;
  await fetch(`${options.hub.url}/cesim/msp/v1/activation-codes/${req.params.msp_token}`, {
    method: 'POST',
    headers: {
      ...options.hub.credentials,
      'content-type': 'application/json',
      'client-id': options.id,
      'target-id': String(req.headers['client-id']),
      'CMP-request-id': randomUUID(),
      'correlation-id': String(req.headers['correlation-id']),
    },
    body: JSON.stringify(body),
  }).catch(() => undefined);
}
