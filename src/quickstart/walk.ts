/**
 * The walk through AID.02 that the quick start prints and the README shows: onboarding, car
 * provisioning in both response modes, profile status, a refused foreign token, withdrawal. Each
 * step is data, so the same steps are printed as curl commands and replayed by the tests.
 */
import { basicAuthorization } from '../config/credentials';

type Caller = 'mspAlpha' | 'mspBeta' | 'mspGamma' | 'mspDelta' | 'cmpOne' | 'cmpTwo' | 'cmpFleet';

interface DemoSecret {
  readonly apiKey?: string;
  readonly basic?: { readonly username: string; readonly password: string };
}

/** the clear secrets behind the example partners (partners/*.yaml holds them as ${ENV:-default}) */
export const DEMO_SECRETS: Readonly<Record<Caller, DemoSecret>> = {
  mspAlpha: { apiKey: process.env.MSP_ALPHA_API_KEY ?? 'demo-key-msp-alpha' },
  mspBeta: { basic: { username: 'mspBeta', password: process.env.MSP_BETA_PASSWORD ?? 'demo-password-msp-beta' } },
  cmpOne: { apiKey: process.env.CMP_ONE_API_KEY ?? 'demo-key-cmp-one' },
  mspGamma: { apiKey: process.env.MSP_GAMMA_API_KEY ?? 'demo-key-msp-gamma' },
  mspDelta: { apiKey: process.env.MSP_DELTA_API_KEY ?? 'demo-key-msp-delta' },
  cmpTwo: { apiKey: 'demo-key-cmp-two' },
  cmpFleet: { apiKey: process.env.CMP_FLEET_API_KEY ?? 'demo-key-cmp-fleet' },
};

/** what the simulated own system of a partner presents when it calls the hub back (mspGamma's
 * SM-DP+ on its progress callback; partners/mspGamma.yaml) */
export const DEMO_CALLBACK_HEADERS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  mspGamma: { 'api-key': process.env.SMDP_GAMMA_CALLBACK_KEY ?? 'demo-smdp-gamma-callback-key' },
};

export interface WalkStep {
  readonly title: string;
  readonly method: string;
  /** a path on the hub, or a full URL for a look at a simulator */
  readonly path: string;
  readonly as?: { readonly caller: Caller; readonly target: string; readonly requestId: string; readonly correlationId: string };
  readonly body?: unknown;
  /** the status the step answers with on a fresh quick start */
  readonly expect: number;
}

const ALPHA_TOKEN = '3d8db5e5-dd84-40bf-836c-bb686f9f707e';
const BETA_TOKEN = '649821b4-ca2d-4034-95f1-296bbf8d5088';
const GAMMA_TOKEN = '0e7f5a3c-61d2-4b8e-9a47-2c5d8e1f9b30';
const DELTA_TOKEN = '5b1e9d27-3c84-4f60-8a15-7d2c9e4b6f01';
const FLEET_TOKEN = '9c3f6a18-2d47-4b95-8e06-1a7b5c9d3e24';
const ACCOUNT_ID = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjE2NDg1NDE4MTYsInNpZCI6ImE2MjUyMTFhIn0.c2lnbmF0dXJl';
const EID = '89049032000001000000000831934057';

const onboarding = (token: string) => ({
  msp_token: token,
  phoneNumber: 'b3YsYkQqi5xw1xRLsDxcfaRC1PANhnhGEICHXNvj',
  subscriptionType: 'private',
  error: null,
  customerGroup: 'Market_Germany',
  iv: 'N1RnMnHhudFLgi1l',
});

/** a readable UUID numbered `n` */
const numbered = (prefix: string, n: number) => `${prefix}-${String(n).padStart(4, '0')}-4000-8000-${String(n).padStart(12, '0')}`;

const acRequest = (n: number) => ({
  profileType: 'personal',
  deviceType: 'tcu',
  eid: EID,
  activationCodeRequestID: numbered('ac000000', n),
  replaceIccid: null,
});

