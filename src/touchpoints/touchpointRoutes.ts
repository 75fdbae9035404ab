/**
 * The touchpoints through the hub (AID.02 4.1, 4.2, 7.1, 7.2): the partner directory and the
 * redirect broker, served on the partner listeners for every config.
 *   GET /touchpoints                          the partners of the other role the caller is routed
 *                                             with, and what an app shows to let the user pick one
 *                                             (4.1 [2]); authenticated as any partner call
 *   GET /touchpoints/{partner}/login          to the partner's portal: `client_id` (the partner the
 *                                             user comes from), `redirect_uri` (back to that
 *                                             partner's touchpoint, one of its agreed redirects),
 *                                             and to an MSP the `id` (the account id, 5.2)
 *   GET /touchpoints/{partner}/return         back to the partner's touchpoint: its `redirect_uri`
 *                                             (one of its agreed redirects), with `id` (7.2.1) or
 *                                             `code` and `error` (7.2.2) appended
 * A redirect goes out as 302 with the parameters re-encoded; a refused one is a small page, never a
 * redirect. No account id and no redirect URI reaches a log line or a metric label.
 */
import { HubError, type ErrorKind } from '../errors/catalogue';
import type { Config, Partner } from '../config/types';
import type { InboundContext, InboundRoute, InboundServices } from '../dialects/inbound';
import { checkAccountId } from './accountId';
import { refusalPage } from './refusalPage';
import { checkRedirect } from '../config/redirectPolicy';

type Flow = 'login' | 'return';

/** AID.02 5.5: the codes of an unsuccessful CMP content procedure (7.2.2) */
const RETURN_CODES = new Set(['100', '101', '102', '103']);
const MAX_ERROR_TEXT = 200;

export function touchpointRoutes(): InboundRoute[] {
  return [
    { path: '/touchpoints', name: 'touchpointDirectory', handle: directory },
    { path: '/touchpoints/:partner/login', name: 'touchpointLogin', handle: (ctx, services) => broker(ctx, services, 'login') },
    { path: '/touchpoints/:partner/return', name: 'touchpointReturn', handle: (ctx, services) => broker(ctx, services, 'return') },
  ];
}

async function directory(ctx: InboundContext, services: InboundServices): Promise<void> {
  if (ctx.method !== 'GET') throw new HubError('methodNotAllowed', { headers: { allow: 'GET' } });
  const caller = await services.authenticateClient(400);
  const { partners } = services.config;
  const listed = [...partners.values()]
    .filter((p) => p.role !== caller.role && p.touchpoint && paired(services.config, caller, p))
    .map((p) => ({
      id: p.id,
      role: p.role,
      displayName: p.touchpoint?.displayName,
      logoUrl: p.touchpoint?.logoUrl ?? null,
      login: `/touchpoints/${p.id}/login`,
    }));
  ctx.status = 200;
  ctx.body = { partners: listed };
}

/** routed with each other for onboarding: the CMP asks the MSP for codes, the MSP sends it tokens */
function paired(config: Config, a: Partner, b: Partner): boolean {
  const [cmp, msp] = a.role === 'cmp' ? [a, b] : [b, a];
  const { routes } = config;
  return routes.find(cmp.id, msp.id, 'requestActivationCode') !== undefined || routes.find(msp.id, cmp.id, 'sendMspToken') !== undefined;
}

/** a refusal of the broker, shown as a page: its status and AID.02 code from the error catalogue,
 * its reason one of the broker's own sentences (never the request's text) */
class Refused extends Error {
  readonly status: number;
  readonly code: string;

  constructor(
    kind: ErrorKind,
    readonly outcome: string,
    reason: string,
  ) {
    super(reason);
    // the catalogue's 400-or-422 entries are 400 here: a browser link is no AID.02 operation
    const entry = new HubError(kind, { clientErrorStatus: 400 });
    this.status = entry.status;
    this.code = entry.code;
  }
}

