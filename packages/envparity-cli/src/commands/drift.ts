/** `envparity drift [--open]`: drift events, newest first. */
import type { DriftEvent } from '@envparity/client';
import { booleanFlag, type CommandSpec, integerFlag, stringFlag } from '../command.js';
import { EXIT_OK } from '../exit-codes.js';
import { formatTime, formatValue } from '../format.js';

function where(event: DriftEvent): string {
  if (event.kind === 'environment' && event.otherEnvironment) return `${event.environment} → ${event.otherEnvironment}`;
  return event.environment;
}

function hostsOf(event: DriftEvent): string {
  const hosts = event.hosts ?? (event.hostId ? [event.hostId] : []);
  if (hosts.length === 0) return '-';
  const total = event.hostCount ?? hosts.length;
  const shown = hosts.slice(0, 3).join(',');
  return total > 3 ? `${shown} +${total - 3}` : shown;
}

export const driftCommand: CommandSpec = {
  name: 'drift',
  summary: 'drift events (outliers, environment pairs, lost hosts), newest first',
  usage: ['drift [--open] [--env E] [--limit N] [--json]'],
  options: {
    open: { type: 'boolean', description: 'only open events' },
    env: { type: 'string', value: 'E', description: 'only events naming this environment' },
    limit: { type: 'string', value: 'N', description: 'at most N events (default 100)' },
  },
  positionals: { min: 0, max: 0 },
  async run(context) {
    const environment = stringFlag(context, 'env');
    const answer = await (await context.client()).listDrift({
      ...(booleanFlag(context, 'open') ? { status: 'open' as const } : {}),
      ...(environment ? { environment } : {}),
      limit: integerFlag(context, 'limit', { max: 10_000 }) ?? 100,
    });
    const { out } = context;
    if (out.json) {
      out.printJson(answer);
      return EXIT_OK;
    }
    if (answer.events.length === 0) {
      out.note(booleanFlag(context, 'open') ? 'no open drift' : 'no drift events');
      return EXIT_OK;
    }
    const { style } = out;
    out.table(
      ['ID', 'STATUS', 'KIND', 'ENVIRONMENT', 'PATH', 'EXPECTED', 'ACTUAL', 'HOSTS', 'OPENED', 'RESOLVED'],
      answer.events.map((event) => [
        event.id,
        style.status(event.status),
        event.emergency ? `${event.kind} ${style.paint('emergency', 'red')}` : event.kind,
        where(event),
        event.path,
        formatValue(event.expected),
        formatValue(event.actual),
        hostsOf(event),
        formatTime(event.openedAt),
        event.resolvedAt ? `${formatTime(event.resolvedAt)}${event.resolution ? ` (${event.resolution})` : ''}` : '-',
      ]),
    );
    if (answer.truncated) out.note('more events exist: raise --limit');
    return EXIT_OK;
  },
};
