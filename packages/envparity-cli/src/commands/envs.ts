/** `envparity envs`: every environment with its hosts, fingerprint, outliers and open drift. */
import type { CommandSpec } from '../command.js';
import { EXIT_OK } from '../exit-codes.js';
import { shortFingerprint } from '../format.js';

export const envsCommand: CommandSpec = {
  name: 'envs',
  summary: 'environments: hosts online, fingerprint, outlier hosts, open drift, promotion neighbours',
  usage: ['envs [--json]'],
  options: {},
  positionals: { min: 0, max: 0 },
  async run(context) {
    const environments = await (await context.client()).listEnvironments();
    const { out } = context;
    if (out.json) {
      out.printJson(environments);
      return EXIT_OK;
    }
    if (environments.length === 0) {
      out.note('no environments yet');
      return EXIT_OK;
    }
    const { style } = out;
    out.table(
      ['NAME', 'HOSTS', 'ONLINE', 'FINGERPRINT', 'OUTLIER HOSTS', 'OPEN DRIFT', 'UPSTREAM', 'DOWNSTREAM', 'STATE'],
      environments.map((environment) => [
        environment.name,
        String(environment.hosts),
        String(environment.online),
        shortFingerprint(environment.fingerprint),
        String(environment.outlierHosts),
        environment.openDrift > 0 ? style.paint(String(environment.openDrift), 'red') : '0',
        environment.upstream ?? '-',
        environment.downstream ?? '-',
        environment.hosts === 0 ? style.paint('no hosts', 'dim') : style.status(environment.stale ? 'stale' : 'ok'),
      ]),
      ['left', 'right', 'right', 'left', 'right', 'right', 'left', 'left', 'left'],
    );
    return EXIT_OK;
  },
};
