import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from '../../src/http/cursor.js';

describe('transaction cursors', () => {
  it('round-trips a position', () => {
    const position = { at: '2026-11-25T13:23:52.000Z', id: 'txn_abc' };
    expect(decodeCursor(encodeCursor(position))).toEqual(position);
  });

  it.each([
    ['not base64url', '%%%'],
    ['not JSON', Buffer.from('hello').toString('base64url')],
    ['wrong shape', Buffer.from('{"a":1}').toString('base64url')],
    ['bad date', Buffer.from('["2026-13-45","txn_a"]').toString('base64url')],
    [
      'an instant not written as the API writes it',
      Buffer.from('["2026-11-25T13:23:52Z","txn_a"]').toString('base64url'),
    ],
    ['empty id', Buffer.from('["2026-11-25T13:23:52.000Z",""]').toString('base64url')],
    ['id of wrong type', Buffer.from('["2026-11-25T13:23:52.000Z",5]').toString('base64url')],
    ['an id with NUL', Buffer.from('["2026-11-25T13:23:52.000Z","txn_\\u0000"]').toString('base64url')],
    ['an id with SQL', Buffer.from('["2026-11-25T13:23:52.000Z","\' OR 1=1 --"]').toString('base64url')],
    ['year 0', Buffer.from('["0000-01-01T00:00:00.000Z","txn_a"]').toString('base64url')],
    ['a year before 0', Buffer.from('["-000001-01-01T00:00:00.000Z","txn_a"]').toString('base64url')],
    ['a year after 9999', Buffer.from('["+275760-09-13T00:00:00.000Z","txn_a"]').toString('base64url')],
  ])('rejects a cursor that is %s', (_why, cursor) => {
    expect(decodeCursor(cursor)).toBeNull();
  });
});
