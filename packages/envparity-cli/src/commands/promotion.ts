/**
 * `envparity promotion [A B]`: per promotion pair, the changes waiting to be promoted and the ones
 * made out of order (downstream first), with their age.
 */
import type { PromotionItem } from '@envparity/client';
import type { CommandSpec } from '../command.js';
import { EXIT_OK } from '../exit-codes.js';
import { formatAge, formatValue } from '../format.js';
import { UsageError } from '../usage-error.js';

const share = (hosts: number, total: number) => `${hosts} of ${total}`;

export const promotionCommand: CommandSpec = {
  name: 'promotion',
  summary: 'changes waiting for promotion and changes made out of order, per pair',
  usage: ['promotion [A B] [--json]'],
  details: 'Without A B: every adjacent pair of the aggregator config `promotion` (dev → staging → production).',
  options: {},
  positionals: { min: 0, max: 2 },
  async run(context) {
    if (context.positionals.length === 1) {
      throw new UsageError('promotion takes two environments (A B) or none', 'promotion');
    }
    const [from, to] = context.positionals;
    const answer = await (await context.client()).getPromotion(from && to ? { from, to } : {});
    const { out } = context;
    if (out.json) {
      out.printJson(answer);
      return EXIT_OK;
    }
    const { style } = out;
    if (answer.pairs.length === 0) out.note(answer.note ?? 'no promotion pairs');
    answer.pairs.forEach((pair, index) => {
      if (index > 0) out.print();
      out.print(
        `${style.paint(`${pair.from} → ${pair.to}`, 'bold')}  ${pair.counts.waiting} ${style.status('waiting')}, ` +
          `${pair.counts.outOfOrder} ${style.status('out of order')}, ${pair.counts.justified} ${style.status('justified')}`,
      );
      if (pair.note) out.note(pair.note);
      const rows = (items: PromotionItem[], value: 'toValue' | 'fromValue') =>
        items.map((item) => [
          item.path,
          formatValue(item.value),
          formatValue(item[value]),
          formatAge(item.ageSeconds),
          share(item.fromHosts, item.fromTotal),
          share(item.toHosts, item.toTotal),
        ]);
      if (pair.waiting.length > 0) {
        out.print();
        out.print(`waiting (promote to ${pair.to}):`);
        out.table(
          [
            'PATH',
            'VALUE',
            `${pair.to.toUpperCase()} HAS`,
            'AGE',
            `${pair.from.toUpperCase()} HOSTS`,
            `${pair.to.toUpperCase()} HOSTS`,
          ],
          rows(pair.waiting, 'toValue'),
        );
      }
      if (pair.outOfOrder.length > 0) {
        out.print();
        out.print(`out of order (changed in ${pair.to} first: apply to ${pair.from}):`);
        out.table(
          [
            'PATH',
            'VALUE',
            `${pair.from.toUpperCase()} HAS`,
            'AGE',
            `${pair.from.toUpperCase()} HOSTS`,
            `${pair.to.toUpperCase()} HOSTS`,
          ],
          rows(pair.outOfOrder, 'fromValue'),
        );
      }
      if (pair.justified.length > 0) {
        out.print();
        out.print('justified (not waiting):');
        out.table(
          ['PATH', 'VALUE', 'EXCEPTION'],
          pair.justified.map((item) => [
            item.path,
            formatValue(item.value),
            `${item.exception.id}: ${item.exception.reason}`,
          ]),
        );
      }
    });
    if (answer.historyTruncated) out.note('history truncated: the oldest changes were not read');
    return EXIT_OK;
  },
};
