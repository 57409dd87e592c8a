import { describe, expect, it } from 'vitest';
import { findMisencodedParameter, findUnreadableParameter } from '../../src/http/validation.js';

const schema = {
  type: 'object',
  properties: { teamId: {}, accountId: {}, type: {}, limit: { type: 'integer' } },
};

describe('query parameters the schema would misread once coerced', () => {
  it('is named by its JSON pointer, whatever the brackets hold', () => {
    expect(findUnreadableParameter({ teamId: 't', 'accountId[]': 'a' }, schema)).toEqual({
      path: '/accountId[]',
      message: 'is not supported: give `accountId` once, as `accountId=<value>`',
    });
    expect(findUnreadableParameter({ 'type[0]': 'CREDIT' }, schema)?.path).toBe('/type[0]');
    expect(findUnreadableParameter({ 'type[a/b]': 'x' }, schema)?.path).toBe('/type[a~1b]');
  });

  it('leaves plain parameters, keys of no parameter and routes without a query schema alone', () => {
    expect(
      findUnreadableParameter({ teamId: 't', accountId: 'a', teamIdx: 'x', type: 'DEBIT' }, schema),
    ).toBeNull();
    expect(findUnreadableParameter({ 'utm[source]': 'x', '[]': 'y', '[type]': 'z' }, schema)).toBeNull();
    expect(findUnreadableParameter({ 'accountId[]': 'a' }, undefined)).toBeNull();
    expect(findUnreadableParameter(undefined, schema)).toBeNull();
  });

  it('names a parameter given more than once', () => {
    expect(findUnreadableParameter({ teamId: 't', type: ['CREDIT', 'DEBIT'] }, schema)).toEqual({
      path: '/type',
      message: 'must be given once, not 2 times',
    });
    expect(
      findUnreadableParameter({ list: ['a', 'b'] }, { properties: { list: { type: 'array' } } }),
    ).toBeNull();
    expect(findUnreadableParameter({ utm: ['a', 'b'] }, schema)).toBeNull();
  });

  it('names an integer parameter not written in decimal digits', () => {
    for (const limit of ['1e3', '0x10', ' 5', '5 ', '1.0', '+5', '']) {
      expect(findUnreadableParameter({ limit }, schema), JSON.stringify(limit)).toEqual({
        path: '/limit',
        message: 'must be an integer written in decimal digits',
      });
    }
    for (const limit of ['5', '500', '0', '-1', '5000000000']) {
      expect(findUnreadableParameter({ limit }, schema), limit).toBeNull();
    }
  });
});

describe('query parameters whose percent-encoding does not decode', () => {
  it('is named, whether the bad encoding is in its value or its name', () => {
    const problem = { path: '/category', message: 'is not valid percent-encoded UTF-8' };
    expect(findMisencodedParameter('/t?teamId=x&category=%ff')).toEqual(problem);
    expect(findMisencodedParameter('/t?teamId=x&category=%E0%A4%A')).toEqual(problem);
    expect(findMisencodedParameter('/t?category=100%&teamId=x')).toEqual(problem);
    expect(findMisencodedParameter('/t?teamId=x&%ffa=1')?.path).toBe('/%ffa');
  });

  it('leaves well-encoded queries alone, UTF-8, plus signs and reserved characters included', () => {
    for (const url of [
      '/t',
      '/t?teamId=x',
      '/t?from=2026-11-01T08%3A30%3A00%2B01%3A00&category=caf%C3%A9',
      '/t?description=a+b%20c&x=%25',
    ]) {
      expect(findMisencodedParameter(url), url).toBeNull();
    }
  });
});
