/** Declared probe classes on PostgreSQL (`declared_classes`); the SQL and rows as in SQLite. */
import {
  type DeclaredClassRecord,
  type DeclaredClassRepository,
  type DeclaredClassRow,
  SELECT_DECLARED_CLASSES,
  toDeclaredClassRecord,
} from '../declared-class-repository.js';
import type { PgBridge } from './pg-bridge.js';

export class PgDeclaredClassRepository implements DeclaredClassRepository {
  constructor(private readonly db: PgBridge) {}

  list(): DeclaredClassRecord[] {
    // Same order as SQLite: `glob` compared by code unit ("C"), not by the database's collation.
    const sql = SELECT_DECLARED_CLASSES.replace('ORDER BY at, glob', 'ORDER BY at, glob COLLATE "C"');
    return this.db.query<DeclaredClassRow>(sql).rows.map(toDeclaredClassRecord);
  }

  add(record: DeclaredClassRecord): boolean {
    return (
      this.db.run(
        'INSERT INTO declared_classes (glob, class, host_id, at) VALUES ($1, $2, $3, $4) ON CONFLICT (glob) DO NOTHING',
        [record.glob, record.class, record.hostId, record.at],
      ) === 1
    );
  }
}
