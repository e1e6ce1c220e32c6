/**
 * The host list's filters: read from the URL (every one a query parameter, so a filtered list is a
 * link) and shown as a `method="get"` form that writes them back.
 */
import { isValidPath } from '@envparity/shared';
import { InvalidRequestError } from '../../errors.js';
import type { HostFilter } from '../../queries/fleet-queries.js';

export const HOSTS_PER_PAGE = 100;
const ONLINE_CHOICES = ['any', 'yes', 'no'] as const;
type OnlineChoice = (typeof ONLINE_CHOICES)[number];

/** The filters as typed (for the form and the paging links), and what the queries take. */
export interface HostListParams {
  env?: string;
  label?: string;
  online: OnlineChoice;
  fact?: string;
  value?: string;
  page: number;
}

/** Query parameters of `/hosts`; InvalidRequestError naming the parameter when one is malformed. */
export function parseHostListParams(query: Record<string, string | undefined>): HostListParams {
  const given = (name: string) => {
    const raw = query[name]?.trim();
    return raw === undefined || raw === '' ? undefined : raw;
  };
  const online = given('online') ?? 'any';
  if (!(ONLINE_CHOICES as readonly string[]).includes(online)) {
    throw new InvalidRequestError('online: expected yes, no or any', 'online');
  }
  const label = given('label');
  if (label !== undefined && parseLabel(label) === undefined) {
    throw new InvalidRequestError('label: expected key=value, e.g. service=api', 'label');
  }
  const fact = given('fact');
  if (fact !== undefined && !isValidPath(fact)) throw new InvalidRequestError('fact: not a valid fact path', 'fact');
  const value = given('value');
  if (value !== undefined && fact === undefined) {
    throw new InvalidRequestError('value: needs fact (the path to compare)', 'value');
  }
  const pageText = given('page') ?? '1';
  const page = Number(pageText);
  if (!/^\d+$/.test(pageText) || !Number.isSafeInteger(page) || page < 1) {
    throw new InvalidRequestError('page: expected a whole number from 1', 'page');
  }
  return { env: given('env'), label, online: online as OnlineChoice, fact, value, page };
}

/** The parameters as a HostFilter (the environment already checked by the caller). */
export function hostFilterOf(params: HostListParams, environment: string | undefined): HostFilter {
  const label = params.label === undefined ? undefined : parseLabel(params.label);
  return {
    ...(environment !== undefined ? { environment } : {}),
    ...(label !== undefined ? { labels: { [label.key]: label.value } } : {}),
    ...(params.online !== 'any' ? { online: params.online === 'yes' } : {}),
    ...(params.fact !== undefined ? { fact: params.fact } : {}),
    ...(params.value !== undefined ? { value: params.value } : {}),
  };
}

/** Every filter but the page, for links to other pages of the same list. */
export function filterLinkParams(params: HostListParams): Record<string, string | undefined> {
  return {
    env: params.env,
    label: params.label,
    online: params.online === 'any' ? undefined : params.online,
    fact: params.fact,
    value: params.value,
  };
}

function parseLabel(text: string): { key: string; value: string } | undefined {
  const equals = text.indexOf('=');
  const key = equals === -1 ? '' : text.slice(0, equals).trim();
  return key === '' ? undefined : { key, value: text.slice(equals + 1).trim() };
}

export const HostFilterForm = ({
  params,
  environments,
}: {
  params: HostListParams;
  environments: readonly string[];
}) => (
  <form class="filters" method="get" action="/hosts">
    <label>
      environment
      <select name="env">
        <option value="">any</option>
        {environments.map((name) => (
          <option value={name} selected={name === params.env}>
            {name}
          </option>
        ))}
      </select>
    </label>
    <label>
      label
      <input name="label" value={params.label ?? ''} placeholder="service=api" size={16} />
    </label>
    <label>
      online
      <select name="online">
        {ONLINE_CHOICES.map((choice) => (
          <option value={choice} selected={choice === params.online}>
            {choice}
          </option>
        ))}
      </select>
    </label>
    <label>
      fact path
      <input name="fact" value={params.fact ?? ''} placeholder="library.openssl" size={24} />
    </label>
    <label>
      value
      <input name="value" value={params.value ?? ''} placeholder="(any value)" size={14} />
    </label>
    <button type="submit" class="primary">
      Filter
    </button>
    <a href="/hosts">clear</a>
  </form>
);
