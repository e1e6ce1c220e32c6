/**
 * Exceptions as a table: what each one justifies (path glob, environments), why (reason, impact,
 * owner), who made it and when, when it expires, where it comes from, and its status. Admin viewers
 * get a Delete button on exceptions the API created; those of the exceptions file are changed there.
 */
import type { ExceptionRecord } from '../../store/fact-store.js';
import { isoTime, StatusBadge, TimeAgo } from '../format.js';
import { CsrfField, type Viewer, Wide } from '../layout.js';

const WEEK_MS = 7 * 24 * 60 * 60 * 1000;

export type ExceptionStatus = 'active' | 'expiring' | 'expired';

/** As the overview counts them: expired once the expiry has passed, expiring within 7 days of it. */
export function exceptionStatus(record: Pick<ExceptionRecord, 'expiresAt'>, at: number): ExceptionStatus {
  if (record.expiresAt === null) return 'active';
  if (record.expiresAt <= at) return 'expired';
  return record.expiresAt <= at + WEEK_MS ? 'expiring' : 'active';
}

export interface ExceptionsTableProps {
  exceptions: readonly ExceptionRecord[];
  now: number;
  viewer: Viewer;
  /** Admin viewers get the actions column (Delete, or where a file exception is changed). */
  admin: boolean;
  /** The page's `show`, kept by the Delete form's redirect. */
  show: string;
}

export const ExceptionsTable = ({ exceptions, now, viewer, admin, show }: ExceptionsTableProps) => (
  <Wide>
    <table>
      <thead>
        <tr>
          <th>path</th>
          <th>environments</th>
          <th>reason</th>
          <th>impact</th>
          <th>owner</th>
          <th>created by</th>
          <th>created</th>
          <th>expires</th>
          <th>source</th>
          <th>status</th>
          {admin && <th>actions</th>}
        </tr>
      </thead>
      <tbody>
        {exceptions.map((record) => (
          <tr id={`exception-${record.id}`}>
            <td class="path">{record.path}</td>
            <td>
              {record.environments.map((name, index) => (
                <>
                  {index > 0 && ', '}
                  <a href={`/environments/${encodeURIComponent(name)}`}>{name}</a>
                </>
              ))}
            </td>
            <td>{record.reason}</td>
            <td>{record.impact ?? <span class="muted">—</span>}</td>
            <td>{record.owner ?? <span class="muted">—</span>}</td>
            <td>{record.createdBy ?? <span class="muted">—</span>}</td>
            <td>
              <TimeAgo at={record.createdAt} now={now} />
            </td>
            <td>
              <ExpiresCell expiresAt={record.expiresAt} now={now} />
            </td>
            <td class="mono">{record.source ?? 'api'}</td>
            <td>
              <StatusBadge status={exceptionStatus(record, now)} />
            </td>
            {admin && (
              <td>
                <ExceptionActions record={record} viewer={viewer} show={show} />
              </td>
            )}
          </tr>
        ))}
      </tbody>
    </table>
  </Wide>
);

const ExpiresCell = ({ expiresAt, now }: { expiresAt: number | null; now: number }) => {
  if (expiresAt === null) return <span class="muted">never</span>;
  return (
    <>
      <TimeAgo at={expiresAt} now={now} />
      <br />
      <small class="mono muted">{isoTime(expiresAt)}</small>
    </>
  );
};

const ExceptionActions = ({ record, viewer, show }: { record: ExceptionRecord; viewer: Viewer; show: string }) => {
  if (record.source !== undefined) return <span class="muted">change in the file</span>;
  return (
    <form class="inline" method="post" action={`/exceptions/${encodeURIComponent(record.id)}/delete`}>
      <CsrfField viewer={viewer} />
      <input type="hidden" name="show" value={show} />
      <button type="submit" title="Delete it: the differences it justified are drift again">
        Delete
      </button>
    </form>
  );
};
