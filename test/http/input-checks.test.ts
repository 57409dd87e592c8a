import { Type } from 'typebox';
import { describe, expect, it } from 'vitest';
import type { FieldError } from '../../src/errors.js';
import { createValidatorCompiler, formatProblem, withInputCheck } from '../../src/http/validation.js';

const Body = Type.Object({
  name: Type.String({ minLength: 1 }),
  from: Type.Integer(),
  to: Type.Integer(),
});

/** A check across two fields, which records what it was given. */
function orderCheck() {
  const seen: object[] = [];
  const check = (input: { from?: number; to?: number; name?: string }): FieldError[] => {
    seen.push({ ...input });
    return input.from !== undefined && input.to !== undefined && input.to < input.from
      ? [{ path: '/to', in: 'body', message: 'must not be before `from`' }]
      : [];
  };
  return { seen, check };
}

function compile(schema: object, httpPart = 'body') {
  const compiler = createValidatorCompiler([]);
  return compiler({ schema, method: 'POST', url: '/x', httpPart }) as ((data: unknown) => boolean) & {
    errors?: { instancePath: string; keyword: string; message?: string }[] | null;
  };
}

const listed = (validate: ReturnType<typeof compile>) =>
  (validate.errors ?? []).map((error) => `${error.instancePath} ${error.keyword} ${error.message}`);

describe("a route's input check runs with its schema", () => {
  it("lists a schema error and a later check's error together, the check's after", () => {
    const { check } = orderCheck();
    const validate = compile(withInputCheck(Body, check));
    expect(validate({ name: '', from: 5, to: 1 })).toBe(false);
    expect(listed(validate)).toEqual([
      '/name minLength must NOT have fewer than 1 characters',
      '/to check must not be before `from`',
    ]);
  });

  it('gives the check only the fields that passed the schema', () => {
    const { seen, check } = orderCheck();
    const validate = compile(withInputCheck(Body, check));
    expect(validate({ name: 'n', from: 'x', to: 1 })).toBe(false);
    expect(listed(validate)).toEqual(['/from type must be integer']);
    expect(seen).toEqual([{ name: 'n', to: 1 }]);
  });

  it("drops a check's error on a field the schema refused", () => {
    const validate = compile(
      withInputCheck(Body, () => [
        { path: '/name', in: 'body', message: 'is taken' },
        { path: '/to', in: 'body', message: 'is odd' },
      ]),
    );
    expect(validate({ name: '', from: 1, to: 1 })).toBe(false);
    expect(listed(validate)).toEqual([
      '/name minLength must NOT have fewer than 1 characters',
      '/to check is odd',
    ]);
  });

  it('refuses a request the schema passes when the check finds a bad field, and passes it otherwise', () => {
    const { check } = orderCheck();
    const validate = compile(withInputCheck(Body, check));
    expect(validate({ name: 'n', from: 5, to: 1 })).toBe(false);
    expect(listed(validate)).toEqual(['/to check must not be before `from`']);
    expect(validate({ name: 'n', from: 1, to: 5 })).toBe(true);
  });

  it('does not run the check on a part that is not an object', () => {
    const { seen, check } = orderCheck();
    const validate = compile(withInputCheck(Body, check));
    expect(validate(null)).toBe(false);
    expect(validate([1])).toBe(false);
    expect(seen).toEqual([]);
  });

  it('leaves the schema as it was, for validation and the OpenAPI document alike', () => {
    const checked = withInputCheck(Body, () => []);
    expect(JSON.parse(JSON.stringify(checked))).toEqual(JSON.parse(JSON.stringify(Body)));
    expect(Object.keys(Body)).toEqual(Object.keys(checked));
  });
});

describe('formats of one value, with their own messages', () => {
  it('says why a date of the right shape is refused', () => {
    expect(formatProblem('date-or-date-time', '2026-02-30')).toBe('is not a real date or date-time');
    expect(formatProblem('date-or-date-time', '9999-12-31T23:00:00-14:00')).toBe(
      'must be between the years 0001 and 9999 (UTC)',
    );
    expect(formatProblem('date-or-date-time', '2026-02-28T10:00:00Z')).toBeNull();
  });

  it('refuses a cursor that is not one of ours', () => {
    expect(formatProblem('cursor', 'zzz')).toBe('is not a valid cursor');
    const ours = Buffer.from(JSON.stringify(['2026-01-01T00:00:00.000Z', 'txn_1'])).toString('base64url');
    expect(formatProblem('cursor', ours)).toBeNull();
  });

  it('answers null for formats that are not ours', () => {
    expect(formatProblem('http-url', 'nope')).toBeNull();
    expect(formatProblem(undefined, 'x')).toBeNull();
  });

  it('is checked by the validators, query and body alike', () => {
    const validate = compile(
      Type.Object({
        to: Type.String({ format: 'date-or-date-time' }),
        cursor: Type.String({ format: 'cursor' }),
      }),
      'querystring',
    );
    expect(validate({ to: '2026-02-30', cursor: 'zzz' })).toBe(false);
    expect(listed(validate)).toEqual([
      '/to format must match format "date-or-date-time"',
      '/cursor format must match format "cursor"',
    ]);
  });
});
