/**
 * AID.02 section 6: the credential must belong to the partner named by `client-id`, so a partner
 * can never speak as another. A partner with certificates configured must present one of them over
 * the TLS listener (verified against the hub's client CA); a partner with API keys or basic
 * credentials configured must present one of those. Secrets are compared as digests in constant time.
 */
import { TLSSocket, type PeerCertificate } from 'node:tls';
import { matchesAny, digest, parseBasicAuthorization } from '../config/credentials';
import type { CertificateBinding, InboundCredentials } from '../config/types';
import { HubError } from '../errors';
import { header, need, type HubContext, type PipelineDeps, type Stage } from './types';

export function authenticate(deps: PipelineDeps): Stage {
  return async (ctx, next) => {
    const op = need(ctx.state.operation, 'operation');
    const clientId = ctx.state.ids.clientId;
    if (clientId === undefined) {
      throw new HubError('invalidSyntax', { detail: 'header client-id is required', clientErrorStatus: op.clientErrorStatus });
    }
    const partner = ctx.state.runtime.config.partners.get(clientId);
    // an unknown client-id gets the same answer as a wrong credential: no probing for partner ids
    const refusal = partner ? checkCredentials(ctx, partner.inbound) : refuse('unknown_client', 'the credential does not belong to the client-id');
    if (refusal !== undefined) throw refused(ctx, deps, refusal);
    ctx.state.caller = partner;
    await next();
  };
}

type AuthFailureReason =
  | 'unknown_client'
  | 'missing_credential'
  | 'wrong_credential'
  | 'certificate_missing'
  | 'certificate_untrusted'
  | 'certificate_mismatch'
  | 'smdp_callback';

export interface Refusal {
  readonly reason: AuthFailureReason;
  readonly text: string;
}

export function refuse(reason: AuthFailureReason, text: string): Refusal {
  return { reason, text };
}

/** counts and logs a refused credential; the 401 to throw */
export function refused(ctx: HubContext, deps: PipelineDeps, refusal: Refusal): HubError {
  deps.metrics.authFailures.inc({ reason: refusal.reason });
  ctx.state.log.warn({ reason: refusal.reason }, 'authentication failed');
  return new HubError('unauthenticated', { detail: refusal.text, headers: { 'www-authenticate': 'Basic realm="aid-gateway"' } });
}

/** undefined when the request carries one of the `inbound` credentials, else why not */
export function checkCredentials(ctx: HubContext, inbound: InboundCredentials): Refusal | undefined {
  if (inbound.certificates.length > 0) {
    const certProblem = checkCertificate(ctx, inbound.certificates);
    if (certProblem !== undefined) return certProblem;
  }
  const needsSecret = inbound.apiKeyDigests.length > 0 || inbound.basic.length > 0;
  if (!needsSecret) return undefined;
  const apiKey = header(ctx, 'api-key');
  if (apiKey !== undefined && inbound.apiKeyDigests.length > 0) {
    return matchesAny(apiKey, inbound.apiKeyDigests) ? undefined : refuse('wrong_credential', 'the credential does not belong to the client-id');
  }
  const basic = parseBasicAuthorization(header(ctx, 'authorization'));
  if (basic !== undefined && inbound.basic.length > 0) {
    const candidates = inbound.basic.filter((b) => b.username === basic.username).map((b) => b.passwordDigest);
    // compare against a dummy digest when the user is unknown, so the timing is the same
    const matched = matchesAny(basic.password, candidates.length > 0 ? candidates : [digest('')]);
    return matched && candidates.length > 0 ? undefined : refuse('wrong_credential', 'the credential does not belong to the client-id');
  }
  return refuse('missing_credential', 'no credential was presented (api-key or basic, as agreed for the client-id)');
}

function checkCertificate(ctx: HubContext, bindings: readonly CertificateBinding[]): Refusal | undefined {
  const socket = ctx.req.socket;
  if (!(socket instanceof TLSSocket)) return refuse('certificate_missing', 'a client certificate is required (use the TLS listener)');
  const cert = socket.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) return refuse('certificate_missing', 'a client certificate is required');
  if (!socket.authorized) {
    return refuse('certificate_untrusted', `the client certificate is not trusted (${String(socket.authorizationError)})`);
  }
  return bindings.some((b) => certificateMatches(cert, b))
    ? undefined
    : refuse('certificate_mismatch', 'the client certificate does not belong to the client-id');
}

function certificateMatches(cert: PeerCertificate, binding: CertificateBinding): boolean {
  if (binding.fingerprint256 !== undefined && cert.fingerprint256 !== binding.fingerprint256) return false;
  if (binding.subject !== undefined) {
    const subject = cert.subject as unknown as Record<string, string | string[]>;
    return Object.entries(binding.subject).every(([attr, value]) => subject[attr] === value);
  }
  return true;
}
