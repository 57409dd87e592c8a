import { describe, expect, it } from 'vitest';
import { indexBuildOf } from '../../src/db/index-builds.js';

describe('an index build of a migration, made concurrent', () => {
  it('is the same index built CONCURRENTLY IF NOT EXISTS, from a statement drizzle-kit writes', () => {
    const build = indexBuildOf(
      'CREATE INDEX IF NOT EXISTS "transactions_team_type_date_idx" ON "transactions" USING btree ("team_id","type","transaction_date" DESC NULLS FIRST,"id" DESC NULLS FIRST);',
    );
    expect(build).toEqual({
      index: 'transactions_team_type_date_idx',
      table: '"transactions"',
      ifNotExists: true,
      concurrentStatement:
        'CREATE INDEX CONCURRENTLY IF NOT EXISTS "transactions_team_type_date_idx" ON "transactions" USING btree ("team_id","type","transaction_date" DESC NULLS FIRST,"id" DESC NULLS FIRST)',
    });
  });

  it('keeps UNIQUE, the table schema, and the statement after comments and blank lines', () => {
    const build = indexBuildOf(
      '\n-- why this index\n  create unique index if not exists "a_b_key" on only "public"."a" ("b") where "c" is null;\n',
    );
    expect(build?.index).toBe('a_b_key');
    expect(build?.table).toBe('"public"."a"');
    expect(build?.concurrentStatement).toBe(
      'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "a_b_key" ON "public"."a" ("b") where "c" is null',
    );
  });

  it('notes an index not written IF NOT EXISTS, which the migration must build itself', () => {
    expect(indexBuildOf('CREATE INDEX "x_idx" ON "x" USING btree ("y");')?.ifNotExists).toBe(false);
  });

  it('is none for other statements, and for a build already concurrent', () => {
    expect(indexBuildOf('DROP INDEX "transactions_team_date_idx";')).toBeUndefined();
    expect(indexBuildOf('ALTER TABLE "x" ADD COLUMN "note" text;')).toBeUndefined();
    expect(indexBuildOf('CREATE TABLE "index_notes" ("id" text);')).toBeUndefined();
    expect(indexBuildOf('CREATE INDEX CONCURRENTLY "x_idx" ON "x" ("y");')).toBeUndefined();
  });
});
