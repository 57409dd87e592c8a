import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { indexBuildOf, readMigrations } from '../../src/db/index-builds.js';

const MIGRATIONS = join(import.meta.dirname, '../../drizzle');
/** The first migration written for `migrate --build-indexes-concurrently` (docs/DECISIONS.md). */
const FIRST_BUILT_AHEAD = 7;

const migrations = await readMigrations(MIGRATIONS, (entry) => entry.idx >= FIRST_BUILT_AHEAD);

const CREATE_TABLE = /^\s*CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?((?:"[^"]+"\.)?"[^"]+")/im;
const DROP_INDEX = /^\s*DROP\s+INDEX\s+(?:CONCURRENTLY\s+)?(?:IF\s+EXISTS\s+)?(?:"[^"]+"\.)?"([^"]+)"/im;

/**
 * drizzle-kit writes `CREATE INDEX`; these rules keep each migration's index builds on existing
 * tables buildable ahead of it without a lock, so a migration that breaks one fails `npm test`
 * with what to change, rather than locking a large table in production.
 */
describe('the migrations since index builds ahead', () => {
  it('covers every migration from 0007 on', () => {
    expect(migrations[0]?.tag).toMatch(/^0007_/);
  });

  it.each(migrations)(
    '$tag builds each index on a table it does not create IF NOT EXISTS',
    ({ statements }) => {
      const created = new Set(statements.map((statement) => CREATE_TABLE.exec(statement)?.[1]));
      const locking = statements
        .map(indexBuildOf)
        .filter((build) => build && !build.ifNotExists && !created.has(build.table))
        .map((build) => `${build?.index}: write CREATE INDEX IF NOT EXISTS, as docs/DECISIONS.md says`);
      expect(locking).toEqual([]);
    },
  );

  it.each(migrations)('$tag gives an index it builds anew a name of its own', ({ statements }) => {
    // An index dropped and built again under its name is present when the builds ahead run, so
    // the migration would drop it and build it with the table locked.
    const dropped = new Set(statements.map((statement) => DROP_INDEX.exec(statement)?.[1]));
    const rebuiltInPlace = statements
      .map(indexBuildOf)
      .filter((build) => build && dropped.has(build.index))
      .map((build) => `${build?.index}: build the new index under a new name, then drop the old one`);
    expect(rebuiltInPlace).toEqual([]);
  });
});
