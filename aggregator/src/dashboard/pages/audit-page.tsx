/**
 * `/audit`: the live parity audit (and recorded ones), with exports.
 *
 * `GET /audit[?environments=A,B][&status=S]` the live audit; `?id=N[&since=M]` a recorded one and
 * what changed since another; `POST /audit/record` (admin, CSRF) records the live audit as
 * `POST /api/v1/audits` does; `GET /audit/export?format=...` answers the same files as the API's
 * `?format=`, reachable with the session cookie.
 */
import type { Context } from 'hono';
import { type AuditExport, auditAttachment, renderAudit } from '../../audit-export/index.js';
import { InvalidRequestError } from '../../errors.js';
import type { ApiEnv } from '../../http/api-auth.js';
import { recordAdminAction } from '../../http/audit-log-routes.js';
import { environmentListQuery, MAX_AUDIT_NOTE_CHARS } from '../../http/audit-routes.js';
import type { AuditReport } from '../../queries/audit-report.js';
import type { PageRouter } from '../dashboard-env.js';
import { href, isoTime } from '../format.js';
import { CsrfField, Notice, type Viewer } from '../layout.js';
import { requirePageScope, verifiedForm } from '../page-auth.js';
import { renderPage } from '../render-page.js';
import { AuditExportLinks } from './audit-export-links.js';
import { type AuditPageParams, parseAuditExportParams, parseAuditPageParams } from './audit-params.js';
import {
  AuditCards,
  CausesTable,
  OutliersSection,
  PairSections,
  PairsTable,
  RecordedAuditsTable,
  SinceSection,
} from './audit-sections.js';
import type { PageDeps } from './index.js';

/** Recorded audits listed on the page. */
export const AUDITS_LISTED = 20;

export function registerAuditPage(router: PageRouter, { audits, store, now }: PageDeps): void {
  /** The live or recorded audit the parameters name. */
  async function load(params: {
    environments?: string[];
    pairsWith?: string;
    id?: number;
    since?: number;
  }): Promise<AuditExport> {
    if (params.id === undefined) {
      if (params.since !== undefined) {
        throw new InvalidRequestError('query parameter `since` needs `id`: the recorded audit to compare', 'since');
      }
      return {
        report: await audits.live({
          ...(params.environments !== undefined ? { environments: params.environments } : {}),
          ...(params.pairsWith !== undefined ? { pairsWith: params.pairsWith } : {}),
        }),
      };
    }
    return audits.recorded(params.id, params.since === undefined ? {} : { since: params.since });
  }

  router.get('/audit', async (c) => {
    const params = parseAuditPageParams(c.req.query());
    const shown = await load(params);
    const recorded = await audits.list({ limit: AUDITS_LISTED });
    const viewer = c.get('viewer');
    return renderPage(c, {
      title: shown.audit ? `Audit #${shown.audit.id}` : 'Audit',
      section: 'audit',
      body: (
        <section>
          <h1>{shown.audit ? `Audit #${shown.audit.id}` : 'Audit'}</h1>
          <AuditHeading shown={shown} params={params} />
          <AuditExportLinks
            params={{
              ...(params.environments !== undefined ? { environments: params.environments } : {}),
              ...(params.id !== undefined ? { id: params.id } : {}),
              ...(params.since !== undefined ? { since: params.since } : {}),
            }}
          />
          {shown.audit === undefined && viewer.principal.scope === 'admin' && (
            <RecordForm viewer={viewer} report={shown.report} explicit={params.environments !== undefined} />
          )}
          {/* Not a live region: an audit is a point-in-time report, and recomputing it every few seconds would cost a core on a large fleet. */}
          <div id="audit-report">
            <AuditCards report={shown.report} />
            <h2>Pairs</h2>
            <PairsTable report={shown.report} />
            {shown.since && <SinceSection since={shown.since} />}
            <h2>Differences by cause</h2>
            <p class="muted">One row per path and values, naming every pair that has it.</p>
            <CausesTable report={shown.report} />
            <h2>Outlier hosts</h2>
            <OutliersSection report={shown.report} />
            <h2 id="pairs">Differences per pair</h2>
            <PairSections report={shown.report} params={params} now={now()} />
          </div>
          <h2>Recorded audits</h2>
          <RecordedAuditsTable audits={recorded.items} current={shown.audit?.id} />
        </section>
      ),
    });
  });

  router.post('/audit/record', async (c) => {
    requirePageScope(c, 'admin');
    const form = await verifiedForm(c);
    const environmentsText = (form.environments ?? '').trim();
    const note = (form.note ?? '').trim();
    if (note.length > MAX_AUDIT_NOTE_CHARS) {
      throw new InvalidRequestError(`note: at most ${MAX_AUDIT_NOTE_CHARS} characters`, 'note');
    }
    let environments: string[] | undefined;
    if (environmentsText !== '') {
      const parsed = environmentListQuery.safeParse(environmentsText);
      if (!parsed.success) {
        throw new InvalidRequestError(
          'environments: expected environment names (letters, digits, `_` and `-`), comma-separated',
          'environments',
        );
      }
      environments = parsed.data;
    }
    const { audit, report } = await audits.record({
      ...(environments !== undefined ? { environments } : {}),
      ...(note !== '' ? { note } : {}),
      author: c.get('principal').name,
    });
    await recordAdminAction(
      store,
      c as unknown as Context<ApiEnv>,
      'audit.recorded',
      { id: audit.id, environments: report.environments, open: report.summary.open },
      audit.at,
    );
    return c.redirect(href('/audit', { id: audit.id }), 303);
  });

  router.get('/audit/export', async (c) => {
    const { format, ...params } = parseAuditExportParams(c.req.query());
    return auditAttachment(renderAudit(format, await load(params)));
  });
}

