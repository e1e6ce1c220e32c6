/**
 * A host's change timeline, newest first, fifty a page. The cursor (`before` = the time of the
 * last change shown, `skip` = how many at that very time were shown) keeps a page where it is
 * while newer changes arrive, which page numbers would not.
 */
import { InvalidRequestError } from '../../errors.js';
import { type ChangeCursor, MAX_CHANGE_CURSOR_SKIP } from '../../queries/fleet-queries.js';
import type { FactChange } from '../../store/fact-store.js';
import { FactValueView, href, StatusBadge, TimeAgo } from '../format.js';
import { Wide } from '../layout.js';

export const CHANGES_PER_PAGE = 50;

/** `before` (ISO time) and `skip` of the host page; InvalidRequestError naming a malformed one. */
export function parseChangeCursor(before: string | undefined, skip: string | undefined): ChangeCursor | undefined {
  if (before === undefined || before === '') {
    if (skip !== undefined && skip !== '') throw new InvalidRequestError('skip: needs before (a time)', 'skip');
    return undefined;
  }
  const at = Date.parse(before);
  if (!/^\d{4}-\d{2}-\d{2}(T|$)/.test(before) || Number.isNaN(at)) {
    throw new InvalidRequestError('before: expected an ISO 8601 time, e.g. 2025-01-01T12:00:00.000Z', 'before');
  }
  const skipText = skip === undefined || skip === '' ? '0' : skip;
  const count = Number(skipText);
  if (!/^\d+$/.test(skipText) || count > MAX_CHANGE_CURSOR_SKIP) {
    throw new InvalidRequestError(`skip: expected a whole number from 0 to ${MAX_CHANGE_CURSOR_SKIP}`, 'skip');
  }
  return { at, skip: count };
}

export function cursorParams(cursor: ChangeCursor): { before: string; skip: number | undefined } {
  return { before: new Date(cursor.at).toISOString(), skip: cursor.skip === 0 ? undefined : cursor.skip };
}

export interface TimelineProps {
  hostId: string;
  changes: readonly FactChange[];
  next: ChangeCursor | null;
  /** The page's own cursor: undefined on the newest page. */
  cursor: ChangeCursor | undefined;
  now: number;
}

export const HostTimeline = ({ hostId, changes, next, cursor, now }: TimelineProps) => {
  const hostPath = `/hosts/${encodeURIComponent(hostId)}`;
  const pager = (cursor !== undefined || next !== null) && (
    <nav class="pager" aria-label="change pages">
      {cursor !== undefined ? <a href={`${hostPath}#changes`}>← newest</a> : <span class="muted">← newest</span>}
      {next !== null ? (
        <a href={`${href(hostPath, cursorParams(next))}#changes`} rel="next">
          older →
        </a>
      ) : (
        <span class="muted">older →</span>
      )}
    </nav>
  );
  if (changes.length === 0) {
    return (
      <>
        <p class="muted">{cursor === undefined ? 'No change recorded since its first report.' : 'No older change.'}</p>
        {pager}
      </>
    );
  }
  return (
    <>
      <Wide>
        <table>
          <thead>
            <tr>
              <th>observed</th>
              <th>path</th>
              <th>from → to</th>
            </tr>
          </thead>
          <tbody>
            {changes.map((change) => (
              <tr>
                <td>
                  <TimeAgo at={change.at} now={now} />
                  {change.emergency && (
                    <>
                      {' '}
                      <StatusBadge status="emergency" />
                    </>
                  )}
                </td>
                <td class="path">
                  <a href={href('/facts', { path: change.path })}>{change.path}</a>
                </td>
                <td class="value">
                  <FactValueView value={change.from} /> → <FactValueView value={change.to} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Wide>
      {pager}
    </>
  );
};
