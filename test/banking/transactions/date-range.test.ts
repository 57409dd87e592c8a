import { describe, expect, it } from 'vitest';
import { parseBound } from '../../../src/banking/transactions/date-range.js';

describe('from/to bounds', () => {
  it('reads a date as the whole UTC day', () => {
    expect(parseBound('2026-11-01', 'from')).toEqual({
      at: new Date('2026-11-01T00:00:00Z'),
      exclusive: false,
    });
    expect(parseBound('2026-11-01', 'to')).toEqual({ at: new Date('2026-11-02T00:00:00Z'), exclusive: true });
  });

  it('reads date-times with or without an offset, UTC by default', () => {
    expect(parseBound('2026-11-01T08:30:00Z', 'to')).toEqual({
      at: new Date('2026-11-01T08:30:00Z'),
      exclusive: false,
    });
    expect(parseBound('2026-11-01T08:30', 'from')).toEqual({
      at: new Date('2026-11-01T08:30:00Z'),
      exclusive: false,
    });
    expect(parseBound('2026-11-01T08:30:00+0100', 'from')).toEqual({
      at: new Date('2026-11-01T07:30:00Z'),
      exclusive: false,
    });
  });

  it('starts a from inside a millisecond at the next one, and ends a to inside one at its own', () => {
    for (const fraction of ['0001', '000999999', '0000001']) {
      expect(parseBound(`2026-11-01T08:30:58.${fraction}Z`, 'from')).toEqual({
        at: new Date('2026-11-01T08:30:58.001Z'),
        exclusive: false,
      });
      expect(parseBound(`2026-11-01T08:30:58.${fraction}Z`, 'to')).toEqual({
        at: new Date('2026-11-01T08:30:58.000Z'),
        exclusive: false,
      });
    }
    expect(parseBound('2026-11-01T08:30:58.120000Z', 'from')).toEqual({
      at: new Date('2026-11-01T08:30:58.120Z'),
      exclusive: false,
    });
  });

  it.each(['2026-02-30', '2026-13-01', '2026-11-01T25:00'])('rejects the impossible date %s', (value) => {
    expect(parseBound(value, 'from')).toEqual({
      path: '/from',
      in: 'query',
      message: 'is not a real date or date-time',
    });
  });

  it.each([
    ['9999-12-31T23:59:59-14:00', 'to'],
    ['9999-12-31T23:00:00.999-01:00', 'to'],
    ['0000-01-01', 'from'],
    ['0000-12-31T23:59:59Z', 'from'],
  ] as const)(
    'rejects %s, an instant outside the years 0001 to 9999 that the database cannot read',
    (value, edge) => {
      expect(parseBound(value, edge)).toEqual({
        path: `/${edge}`,
        in: 'query',
        message: 'must be between the years 0001 and 9999 (UTC)',
      });
    },
  );

  it.each(['0001-01-01', '0050-06-15', '0099-12-31T23:59:59Z'])(
    'reads %s in its own year, not in the 1900s',
    (value) => {
      const bound = parseBound(value, 'from');
      expect(bound).toMatchObject({ exclusive: false });
      expect('at' in bound && bound.at.toISOString().slice(0, 10)).toBe(value.slice(0, 10));
    },
  );

  it('rejects the 29th of February of a year of the first century that was not a leap year', () => {
    expect(parseBound('0099-02-29', 'from')).toEqual({
      path: '/from',
      in: 'query',
      message: 'is not a real date or date-time',
    });
    expect(parseBound('0096-02-29', 'from')).toMatchObject({ at: new Date('0096-02-29T00:00:00Z') });
  });

  it('ends a `to` of 9999-12-31 at the last instant of that day rather than in year 10000', () => {
    expect(parseBound('9999-12-31', 'to')).toEqual({
      at: new Date('9999-12-31T23:59:59.999Z'),
      exclusive: false,
    });
  });
});
