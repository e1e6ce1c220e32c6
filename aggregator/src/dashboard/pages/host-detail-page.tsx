/**
 * `/hosts/:id`: one host (retired ones too): who it is, how it differs from its environment's
 * baseline, its facts by category and its change timeline, newest first. An unknown id is a 404.
 */
import type { PageRouter } from '../dashboard-env.js';
import { StatusBadge } from '../format.js';
import { Live } from '../layout.js';
import { renderPage } from '../render-page.js';
import { BaselineDiffView, baselineDiffOf } from './host-baseline-diff.js';
import { HostFacts } from './host-facts.js';
import { HostIdentity } from './host-identity.js';
import { CHANGES_PER_PAGE, HostTimeline, parseChangeCursor } from './host-timeline.js';
import type { PageDeps } from './index.js';

export function registerHostDetailPage(router: PageRouter, { queries, now }: PageDeps): void {
  router.get('/hosts/:id', async (c) => {
    const host = queries.host(c.req.param('id') ?? '');
    const cursor = parseChangeCursor(c.req.query('before'), c.req.query('skip'));
    const { online, presence } = queries.presenceOf(host.id);
    const facts = queries.hostFacts(host.id);
    const diff = await baselineDiffOf(queries, host);
    const changes = await queries.recentChanges(host.id, { before: cursor, limit: CHANGES_PER_PAGE });
    const at = now();
    return renderPage(c, {
      title: `Host ${host.id}`,
      section: 'hosts',
      body: (
        <>
          <h1>
            Host <span class="mono">{host.id}</span>
            {host.retiredAt !== null && (
              <>
                {' '}
                <StatusBadge status="expired" label="retired" />
              </>
            )}
          </h1>
          <Live id="host-identity">
            <HostIdentity host={host} facts={facts} online={online} presence={presence} now={at} />
          </Live>
          <h2>Against its environment's baseline</h2>
          <Live id="host-baseline">
            <BaselineDiffView diff={diff} hostId={host.id} />
          </Live>
          <h2 id="changes">Changes</h2>
          <Live id="host-changes">
            <HostTimeline hostId={host.id} changes={changes.items} next={changes.next} cursor={cursor} now={at} />
          </Live>
          <h2>Facts</h2>
          <Live id="host-facts">
            <HostFacts facts={facts} classify={queries.classify} />
          </Live>
        </>
      ),
    });
  });
}