/** a step through the hub; its request and correlation ids are fixed and readable, derived from `n` */
function hubStep(n: number, title: string, caller: Caller, target: string, method: string, path: string, expect: number, body?: unknown): WalkStep {
  return {
    title: `${n}. ${title}`,
    method,
    path,
    as: { caller, target, requestId: numbered('a1b2c3d4', n), correlationId: numbered('c0ffee00', n) },
    body,
    expect,
  };
}

export function walkSteps(cmpOneSimulatorUrl: string, smdpSimulatorUrl: string, platformSimulatorUrl: string, fleetPlatformUrl: string): WalkStep[] {
  return [
    hubStep(
      1,
      'Onboarding: mspAlpha sends the msp_token of a new user to cmpOne (Send MSP Token)',
      'mspAlpha',
      'cmpOne',
      'POST',
      `/cesim/msp/v1/users/${ACCOUNT_ID}`,
      201,
      onboarding(ALPHA_TOKEN),
    ),
    hubStep(
      2,
      'Car provisioning, synchronous: cmpOne asks mspAlpha for an activation code (200)',
      'cmpOne',
      'mspAlpha',
      'POST',
      `/v1/activation-code-requests/${ALPHA_TOKEN}`,
      200,
      acRequest(2),
    ),
    hubStep(
      3,
      'Onboarding at mspBeta (basic authentication) for the same car maker',
      'mspBeta',
      'cmpOne',
      'POST',
      `/cesim/msp/v1/users/${ACCOUNT_ID}`,
      201,
      onboarding(BETA_TOKEN),
    ),
    hubStep(
      4,
      'Car provisioning, asynchronous: mspBeta answers 201 and sends the code back through the hub',
      'cmpOne',
      'mspBeta',
      'POST',
      `/v1/activation-code-requests/${BETA_TOKEN}`,
      201,
      acRequest(4),
    ),
    {
      title: "5. What the simulated cmpOne received (a second later it holds mspBeta's activation code)",
      method: 'GET',
      path: `${cmpOneSimulatorUrl}/simulator/inbox`,
      expect: 200,
    },
    hubStep(
      6,
      'Profile status synchronisation: cmpOne asks mspAlpha for the profiles of the user',
      'cmpOne',
      'mspAlpha',
      'GET',
      `/v1/profiles/status/${ALPHA_TOKEN}`,
      200,
    ),
    hubStep(
      7,
      'A foreign token: cmpTwo tries the token mspAlpha issued to cmpOne (404, code 20)',
      'cmpTwo',
      'mspAlpha',
      'POST',
      `/v1/activation-code-requests/${ALPHA_TOKEN}`,
      404,
      acRequest(7),
    ),
    hubStep(8, 'Withdraw onboarding: cmpOne asks mspAlpha to invalidate the token (204)', 'cmpOne', 'mspAlpha', 'DELETE', `/v1/users/${ALPHA_TOKEN}`, 204),
    hubStep(
      9,
      'The invalidated token gets no new activation code (404, code 21)',
      'cmpOne',
      'mspAlpha',
      'POST',
      `/v1/activation-code-requests/${ALPHA_TOKEN}`,
      404,
      acRequest(9),
    ),
    hubStep(
      10,
      'Onboarding at mspGamma, an ES2+ operator: its back office sends the msp_token through the hub',
      'mspGamma',
      'cmpOne',
      'POST',
      `/cesim/msp/v1/users/${ACCOUNT_ID}`,
      201,
      onboarding(GAMMA_TOKEN),
    ),
    hubStep(
      11,
      "Car provisioning at mspGamma: the hub orders a profile on the operator's SM-DP+ over ES2+ and answers the code (200)",
      'cmpOne',
      'mspGamma',
      'POST',
      `/v1/activation-code-requests/${GAMMA_TOKEN}`,
      200,
      acRequest(11),
    ),
    {
      title: '12. The car downloads its profile from the simulated SM-DP+, which reports the progress to the hub',
      method: 'POST',
      path: `${smdpSimulatorUrl}/simulator/download`,
      body: { eid: EID },
      expect: 200,
    },
    hubStep(13, "Profile status from the hub's own records of mspGamma: installed", 'cmpOne', 'mspGamma', 'GET', `/v1/profiles/status/${GAMMA_TOKEN}`, 200),
    hubStep(
      14,
      'Onboarding at mspDelta, a TelcoAPI operator: its back office sends the msp_token through the hub',
      'mspDelta',
      'cmpOne',
      'POST',
      `/cesim/msp/v1/users/${ACCOUNT_ID}`,
      201,
      onboarding(DELTA_TOKEN),
    ),
    hubStep(
      15,
      "Car provisioning at mspDelta: the hub registers the car's eUICC, creates a profile on the operator's platform and answers its code (200)",
      'cmpOne',
      'mspDelta',
      'POST',
      `/v1/activation-code-requests/${DELTA_TOKEN}`,
      200,
      acRequest(15),
    ),
    {
      title: '16. The car downloads its profile; the simulated platform tells the hub by signed webhooks',
      method: 'POST',
      path: `${platformSimulatorUrl}/simulator/download`,
      body: { eid: EID },
      expect: 200,
    },
    hubStep(17, "Profile status from the hub's own records of mspDelta: installed", 'cmpOne', 'mspDelta', 'GET', `/v1/profiles/status/${DELTA_TOKEN}`, 200),
    hubStep(
      18,
      "Onboarding at cmpFleet, whose cars a device-management platform runs: the hub passes mspAlpha's msp_token to the fleet's back office",
      'mspAlpha',
      'cmpFleet',
      'POST',
      `/cesim/msp/v1/users/${ACCOUNT_ID}`,
      201,
      onboarding(FLEET_TOKEN),
    ),
    hubStep(
      19,
      'Car provisioning for the fleet: cmpFleet asks mspAlpha for a code (200), and the hub starts the download on the car',
      'cmpFleet',
      'mspAlpha',
      'POST',
      `/v1/activation-code-requests/${FLEET_TOKEN}`,
      200,
      acRequest(19),
    ),
    {
      title: '20. The simulated car about ten seconds later: the profile downloaded, then enabled',
      method: 'GET',
      path: `${fleetPlatformUrl}/simulator/vehicles`,
      expect: 200,
    },
    hubStep(
      21,
      'What mspAlpha heard from the hub as Send CSIM Status: the profile enabled',
      'cmpFleet',
      'mspAlpha',
      'GET',
      `/v1/profiles/status/${FLEET_TOKEN}`,
      200,
    ),
  ];
}

