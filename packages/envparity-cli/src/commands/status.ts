/**
 * `envparity status`: one screen for the on-call: is the aggregator up, each environment's hosts
 * online, open drift and parity to its upstream, and the promotion backlog per pair.
 */
import type { EnvironmentSummary, Promotion } from '@envparity/client';
import type { CommandContext, CommandSpec } from '../command.js';
import { EXIT_OK } from '../exit-codes.js';
import { formatPercent } from '../format.js';

export interface EnvironmentStatus extends EnvironmentSummary {
  /** Parity of this environment's baseline against its upstream's (compare upstream -> it); null when not computed. */
  parityToUpstream: number | null;
}

async function parityToUpstream(context: CommandContext, environment: EnvironmentSummary): Promise<number | null> {
  if (!environment.upstream || environment.hosts === 0) return null;
  const client = await context.client();
  try {
    return (await client.compare(environment.upstream, environment.name)).parity;
  } catch {
    // An upstream without hosts yet (declared ahead of them) has no baseline to compare.
    return null;
  }
}

export const statusCommand: CommandSpec = {
  name: 'status',
  summary: 'aggregator health, environments (hosts online, open drift, parity to upstream), promotion backlog',
  usage: ['status [--json]'],
  options: {},
  positionals: { min: 0, max: 0 },
  async run(context) {
    const client = await context.client();
    const [health, environments, promotion] = await Promise.all([
      client.health(),
      client.listEnvironments(),
      client.getPromotion(),
    ]);
    const withParity: EnvironmentStatus[] = await Promise.all(
      environments.map(async (environment) => ({
        ...environment,
        parityToUpstream: await parityToUpstream(context, environment),
      })),
    );
    const { out } = context;
    if (out.json) {
      out.printJson({
        url: client.url,
        health,
        environments: withParity,
        promotion: {
          pairs: promotion.pairs.map(({ from, to, counts }) => ({ from, to, counts })),
          note: promotion.note,
        },
      });
      return EXIT_OK;
    }
    const { style } = out;
    out.print(`aggregator  ${client.url}  ${style.status(health.status)}`);
    out.print();
    if (withParity.length === 0) out.note('no environments yet: no host has reported and the config declares none');
    else {
      out.table(
        ['ENVIRONMENT', 'ONLINE', 'OPEN DRIFT', 'OUTLIER HOSTS', 'UPSTREAM', 'PARITY TO UPSTREAM'],
        withParity.map((environment) => [
          environment.name,
          environmentOnline(environment, style),
          environment.openDrift > 0 ? style.paint(String(environment.openDrift), 'red') : '0',
          environment.outlierHosts > 0 ? style.paint(String(environment.outlierHosts), 'yellow') : '0',
          environment.upstream ?? '-',
          parityCell(environment.parityToUpstream, style),
        ]),
        ['left', 'right', 'right', 'right', 'left', 'right'],
      );
    }
    out.print();
    printBacklog(context, promotion);
    return EXIT_OK;
  },
};

function environmentOnline(environment: EnvironmentSummary, style: CommandContext['out']['style']): string {
  const text = `${environment.online}/${environment.hosts}`;
  if (environment.hosts === 0) return style.paint(text, 'dim');
  return environment.online < environment.hosts ? style.paint(text, 'yellow') : style.paint(text, 'green');
}

export function parityCell(parity: number | null, style: CommandContext['out']['style']): string {
  if (parity === null) return '-';
  const text = formatPercent(parity);
  return parity >= 1 ? style.paint(text, 'green') : style.paint(text, parity >= 0.9 ? 'yellow' : 'red');
}

function printBacklog(context: CommandContext, promotion: Promotion): void {
  const { out } = context;
  if (promotion.pairs.length === 0) {
    out.note(`promotion: ${promotion.note ?? 'no promotion order configured'}`);
    return;
  }
  out.table(
    ['PROMOTION', 'WAITING', 'OUT OF ORDER', 'JUSTIFIED'],
    promotion.pairs.map((pair) => [
      `${pair.from} → ${pair.to}`,
      pair.counts.waiting > 0 ? out.style.paint(String(pair.counts.waiting), 'yellow') : '0',
      pair.counts.outOfOrder > 0 ? out.style.paint(String(pair.counts.outOfOrder), 'red') : '0',
      String(pair.counts.justified),
    ]),
    ['left', 'right', 'right', 'right'],
  );
}
