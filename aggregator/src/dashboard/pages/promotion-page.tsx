/**
 * `/promotion[?from=A&to=B]`: changes waiting to be promoted and changes out of order, per pair (one
 * pair, or each adjacent pair of the promotion order), exactly as `GET /api/v1/promotion` lists
 * them. The pair picker is a GET form outside the live region; the tables refresh live.
 */
import { z } from 'zod';
import { InvalidRequestError } from '../../errors.js';
import { environmentNameSchema } from '../../http/api-schemas.js';
import { parseQuery } from '../../http/parse-query.js';
import { sortEnvironments } from '../../queries/environment-catalog.js';
import type { PageRouter } from '../dashboard-env.js';
import { Live, Notice } from '../layout.js';
import { renderPage } from '../render-page.js';
import { presentValues } from './compare-params.js';
import type { PageDeps } from './index.js';
import { PairPicker, PromotionPairSection } from './promotion-tables.js';

const pageQuery = z.strictObject({ from: environmentNameSchema.optional(), to: environmentNameSchema.optional() });

/** The pair asked for; InvalidRequestError naming the parameter when one side is missing or bad. */
export function parsePromotionPair(query: Record<string, string>): { from?: string; to?: string } {
  const { from, to } = parseQuery(pageQuery, presentValues(query));
  if ((from === undefined) !== (to === undefined)) {
    const missing = from === undefined ? 'from' : 'to';
    throw new InvalidRequestError(
      `query parameter \`${missing}\` is required with \`${missing === 'from' ? 'to' : 'from'}\`: pick both environments, or neither for every adjacent pair`,
      missing,
    );
  }
  return from !== undefined && to !== undefined ? { from, to } : {};
}

export function registerPromotionPage(router: PageRouter, { queries, promotion }: PageDeps): void {
  router.get('/promotion', async (c) => {
    const environments = sortEnvironments(queries.catalog.environments(), queries.promotion);
    const hasOrder = queries.promotion.length > 1;
    const query = c.req.query();
    let pair: { from?: string; to?: string };
    try {
      pair = parsePromotionPair(query);
    } catch (error) {
      if (!(error instanceof InvalidRequestError)) throw error;
      return renderPage(c, {
        title: 'Promotion',
        section: 'promotion',
        status: 400,
        body: (
          <section>
            <h1>Promotion</h1>
            <Notice kind="error">{error.message}</Notice>
            <PairPicker environments={environments} from={query.from} to={query.to} hasOrder={hasOrder} />
          </section>
        ),
      });
    }
    const report = await promotion.report(
      pair.from !== undefined && pair.to !== undefined ? { from: pair.from, to: pair.to } : undefined,
    );
    const title = pair.from === undefined ? 'Promotion' : `${pair.from} → ${pair.to} · Promotion`;
    return renderPage(c, {
      title,
      section: 'promotion',
      body: (
        <section>
          <h1>Promotion</h1>
          <p class="muted">
            What each environment got that the next one has not yet (promote it), and what reached the next one first
            (an emergency change: apply it upstream). Behavior facts only, from the change history; an item leaves once
            the other side’s baseline holds the value.
          </p>
          <PairPicker environments={environments} from={pair.from} to={pair.to} hasOrder={hasOrder} />
          <Live id="promotion-pairs">
            {report.note !== undefined && <Notice>{report.note}</Notice>}
            {report.historyTruncated && (
              <Notice>The history is longer than one request reads: only the newest changes were looked at.</Notice>
            )}
            {report.pairs.map((item) => (
              <PromotionPairSection pair={item} />
            ))}
          </Live>
        </section>
      ),
    });
  });
}
