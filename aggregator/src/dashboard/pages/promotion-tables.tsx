/**
 * The promotion page's parts: one pair's waiting, justified and out-of-order tables, and the pair
 * picker (a GET form, so it works without script and every view is a URL).
 */
import type { PromotionPair } from '../../queries/promotion-queries.js';
import type { OutOfOrderChange, WaitingChange } from '../../queries/promotion-tracking.js';
import { FactValueView, href, isoTime, StatusBadge } from '../format.js';
import { Notice, Wide } from '../layout.js';
import { factHref } from './facts-value-link.js';

/** Rows per table; the API (`GET /api/v1/promotion`) has them all. */
export const PROMOTION_TABLE_ROWS = 200;

/** "45 min", "3 h", "12 days": how long a change has waited (rounded, as "3 d ago" elsewhere is). */
export function ageText(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 86_400) return `${Math.round(seconds / 3600)} h`;
  const days = Math.round(seconds / 86_400);
  return `${days} ${days === 1 ? 'day' : 'days'}`;
}

/** "2 of 9 production hosts". */
function progress(held: number, total: number, environment: string): string {
  return `${held} of ${total} ${environment} ${total === 1 ? 'host' : 'hosts'}`;
}

const PathCell = ({ path }: { path: string }) => (
  <td class="path">
    <a href={factHref(path)}>{path}</a>
  </td>
);

/** The exact time (the age has its own column). */
const Since = ({ at }: { at: number }) => (
  <td>
    <time datetime={new Date(at).toISOString()}>{isoTime(at)}</time>
  </td>
);

const MoreRows = ({ shown, total, pair }: { shown: number; total: number; pair: PromotionPair }) =>
  total > shown ? (
    <p class="muted">
      Showing the oldest {shown} of {total}; all of them:{' '}
      <a href={href('/api/v1/promotion', { from: pair.from, to: pair.to })}>the API</a>.
    </p>
  ) : null;

