import { describe, expect, it } from 'vitest';
import { isDatabaseUnavailable } from '../../src/db/unavailable.js';
import { AppError } from '../../src/errors.js';

/** An error as drizzle throws it: its own, with the driver's as `cause`. */
const wrapped = (cause: unknown) => new Error('Failed query: select 1', { cause });
const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('telling an unreachable database from a failed statement', () => {
  it.each([
    ['a refused connection', withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
    ['a reset connection', withCode('read ECONNRESET', 'ECONNRESET')],
    [
      'a server shutting down (57P01)',
      withCode('terminating connection due to administrator command', '57P01'),
    ],
    ['a server starting up (57P03)', withCode('the database system is starting up', '57P03')],
    ['no connection slots left (53300)', withCode('sorry, too many clients already', '53300')],
    [
      'a full disk (53100)',
      withCode('could not extend file "base/16384/16385": No space left on device', '53100'),
    ],
    ['a server out of memory (53200)', withCode('out of memory', '53200')],
    ['a connection exception (08006)', withCode('connection failure', '08006')],
    ['a connection lost mid-query', new Error('Connection terminated unexpectedly')],
    ['a pool that could not connect in time', new Error('timeout exceeded when trying to connect')],
  ])('%s is unavailability, bare or wrapped', (_, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
    expect(isDatabaseUnavailable(wrapped(error))).toBe(true);
  });

  it.each([
    ['a unique violation (23505)', withCode('duplicate key value violates unique constraint', '23505')],
    ['an undefined table (42P01)', withCode('relation "x" does not exist', '42P01')],
    ['a plain error', new Error('boom')],
    ['an error of the API', new AppError('NOT_FOUND', 'Account not found')],
    ['not an error at all', 'ECONNREFUSED'],
  ])('%s is not', (_, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
    expect(isDatabaseUnavailable(wrapped(error))).toBe(false);
  });
});
