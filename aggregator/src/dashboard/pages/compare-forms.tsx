/**
 * The compare page's two GET forms: which sides to compare (environments from a list, or a host
 * id typed in), and which differences to show. Both sit outside the live region, so a refresh
 * never resets what the user is typing.
 */
import { PROTOCOL_CATEGORIES } from '@envparity/shared';
import { HOST_SIDE_PREFIX } from '../../queries/compare-sides.js';
import { href } from '../format.js';
import { type CompareFilters, DEFAULT_DIFFERENCES_LIMIT, STATUS_FILTERS } from './compare-params.js';

const STATUS_LABELS: Record<(typeof STATUS_FILTERS)[number], string> = {
  all: 'all differences',
  drift: 'drift (and secret-policy)',
  justified: 'justified',
  scale: 'scale',
  'secret-policy': 'secret-policy',
};

const hostOf = (side: string | undefined) =>
  side?.startsWith(HOST_SIDE_PREFIX) ? side.slice(HOST_SIDE_PREFIX.length) : undefined;

const SideChooser = ({
  name,
  label,
  environments,
  value,
}: {
  name: 'from' | 'to';
  label: string;
  environments: readonly string[];
  value: string | undefined;
}) => {
  const host = hostOf(value);
  const environment = host === undefined ? value : undefined;
  return (
    <>
      <label>
        {label} environment
        <select name={name}>
          <option value="" selected={environment === undefined}>
            (a host instead)
          </option>
          {environments.map((env) => (
            <option value={env} selected={env === environment}>
              {env}
            </option>
          ))}
          {environment !== undefined && !environments.includes(environment) && (
            <option value={environment} selected>
              {environment}
            </option>
          )}
        </select>
      </label>
      <label>
        or {label} host id
        <input type="text" name={`${name}Host`} value={host ?? ''} placeholder="host id" size={18} />
      </label>
    </>
  );
};

/** Two environments (or hosts) to compare; `from` is the reference, `to` is judged against it. */
export const SideForm = ({
  environments,
  from,
  to,
}: {
  environments: readonly string[];
  from?: string | undefined;
  to?: string | undefined;
}) => {
  const [first, second] = environments;
  return (
    <form class="filters" method="get" action="/compare" aria-label="sides">
      <SideChooser
        name="from"
        label="from"
        environments={environments}
        value={from ?? (to === undefined ? first : undefined)}
      />
      <SideChooser
        name="to"
        label="to"
        environments={environments}
        value={to ?? (from === undefined ? second : undefined)}
      />
      <button class="primary" type="submit">
        Compare
      </button>
    </form>
  );
};

/** Row filters of a comparison; the sides ride along as hidden fields. */
export const FilterForm = ({ filters }: { filters: CompareFilters }) => {
  const category = filters.categories?.join(',');
  return (
    <form class="filters" method="get" action="/compare" aria-label="filters">
      <input type="hidden" name="from" value={filters.from} />
      <input type="hidden" name="to" value={filters.to} />
      {filters.limit !== DEFAULT_DIFFERENCES_LIMIT && (
        <input type="hidden" name="limit" value={String(filters.limit)} />
      )}
      <label>
        status
        <select name="status">
          {STATUS_FILTERS.map((status) => (
            <option value={status} selected={status === filters.status}>
              {STATUS_LABELS[status]}
            </option>
          ))}
        </select>
      </label>
      <label>
        category
        <select name="category">
          <option value="" selected={category === undefined}>
            all categories
          </option>
          {PROTOCOL_CATEGORIES.map((name) => (
            <option value={name} selected={name === category}>
              {name}
            </option>
          ))}
          {category !== undefined && !PROTOCOL_CATEGORIES.includes(category) && (
            <option value={category} selected>
              {category}
            </option>
          )}
        </select>
      </label>
      <label>
        path contains
        <input type="search" name="q" value={filters.q ?? ''} placeholder="e.g. openssl" size={24} />
      </label>
      <button type="submit">Filter</button>
      <a href={href('/compare', { from: filters.from, to: filters.to })}>clear filters</a>
    </form>
  );
};