const WaitingTable = ({ pair }: { pair: PromotionPair }) => {
  const rows = pair.waiting.slice(0, PROMOTION_TABLE_ROWS);
  return (
    <>
      <Wide>
        <table aria-label={`waiting ${pair.from} to ${pair.to}`}>
          <thead>
            <tr>
              <th>path</th>
              <th>value</th>
              <th>{pair.to} now</th>
              <th>
                {pair.from} → {pair.to}
              </th>
              <th>since</th>
              <th class="num">age</th>
              <th>action</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((item: WaitingChange) => (
              <tr>
                <PathCell path={item.path} />
                <td class="value">
                  <FactValueView value={item.value} />
                  {item.previous !== undefined && (
                    <small class="muted">
                      {' '}
                      was <FactValueView value={item.previous} />
                    </small>
                  )}
                </td>
                <td class="value">
                  {item.toValue === undefined ? (
                    <span class="muted">(none or tied)</span>
                  ) : (
                    <FactValueView value={item.toValue} />
                  )}
                </td>
                <td>
                  {progress(item.toHosts, item.toTotal, pair.to)}
                  <br />
                  <small class="muted">{progress(item.fromHosts, item.fromTotal, pair.from)}</small>
                </td>
                <td>
                  <time datetime={new Date(item.since).toISOString()}>{isoTime(item.since)}</time>
                  <br />
                  <small class="muted">
                    {item.majoritySince === null ? 'no majority yet' : `majority ${isoTime(item.majoritySince)}`}
                  </small>
                </td>
                <td class="num">{ageText(item.ageSeconds)}</td>
                <td>
                  <StatusBadge status="drift" label={item.action} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Wide>
      <MoreRows shown={rows.length} total={pair.waiting.length} pair={pair} />
    </>
  );
};

const OutOfOrderTable = ({ pair }: { pair: PromotionPair }) => {
  const rows = pair.outOfOrder.slice(0, PROMOTION_TABLE_ROWS);
  return (
    <>
      <Wide>
        <table aria-label={`out of order ${pair.from} to ${pair.to}`}>
          <thead>
            <tr>
              <th>path</th>
              <th>value in {pair.to}</th>
              <th>{pair.from} now</th>
              <th>hosts</th>
              <th>since</th>
              <th class="num">age</th>
              <th>action</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((item: OutOfOrderChange) => (
              <tr>
                <PathCell path={item.path} />
                <td class="value">
                  <FactValueView value={item.value} />
                  {item.previous !== undefined && (
                    <small class="muted">
                      {' '}
                      was <FactValueView value={item.previous} />
                    </small>
                  )}
                </td>
                <td class="value">
                  {item.fromValue === undefined ? (
                    <span class="muted">(none or tied)</span>
                  ) : (
                    <FactValueView value={item.fromValue} />
                  )}
                </td>
                <td>
                  {progress(item.toHosts, item.toTotal, pair.to)}
                  <br />
                  <small class="muted">{progress(item.fromHosts, item.fromTotal, pair.from)}</small>
                </td>
                <Since at={item.since} />
                <td class="num">{ageText(item.ageSeconds)}</td>
                <td>
                  <StatusBadge status="emergency" label={item.action} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Wide>
      <MoreRows shown={rows.length} total={pair.outOfOrder.length} pair={pair} />
    </>
  );
};

const JustifiedTable = ({ pair }: { pair: PromotionPair }) => (
  <Wide>
    <table aria-label={`justified ${pair.from} to ${pair.to}`}>
      <thead>
        <tr>
          <th>path</th>
          <th>value in {pair.from}</th>
          <th>{pair.to} now</th>
          <th>exception</th>
        </tr>
      </thead>
      <tbody>
        {pair.justified.slice(0, PROMOTION_TABLE_ROWS).map((item) => (
          <tr>
            <PathCell path={item.path} />
            <td class="value">
              <FactValueView value={item.value} />
            </td>
            <td class="value">
              <FactValueView value={item.toValue} />
            </td>
            <td>
              <StatusBadge status="justified" /> {item.exception.reason}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  </Wide>
);

/** One pair: what waits (oldest first), what is justified, what came out of order. */
export const PromotionPairSection = ({ pair }: { pair: PromotionPair }) => {
  const oldest = pair.waiting[0];
  return (
    <section aria-label={`${pair.from} → ${pair.to}`}>
      <h2>
        {pair.from} → {pair.to}{' '}
        <small>
          (<a href={href('/compare', { from: pair.from, to: pair.to })}>compare</a>)
        </small>
      </h2>
      <p>
        <StatusBadge status={pair.waiting.length > 0 ? 'drift' : 'ok'} label={`${pair.waiting.length} waiting`} />{' '}
        <StatusBadge
          status={pair.outOfOrder.length > 0 ? 'emergency' : 'ok'}
          label={`${pair.outOfOrder.length} out of order`}
        />
        {oldest && <span class="muted"> · oldest waiting {ageText(oldest.ageSeconds)}</span>}
      </p>
      {pair.note !== undefined && <Notice>{pair.note}</Notice>}
      <h3>Waiting to be promoted to {pair.to}</h3>
      {pair.waiting.length === 0 ? (
        <p class="muted">
          Nothing waits: every change {pair.from} got is in {pair.to}’s baseline too.
        </p>
      ) : (
        <WaitingTable pair={pair} />
      )}
      {pair.justified.length > 0 && (
        <>
          <h3>Kept from {pair.to} on purpose</h3>
          <JustifiedTable pair={pair} />
        </>
      )}
      <h3>
        Out of order: in {pair.to} before {pair.from}
      </h3>
      {pair.outOfOrder.length === 0 ? (
        <p class="muted">
          No change reached {pair.to} ahead of {pair.from}.
        </p>
      ) : (
        <OutOfOrderTable pair={pair} />
      )}
    </section>
  );
};

/** Which pair to show: two environments, or (empty) every adjacent pair of the promotion order. */
export const PairPicker = ({
  environments,
  from,
  to,
  hasOrder,
}: {
  environments: readonly string[];
  from: string | undefined;
  to: string | undefined;
  hasOrder: boolean;
}) => (
  <form class="filters" method="get" action="/promotion" aria-label="pair">
    {(['from', 'to'] as const).map((side) => {
      const value = side === 'from' ? from : to;
      return (
        <label>
          {side}
          <select name={side}>
            <option value="" selected={value === undefined}>
              {hasOrder ? '(adjacent pairs)' : '(pick one)'}
            </option>
            {environments.map((name) => (
              <option value={name} selected={name === value}>
                {name}
              </option>
            ))}
          </select>
        </label>
      );
    })}
    <button class="primary" type="submit">
      Show
    </button>
    {hasOrder && (from !== undefined || to !== undefined) && <a href="/promotion">every adjacent pair</a>}
  </form>
);
