/** The justify form: the row it is about, then the exception's fields, prefilled or as typed. */
import type { ComparedDifference } from '@envparity/shared';
import { FactValueView, StatusBadge } from '../format.js';
import { CsrfField, Notice, type Viewer, Wide } from '../layout.js';
import { type CompareFilters, compareHref, filterParams } from './compare-params.js';

/** What the user typed (all text, as posted); `environments` comma-separated. */
export interface JustifyInput {
  path: string;
  reason: string;
  impact: string;
  owner: string;
  expiresAt: string;
  environments?: string;
}

export interface JustifyAbout {
  from: string;
  to: string;
  environments: string[];
  difference: ComparedDifference | undefined;
}

export interface JustifyFormProps {
  viewer: Viewer;
  filters: CompareFilters;
  input: JustifyInput;
  about: JustifyAbout;
  error: string | undefined;
}

export const JustifyForm = ({ viewer, filters, input, about, error }: JustifyFormProps) => {
  const back = compareHref(filters);
  const environments = (input.environments ?? '').split(',').filter((name) => name !== '');
  return (
    <section>
      <h1>Justify a difference</h1>
      <p>
        Comparison <a href={back}>{`${about.from} → ${about.to}`}</a>. An exception documents the difference as
        intended: it counts for parity and opens no drift event until it expires.
      </p>
      <DifferenceContext difference={about.difference} path={input.path} />
      {error !== undefined && <Notice kind="error">{error}</Notice>}
      <form class="stack" method="post" action="/compare/justify">
        <CsrfField viewer={viewer} />
        {Object.entries(filterParams(filters)).map(([name, value]) =>
          value === undefined ? null : <input type="hidden" name={name} value={String(value)} />,
        )}
        <input type="hidden" name="environments" value={environments.join(',')} />
        <label>
          Path glob (the path, or a glob such as library.dpkg.* to cover more)
          <input type="text" name="path" value={input.path} required size={60} class="mono" />
        </label>
        <label>
          Reason (required): why this difference is intended
          <textarea name="reason" rows={3} required>
            {input.reason}
          </textarea>
        </label>
        <label>
          Impact: what it changes for users (optional)
          <input type="text" name="impact" value={input.impact} size={60} />
        </label>
        <label>
          Owner: the team or person who answers for it (optional)
          <input type="text" name="owner" value={input.owner} size={40} />
        </label>
        <label>
          Expires (optional): ISO 8601 such as 2026-12-31T00:00:00Z, or 2026-12-31 / 2026-12-31T18:00 read as UTC
          <input type="text" name="expiresAt" value={input.expiresAt} size={28} placeholder="never" />
        </label>
        <p>
          Environments:{' '}
          {environments.length === 0 ? <span class="muted">none</span> : <strong>{environments.join(', ')}</strong>}{' '}
          <small class="muted">
            {environments.length === 1 ? '(differences inside this environment)' : '(differences between this pair)'}
          </small>
        </p>
        <div>
          <button class="primary" type="submit">
            Create exception
          </button>{' '}
          <a href={back}>Cancel</a>
        </div>
      </form>
    </section>
  );
};

const DifferenceContext = ({ difference, path }: { difference: ComparedDifference | undefined; path: string }) => {
  if (!difference) {
    return (
      <Notice>
        <span class="mono">{path}</span> differs nowhere in this comparison right now; an exception for it still covers
        it (or the paths its glob matches) should it differ later.
      </Notice>
    );
  }
  return (
    <Wide>
      <table>
        <thead>
          <tr>
            <th>path</th>
            <th>from</th>
            <th>to</th>
            <th>status</th>
          </tr>
        </thead>
        <tbody>
          <tr>
            <td class="path">{difference.path}</td>
            <td class="value">
              <FactValueView value={difference.from} />
            </td>
            <td class="value">
              <FactValueView value={difference.to} />
            </td>
            <td>
              <StatusBadge status={difference.status} />
            </td>
          </tr>
        </tbody>
      </table>
    </Wide>
  );
};
