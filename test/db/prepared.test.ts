import { describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { literalLimit, MAX_PREPARED_STATEMENTS, prepared } from '../../src/db/prepared.js';

/** A stand-in for a drizzle query builder: records the names it was prepared under. */
function builder(names: string[]) {
  return () => ({
    prepare(name: string) {
      names.push(name);
      return { name };
    },
  });
}

describe('prepared statements', () => {
  it('builds and prepares a query once per name and database', () => {
    const db = {} as Database;
    const names: string[] = [];
    const first = prepared(db, 'a', builder(names));
    expect(prepared(db, 'a', builder(names))).toBe(first);
    prepared({} as Database, 'a', builder(names));
    expect(names).toEqual(['a', 'a']);
  });

  it('past the cap, a new name is built afresh every time and sent unnamed, and the names kept still serve', () => {
    const db = {} as Database;
    const names: string[] = [];
    for (let i = 0; i < MAX_PREPARED_STATEMENTS; i++) prepared(db, `q${i}`, builder(names));
    expect(names).toHaveLength(MAX_PREPARED_STATEMENTS);

    const extra = prepared(db, 'one too many', builder(names));
    const again = prepared(db, 'one too many', builder(names));
    expect(extra).toEqual({ name: '' });
    expect(again).not.toBe(extra);
    expect(names.slice(MAX_PREPARED_STATEMENTS)).toEqual(['', '']);

    prepared(db, 'q0', builder(names));
    expect(names).toHaveLength(MAX_PREPARED_STATEMENTS + 2);
  });

  it('refuses a name PostgreSQL would cut, where two statements could clash', () => {
    expect(() => prepared({} as Database, 'x'.repeat(64), builder([]))).toThrow(/name too long/);
    expect(prepared({} as Database, 'x'.repeat(63), builder([]))).toEqual({ name: 'x'.repeat(63) });
  });

  it.each([0, -1, 1.5, Number.NaN, 2 ** 60])(
    'refuses %s as a literal limit, so nothing but a count reaches the SQL',
    (limit) => {
      expect(() => literalLimit(limit)).toThrow(/invalid limit/);
    },
  );
});