export function stepUrl(step: WalkStep, hubUrl: string): string {
  return /^https?:/.test(step.path) ? step.path : `${hubUrl}${step.path}`;
}

/** the credential headers a demo partner presents to the hub */
export function credentialHeaders(caller: string): Record<string, string> {
  const secret: DemoSecret = DEMO_SECRETS[caller as Caller] ?? {};
  if (secret.apiKey) return { 'api-key': secret.apiKey };
  if (secret.basic) return { authorization: basicAuthorization(secret.basic.username, secret.basic.password) };
  return {};
}

export function stepHeaders(step: WalkStep): Record<string, string> {
  if (!step.as) return step.body !== undefined ? { 'content-type': 'application/json' } : {};
  return {
    ...credentialHeaders(step.as.caller),
    'client-id': step.as.caller,
    'target-id': step.as.target,
    'CMP-request-id': step.as.requestId,
    'correlation-id': step.as.correlationId,
    ...(step.body !== undefined ? { 'content-type': 'application/json' } : {}),
  };
}

export function toCurl(step: WalkStep, hubUrl: string): string {
  const lines = [`curl -i -X ${step.method} '${stepUrl(step, hubUrl)}'`];
  const secret: DemoSecret = step.as ? DEMO_SECRETS[step.as.caller] : {};
  for (const [name, value] of Object.entries(stepHeaders(step))) {
    if (name === 'authorization' && secret.basic) lines.push(`-u '${secret.basic.username}:${secret.basic.password}'`);
    else lines.push(`-H '${name}: ${value}'`);
  }
  if (step.body !== undefined) lines.push(`-d '${JSON.stringify(step.body)}'`);
  return `# ${step.title}\n${lines.join(' \\\n  ')}`;
}
