/**
 * Every aggregator on one database must hash secret values with the same fleet key, or the same
 * secret would compare as different depending on which aggregator its host reported to. The first
 * aggregator records the key's sha256 in `store_meta`; one started with another key is refused.
 */
import { createHash } from 'node:crypto';
import { StartupError } from '../errors.js';
import type { PgBridge } from '../store/postgres/pg-bridge.js';

const FLEET_KEY_META = 'fleet_key_sha256';

export function checkSharedFleetKey(db: PgBridge, fleetKey: string): void {
  const digest = createHash('sha256').update(fleetKey).digest('hex');
  db.run('INSERT INTO store_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [FLEET_KEY_META, digest]);
  const recorded = db.get<{ value: string }>('SELECT value FROM store_meta WHERE key = $1', [FLEET_KEY_META])?.value;
  if (recorded !== digest) {
    throw new StartupError(
      `the fleet key differs from the one the other aggregators on ${db.description} use: give every aggregator the same ENVPARITY_FLEET_KEY (or fleet.key file)`,
    );
  }
}
