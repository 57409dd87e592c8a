import { type SQLWrapper, sql } from 'drizzle-orm';
import { SEALED_PREFIX, type SecretBox } from '../secrets.js';
import { type Database, rowsOf } from './client.js';

/** Every column that holds values sealed by `secrets.ts`, with the key of its rows. */
const SEALED_COLUMNS = [
  { table: 'connections', column: 'provider_state', keys: ['team_id', 'id'] },
  { table: 'webhook_endpoints', column: 'secret', keys: ['team_id', 'id'] },
  { table: 'idempotency_keys', column: 'response_body', keys: ['scope', 'key'] },
] as const;

const BATCH = 500;

/**
 * `column` holds a sealed value (`v1.<key id>.…`, src/secrets.ts) under a key none of `keyIds`.
 * The one condition of both the reseal and the count at start.
 */
const sealedUnderOtherKeys = (column: SQLWrapper, keyIds: string[]) =>
  sql`${column} like ${`${SEALED_PREFIX}%`} and not (split_part(${column}, '.', 2) = any(${sql.param(keyIds)}::text[]))`;

export interface ResealOutcome {
  table: string;
  column: string;
  /** Values moved to the current key. */
  resealed: number;
  /** Values under a key that is not configured: left as they are, and they cannot be read. */
  unreadable: number;
}

/**
 * Seals again, under the current key, every value sealed under another (`cli reseal`), so that a
 * rotation can end: once no value needs an old key, it can leave `ENCRYPTION_KEYS_PREVIOUS`. Each
 * value is replaced only if it is still what was read, so a request that rewrote it meanwhile
 * (a sync storing new tokens) wins, and the command can run while the service serves.
 */
export async function resealSecrets(
  db: Database,
  secrets: SecretBox,
  currentKeyId: string,
): Promise<ResealOutcome[]> {
  const outcomes: ResealOutcome[] = [];
  for (const { table, column, keys } of SEALED_COLUMNS) {
    const [first, second] = keys.map((key) => sql.identifier(key));
    const value = sql.identifier(column);
    const outcome = { table, column, resealed: 0, unreadable: 0 };
    let after: [string, string] | null = null;
    for (;;) {
      const rows: { a: string; b: string; value: string }[] = rowsOf(
        await db.execute(sql`
          select ${first} as a, ${second} as b, ${value} as value from ${sql.identifier(table)}
          where ${sealedUnderOtherKeys(value, [currentKeyId])}
            ${after ? sql`and (${first}, ${second}) > (${after[0]}, ${after[1]})` : sql``}
          order by ${first}, ${second}
          limit ${BATCH}`),
      );
      for (const row of rows) {
        let plaintext: string;
        try {
          plaintext = secrets.open(row.value);
        } catch {
          outcome.unreadable++;
          continue;
        }
        const replaced = rowsOf(
          await db.execute(sql`
            update ${sql.identifier(table)} set ${value} = ${secrets.seal(plaintext)}
            where ${first} = ${row.a} and ${second} = ${row.b} and ${value} = ${row.value}
            returning 1`),
        );
        outcome.resealed += replaced.length;
      }
      const last = rows.at(-1);
      if (!last || rows.length < BATCH) break;
      after = [last.a, last.b];
    }
    outcomes.push(outcome);
  }
  return outcomes;
}

/**
 * How many stored values each column holds under a key that is none of `keyIds`: values no
 * request can open (a key left out of ENCRYPTION_KEYS_PREVIOUS before `cli reseal` ran).
 */
export async function countSealedUnderOtherKeys(
  db: Database,
  keyIds: string[],
): Promise<{ table: string; column: string; count: number }[]> {
  const counts = [];
  for (const { table, column } of SEALED_COLUMNS) {
    const value = sql.identifier(column);
    const [row] = rowsOf<{ count: number | string }>(
      await db.execute(sql`
        select count(*) as count from ${sql.identifier(table)}
        where ${sealedUnderOtherKeys(value, keyIds)}`),
    );
    counts.push({ table, column, count: Number(row?.count ?? 0) });
  }
  return counts.filter(({ count }) => count > 0);
}