const AuditHeading = ({ shown, params }: { shown: AuditExport; params: AuditPageParams }) => {
  const { report, audit } = shown;
  return (
    <>
      {audit ? (
        <p>
          Recorded {isoTime(audit.at)} by {audit.author}
          {report.note !== undefined && <> · “{report.note}”</>} · <a href="/audit">the live audit</a>
        </p>
      ) : (
        <p class="muted">
          Live: every pair of environments as compare judges it now, each difference drift, justified, expiring
          (exception expires within 7 days), expired or scale.
        </p>
      )}
      <p>
        Environments: <strong>{report.environments.join(', ')}</strong>
        {report.promotion.length > 0 && <span class="muted"> (promotion order {report.promotion.join(' → ')})</span>}
      </p>
      {report.withoutHosts.length > 0 && (
        <Notice>Not audited, no host reports facts yet: {report.withoutHosts.join(', ')}.</Notice>
      )}
      {audit === undefined && (
        <form class="filters" method="get" action="/audit" aria-label="environments">
          <label>
            environments (comma-separated; empty: all with hosts)
            <input
              type="text"
              name="environments"
              value={params.environments?.join(',') ?? ''}
              placeholder="staging,production"
              size={32}
            />
          </label>
          <button type="submit">Audit</button>
        </form>
      )}
    </>
  );
};

/** Admins record the audit being shown (same environments). */
const RecordForm = ({ viewer, report, explicit }: { viewer: Viewer; report: AuditReport; explicit: boolean }) => (
  <form class="filters" method="post" action="/audit/record" aria-label="record">
    <CsrfField viewer={viewer} />
    {explicit && <input type="hidden" name="environments" value={report.environments.join(',')} />}
    <label>
      note (optional)
      <input type="text" name="note" maxlength={MAX_AUDIT_NOTE_CHARS} size={40} placeholder="e.g. monthly audit" />
    </label>
    <button class="primary" type="submit">
      Record audit
    </button>
  </form>
);
