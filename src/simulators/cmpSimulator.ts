/**
 * A simulated CMP backend (Annex B.1, the API the CMP provides). It accepts every message, keeps
 * what it received, and shows it at GET /simulator/inbox, so a person trying the hub can see the
 * activation code that an MSP delivered asynchronously.
 */
import { startSimulator, type RunningSimulator, type SimRequest, type SimAnswer, type SimulatorServerOptions } from './simulatorServer';

/** misbehaviours for the conformance kit's tests, one switch each */
export type CmpDefect = 'noErrorBody' | 'ignoresHeaders' | 'mspTokenStatus200';

export interface CmpSimulatorOptions {
  readonly apiKey: string;
  readonly host?: string;
  readonly port?: number;
  readonly tls?: SimulatorServerOptions['tls'];
  readonly defects?: ReadonlySet<CmpDefect>;
}

interface Received {
  readonly operation: string;
  readonly from: string;
  readonly params: Readonly<Record<string, string>>;
  readonly body: unknown;
}

export function startCmpSimulator(options: CmpSimulatorOptions): Promise<RunningSimulator> {
  const inbox: Received[] = [];
  const accept =
    (operation: string, status: number) =>
    (req: SimRequest): SimAnswer => {
      inbox.push({ operation, from: String(req.headers['client-id']), params: req.params, body: req.body });
      return { status };
    };
  return startSimulator(
    [
      { method: 'POST', path: '/cesim/msp/v1/users/{account_id}', handle: accept('sendMspToken', options.defects?.has('mspTokenStatus200') ? 200 : 201) },
      { method: 'POST', path: '/cesim/msp/v1/users/{msp_token}/invalidate', handle: accept('notifyMspTokenInvalid', 204), clientErrorStatus: 400 },
      { method: 'POST', path: '/cesim/msp/v1/users/{msp_token}/profiles', handle: accept('sendProfileInformation', 200) },
      { method: 'PATCH', path: '/cesim/msp/v1/subscriptions/{msp_token}', handle: accept('updateSubscriptionInfo', 201) },
      { method: 'POST', path: '/cesim/msp/v1/activation-codes/{msp_token}', handle: accept('submitActivationCode', 200) },
      { method: 'GET', path: '/simulator/inbox', handle: () => ({ status: 200, body: { inbox } }) },
    ],
    { ...options, defects: { noErrorBody: options.defects?.has('noErrorBody'), ignoresHeaders: options.defects?.has('ignoresHeaders') } },
  );
}
