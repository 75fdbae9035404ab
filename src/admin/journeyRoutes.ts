/**
 * The journeys on the admin listener, behind its credentials: `GET /admin/journeys/{id}` (JSON; the
 * id an msp_token, an activationCodeRequestID or an ICCID), `GET /admin/journeys/{id}/page` (the
 * timeline as a page) and `GET /admin/journeys?stuck=1` (the journeys waiting past their stage's limit).
 */
import type Router from '@koa/router';
import type Koa from 'koa';
import type { JourneySources } from '../journeys/journeys';
import { PAGE_HEADERS } from '../touchpoints/refusalPage';
import { journeyPage } from '../journeys/page';
import { findJourney } from '../journeys/view';

type Guard = (ctx: Koa.Context, next: Koa.Next) => Promise<unknown>;

export function mountJourneyRoutes(
  router: Router,
  guard: Guard,
  sources: JourneySources,
  refusal: (kind: 'invalidSyntax' | 'unknownPath', error: string) => object,
): void {
  router.get('/admin/journeys', guard, async (ctx) => {
    if (ctx.query.stuck !== '1') {
      ctx.status = 400;
      ctx.body = refusal('invalidSyntax', 'list the stuck journeys with ?stuck=1; one journey is /admin/journeys/{msp_token}');
      return;
    }
    const now = Date.now();
    const stuckAfter = sources.stuckAfter();
    const stuck = await sources.journeys.stuck(stuckAfter, now);
    ctx.body = {
      stuckAfterSeconds: stuckAfter,
      journeys: stuck.map((j) => ({
        mspToken: j.token,
        stage: j.stage,
        since: new Date(j.since).toISOString(),
        waitingSeconds: Math.floor((now - j.since) / 1000),
      })),
    };
  });
  router.get('/admin/journeys/:id', guard, async (ctx) => {
    const view = await findJourney(sources.journeys, ctx.params.id, sources.stuckAfter());
    if (!view) {
      ctx.status = 404;
      ctx.body = refusal('unknownPath', 'no journey for that msp_token, activationCodeRequestID or ICCID');
      return;
    }
    ctx.body = view;
  });
  router.get('/admin/journeys/:id/page', guard, async (ctx) => {
    const now = Date.now();
    const view = await findJourney(sources.journeys, ctx.params.id, sources.stuckAfter(), now);
    ctx.set(PAGE_HEADERS);
    ctx.status = view ? 200 : 404;
    ctx.body = view
      ? journeyPage(view, now)
      : '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>No journey</title></head><body><p id="none">No journey for that id.</p></body></html>\n';
  });
}
