/**
 * AID.02 section 6: the credential must belong to the partner named by `client-id`, so a partner
 * can never speak as another. A partner with certificates configured must present one of them over
 * the TLS listener (verified against the hub's client CA); a partner with API keys or basic
 * credentials configured must present one of those. Secrets are compared as digests in constant time.
 * Every refusal says the same (why is in the log and the metric only), and an unknown client-id
 * costs the same digest work as a known one, so neither the text nor the time tells a caller which
 * partner ids exist. Failures are throttled (loginThrottle.ts): past a limit, 429 code 206, or a
 * wait before the credential is checked.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { clientAddress, presentedCertificate, type PresentedCertificate } from '../forwardedClient';
import { matchesAny, digest, parseBasicAuthorization } from '../config/credentials';
import type { CertificateBinding, CredentialsRequired, InboundCredentials, Partner } from '../config/types';
import { HubError } from '../errors/catalogue';
import { refuse, type Refusal } from '../dialects/inbound';
import { header, type HubContext, type PipelineDeps } from './types';

/** the one text of every 401 */
const REFUSED = 'the credential is missing, or does not belong to the client-id';

/** what an unknown client-id is checked against: the same work as a partner's credential, and a
 * secret nobody knows */
const DECOY: InboundCredentials = {
  apiKeyDigests: [digest(randomUUID())],
  basic: [{ username: randomUUID(), passwordDigest: digest(randomUUID()) }],
  certificates: [],
};

/** the partner `client-id` names, once its credential is checked; it becomes the request's caller */
export async function authenticatePartner(ctx: HubContext, deps: PipelineDeps, clientErrorStatus: number): Promise<Partner> {
  const clientId = ctx.state.ids.clientId;
  if (clientId === undefined) {
    throw new HubError('invalidSyntax', { detail: 'header client-id is required', clientErrorStatus });
  }
  const partner = ctx.state.runtime.config.partners.get(clientId);
  const address = addressOf(ctx);
  const waitMs = deps.loginThrottle.blockedFor(address, partner?.id);
  if (waitMs > 0) throw throttled(deps, waitMs);
  const slowMs = deps.loginThrottle.slowFor(address, partner?.id);
  if (slowMs > 0) await sleep(slowMs);
  const checked = checkCredentials(ctx, partner?.inbound ?? DECOY);
  const refusal = partner ? checked : refuse('unknown_client');
  if (!partner || refusal !== undefined) throw await refused(ctx, deps, refusal ?? refuse('unknown_client'), partner?.id);
  deps.loginThrottle.succeeded(address, partner.id, ctx.state.runtime.config.settings);
  ctx.state.caller = partner;
  return partner;
}

/** 429 while the caller's address, or its address for the client-id it claims, is blocked for
 * failed logins */
export function refuseIfThrottled(ctx: HubContext, deps: PipelineDeps, clientId: string | undefined): void {
  const waitMs = deps.loginThrottle.blockedFor(addressOf(ctx), clientId);
  if (waitMs > 0) throw throttled(deps, waitMs);
}

function throttled(deps: PipelineDeps, waitMs: number): HubError {
  deps.metrics.authFailures.inc({ reason: 'throttled' });
  return new HubError('tooManyFailedLogins', { headers: { 'retry-after': String(Math.ceil(waitMs / 1000)) } });
}

function addressOf(ctx: HubContext): string {
  return clientAddress(ctx.req);
}

/** counts, logs and throttles a refused credential; the 401 to throw, or 429 past the limit */
export async function refused(ctx: HubContext, deps: PipelineDeps, refusal: Refusal, clientId: string | undefined): Promise<HubError> {
  deps.metrics.authFailures.inc({ reason: refusal.reason });
  ctx.state.log.warn({ reason: refusal.reason, detail: refusal.detail }, 'authentication failed');
  const settings = ctx.state.runtime.config.settings;
  const waitMs = await deps.loginThrottle.failed(addressOf(ctx), clientId, settings).catch((err: unknown) => {
    // the refusal stands; only the count is lost while the store is away
    ctx.state.log.warn({ err: (err as Error).message }, 'failed login not counted: state store unavailable');
    return 0;
  });
  if (waitMs > 0) return throttled(deps, waitMs);
  return new HubError('unauthenticated', { detail: REFUSED, headers: { 'www-authenticate': 'Basic realm="aid-gateway"' } });
}

/**
 * undefined when the request carries the `inbound` credentials, else why not. `all` (a partner):
 * a configured certificate and a configured secret are each required; `any` (as a dialect's
 * inbound route may choose): one configured kind is enough.
 */
export function checkCredentials(ctx: HubContext, inbound: InboundCredentials, required: CredentialsRequired = 'all'): Refusal | undefined {
  const needsSecret = inbound.apiKeyDigests.length > 0 || inbound.basic.length > 0;
  if (inbound.certificates.length > 0) {
    const certProblem = checkCertificate(ctx, inbound.certificates);
    if (certProblem === undefined && required === 'any') return undefined;
    if (certProblem !== undefined && (required === 'all' || !needsSecret)) return certProblem;
  }
  if (!needsSecret) return undefined;
  return checkSecret(ctx, inbound);
}

function checkSecret(ctx: HubContext, inbound: InboundCredentials): Refusal | undefined {
  const apiKey = header(ctx, 'api-key');
  if (apiKey !== undefined && inbound.apiKeyDigests.length > 0) {
    return matchesAny(apiKey, inbound.apiKeyDigests) ? undefined : refuse('wrong_credential');
  }
  const basic = parseBasicAuthorization(header(ctx, 'authorization'));
  if (basic !== undefined && inbound.basic.length > 0) {
    const candidates = inbound.basic.filter((b) => b.username === basic.username).map((b) => b.passwordDigest);
    // compare against a dummy digest when the user is unknown, so the timing is the same
    const matched = matchesAny(basic.password, candidates.length > 0 ? candidates : [digest('')]);
    return matched && candidates.length > 0 ? undefined : refuse('wrong_credential');
  }
  return refuse('missing_credential');
}

function checkCertificate(ctx: HubContext, bindings: readonly CertificateBinding[]): Refusal | undefined {
  const cert = presentedCertificate(ctx.req);
  if (cert === 'no_tls') return refuse('certificate_missing', 'a client certificate is required: use the TLS listener (or a trusted proxy that forwards it)');
  if (cert === undefined) return refuse('certificate_missing');
  if (!cert.authorized) return refuse('certificate_untrusted', cert.authorizationError);
  return bindings.some((b) => certificateMatches(cert, b)) ? undefined : refuse('certificate_mismatch');
}

function certificateMatches(cert: PresentedCertificate, binding: CertificateBinding): boolean {
  if (binding.fingerprint256 !== undefined && cert.fingerprint256 !== binding.fingerprint256) return false;
  if (binding.subject !== undefined) return Object.entries(binding.subject).every(([attr, value]) => cert.subject[attr] === value);
  return true;
}
