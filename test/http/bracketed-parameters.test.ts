import { describe, expect, it } from 'vitest';
import { findBracketedParameter } from '../../src/http/validation.js';

const schema = { type: 'object', properties: { teamId: {}, accountId: {}, type: {} } };

describe("a route's own query parameter written as a list or an object", () => {
  it('is named by its JSON pointer, whatever the brackets hold', () => {
    expect(findBracketedParameter({ teamId: 't', 'accountId[]': 'a' }, schema)).toEqual({
      path: '/accountId[]',
      message: 'is not supported: give `accountId` once, as `accountId=<value>`',
    });
    expect(findBracketedParameter({ 'type[0]': 'CREDIT' }, schema)?.path).toBe('/type[0]');
    expect(findBracketedParameter({ 'type[a/b]': 'x' }, schema)?.path).toBe('/type[a~1b]');
  });

  it('leaves plain parameters, keys of no parameter and routes without a query schema alone', () => {
    expect(
      findBracketedParameter({ teamId: 't', accountId: 'a', teamIdx: 'x', type: 'DEBIT' }, schema),
    ).toBeNull();
    expect(findBracketedParameter({ 'utm[source]': 'x', '[]': 'y', '[type]': 'z' }, schema)).toBeNull();
    expect(findBracketedParameter({ 'accountId[]': 'a' }, undefined)).toBeNull();
    expect(findBracketedParameter(undefined, schema)).toBeNull();
  });
});