async function broker(ctx: InboundContext, services: InboundServices, flow: Flow): Promise<void> {
  const { partners, settings } = services.config;
  const target = partners.get(ctx.state.params.partner ?? '');
  // read inside the try: a client_id given twice is a refusal like any other parameter's
  let from: Partner | undefined;
  const count = (outcome: string) => services.metrics.touchpointRedirects.inc({ from: from?.id ?? 'unknown', to: target?.id ?? 'unknown', flow, outcome });
  try {
    if (ctx.method !== 'GET') throw new Refused('methodNotAllowed', 'method', 'Only GET opens a link.');
    from = partners.get(single(ctx, 'client_id') ?? '');
    if (!target?.touchpoint) throw new Refused('unknownTarget', 'unknown_partner', 'The hub knows no touchpoint of this partner.');
    if (!from?.touchpoint || from.role === target.role)
      throw new Refused('invalidSyntax', 'unknown_client', 'The link does not name the partner you come from (client_id).');
    if (!paired(services.config, from, target))
      throw new Refused('routeForbidden', 'not_routed', 'These two partners do not onboard users with each other through the hub.');
    const location = flow === 'login' ? login(ctx, from, target, settings.environment) : back(ctx, target);
    count('redirected');
    ctx.status = 302;
    ctx.set({ location: location.href, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' });
    ctx.body = '';
  } catch (err) {
    if (!(err instanceof Refused)) throw err;
    count(err.outcome);
    ctx.state.log.info({ flow, from: from?.id, to: target?.id, outcome: err.outcome }, 'touchpoint redirect refused');
    refusalPage(ctx, err.status, err.code, err.message, err.status === 405 ? { allow: 'GET' } : {});
  }
}

/** 7.1: to the partner's portal, with the way back to the partner the user comes from */
function login(ctx: InboundContext, from: Partner, target: Partner, environment: 'production' | 'preproduction'): URL {
  const redirectUri = required(ctx, 'redirect_uri');
  const back = checkRedirect(redirectUri, from.touchpoint?.redirects ?? []);
  if ('refused' in back) throw new Refused('redirectNotAgreed', 'redirect_refused', `${capital(back.refused)}.`);
  const portal = target.touchpoint?.portal.get(environment);
  if (!portal) throw new Refused('unknownTarget', 'no_portal', `The partner has no portal for ${environment}.`);
  const location = new URL(portal.href);
  // an account id goes to an MSP's portal (4.1); an MSP's user arrives at the CMP without one (4.2)
  if (target.role === 'msp') location.searchParams.set('id', accountId(ctx, true) as string);
  location.searchParams.set('redirect_uri', back.url.href);
  return location;
}

/** 7.2 (and the way back of 7.1): to the partner's own touchpoint, with the outcome appended */
function back(ctx: InboundContext, target: Partner): URL {
  const redirectUri = required(ctx, 'redirect_uri');
  const checked = checkRedirect(redirectUri, target.touchpoint?.redirects ?? []);
  if ('refused' in checked) throw new Refused('redirectNotAgreed', 'redirect_refused', `${capital(checked.refused)}.`);
  const location = new URL(checked.url.href);
  const id = accountId(ctx, false);
  const code = single(ctx, 'code');
  if (id !== undefined && code !== undefined) throw new Refused('invalidSyntax', 'bad_outcome', 'The link carries both an account id and an error code.');
  if (id !== undefined) location.searchParams.append('id', id);
  if (code !== undefined) {
    const error = single(ctx, 'error') ?? '';
    if (!RETURN_CODES.has(code)) throw new Refused('invalidSyntax', 'bad_outcome', 'The error code must be one of 100 to 103 (AID.02 5.5).');
    if (error.length > MAX_ERROR_TEXT || !/^[\x20-\x7e]*$/.test(error))
      throw new Refused('invalidSyntax', 'bad_outcome', `The error text must be up to ${MAX_ERROR_TEXT} plain characters.`);
    location.searchParams.append('code', code);
    location.searchParams.append('error', error);
  }
  return location;
}

function accountId(ctx: InboundContext, mandatory: boolean): string | undefined {
  const id = mandatory ? required(ctx, 'id') : single(ctx, 'id');
  if (id === undefined) return undefined;
  const problem = checkAccountId(id, Math.floor(Date.now() / 1000));
  if (problem) throw new Refused('accountIdRefused', 'id_refused', `${capital(problem)}.`);
  return id;
}

/** a query parameter given once; twice is refused (which one would a portal read?) */
function single(ctx: InboundContext, name: string): string | undefined {
  const values = new URLSearchParams(ctx.querystring).getAll(name);
  if (values.length > 1) throw new Refused('invalidSyntax', 'bad_parameter', `The parameter ${name} is given more than once.`);
  return values[0];
}

function required(ctx: InboundContext, name: string): string {
  const value = single(ctx, name);
  if (value === undefined || value === '') throw new Refused('invalidSyntax', 'bad_parameter', `The parameter ${name} is missing.`);
  return value;
}

function capital(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
