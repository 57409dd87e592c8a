import { describe, expect, it } from 'vitest';
import { newId } from '../src/ids.js';

describe('ids', () => {
  it('are prefixed, lower-case hex and unique', () => {
    const ids = Array.from({ length: 10_000 }, () => newId('txn'));
    for (const id of ids.slice(0, 10)) expect(id).toMatch(/^txn_[0-9a-f]{28}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('sort in creation order, also within one millisecond', () => {
    const ids = Array.from({ length: 5_000 }, () => newId('cons'));
    expect([...ids].sort()).toEqual(ids);
  });
});
