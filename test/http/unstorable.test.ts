import { describe, expect, it } from 'vitest';
import { findUnstorableValue, MAX_ARRAY_ITEMS, MAX_JSON_DEPTH } from '../../src/http/problem.js';

const nested = (depth: number): unknown => {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = [value];
  return value;
};

describe('values the database cannot store', () => {
  it('accepts ordinary JSON', () => {
    expect(findUnstorableValue({ teamId: 't', metadata: { a: [1, { b: 'ü' }] } })).toBeNull();
    expect(findUnstorableValue(nested(MAX_JSON_DEPTH - 1))).toBeNull();
  });

  it('names a number past the range of a double, which JSON would write back as null', () => {
    expect(findUnstorableValue({ metadata: { a: [1, Number.POSITIVE_INFINITY] } })).toEqual({
      path: '/metadata/a/1',
      message: 'must be a number within the range of a double (about ±1.8e308)',
    });
    expect(findUnstorableValue({ n: Number.NEGATIVE_INFINITY })?.path).toBe('/n');
    expect(findUnstorableValue({ n: 1.7976931348623157e308, m: -5e-324 })).toBeNull();
  });

  it('names a NUL character in a value or a key by its JSON pointer', () => {
    expect(findUnstorableValue({ metadata: { 'a/b': ['ok', 'x\u0000y'] } })).toEqual({
      path: '/metadata/a~1b/1',
      message: 'must not contain a NUL character',
    });
    expect(findUnstorableValue({ 'k\u0000': 1 })?.path).toBe('/k\u0000');
    expect(findUnstorableValue('\u0000')?.path).toBe('/');
  });

  it('names an unpaired UTF-16 surrogate in a value or a key, and accepts a paired one', () => {
    expect(findUnstorableValue({ metadata: { note: ['ok', 'x\ud800'] } })).toEqual({
      path: '/metadata/note/1',
      message: 'must be valid Unicode: it contains an unpaired UTF-16 surrogate',
    });
    expect(findUnstorableValue({ '\udc00': 1 })?.path).toBe('/\udc00');
    expect(findUnstorableValue('\udc00\ud800')?.path).toBe('/');
    expect(findUnstorableValue({ consentId: 'card \ud83d\udcb3' })).toBeNull();
  });

  it('refuses hostile nesting without overflowing the stack', () => {
    expect(findUnstorableValue(nested(MAX_JSON_DEPTH + 1))?.message).toMatch(/nest deeper/);
    expect(findUnstorableValue(nested(1_000_000))?.message).toMatch(/nest deeper/);
  });

  it('refuses arrays longer than the limit, wherever they are', () => {
    expect(findUnstorableValue({ scopes: new Array(MAX_ARRAY_ITEMS).fill('accounts') })).toBeNull();
    expect(findUnstorableValue({ metadata: { list: new Array(MAX_ARRAY_ITEMS + 1).fill(0) } })).toEqual({
      path: '/metadata/list',
      message: `must not have more than ${MAX_ARRAY_ITEMS} items`,
    });
  });
});
