/**
 * Property-based tests of every operation of the OpenAPI document: fast-check generates hostile
 * requests (arbitrary JSON, schema-shaped bodies with wrong types, huge and unicode strings, SQL
 * fragments, `__proto__` keys at any depth, hostile path parameters, duplicated and unknown query
 * parameters, random Idempotency-Key headers) and every answer must be a 4xx problem+json (a
 * 2xx only for a read), never a 5xx, never leaking internals, and the database must be exactly
 * as it was. Operations come from the app's own document, so a new route is covered untouched.
 *
 * Write requests are built so that none can be valid: each carries one "poison" (a wrong type, a
 * missing field, an id that does not exist, another team...) applied after every other hostile
 * change, so a 2xx from a write is a bug, not bad luck.
 *
 * Replay a failure with FC_SEED=<seed printed> (and FC_RUNS to change the number of runs);
 * FC_STATS=1 prints how many answers of each status every operation got.
 */
import { randomBytes } from 'node:crypto';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import fc from 'fast-check';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, connectSandbox, startTestApp, type Team } from '../support/app.js';
import { type DatabaseDump, dumpDatabase, expectSameDump } from '../support/dump.js';
import { expectNoStackTrace, listAccounts, short, syncConnection } from '../support/fixtures.js';
import {
  fillPath,
  isAdminOperation,
  type JsonSchema,
  listOperations,
  type Operation,
  wellFormed,
} from '../support/operations.js';

const SEED = Number(process.env.FC_SEED ?? 20_261_126);
const RUNS = Number(process.env.FC_RUNS ?? 150);

// ---------------------------------------------------------------------------------------------
// JSON trees that can say what JSON.stringify cannot: duplicate keys, `__proto__` as an own key,
// numbers beyond a double, in any order.

class Obj {
  constructor(readonly entries: [string, Tree][]) {}
}
/** A piece of JSON text written as is (`1e400`), or a whole body that is not JSON at all. */
class Raw {
  constructor(readonly text: string) {}
}
type Tree = null | boolean | number | string | Tree[] | Obj | Raw;

function toJson(tree: Tree): string {
  if (tree instanceof Raw) return tree.text;
  if (tree instanceof Obj) {
    return `{${tree.entries.map(([key, value]) => `${JSON.stringify(key)}:${toJson(value)}`).join(',')}}`;
  }
  if (Array.isArray(tree)) return `[${tree.map(toJson).join(',')}]`;
  // Lone surrogates come out escaped (`\ud800`), NaN and infinities as null.
  return JSON.stringify(tree) ?? 'null';
}

const parseOrUndefined = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

// ---------------------------------------------------------------------------------------------
// Hostile strings

const SQL_FRAGMENTS = [
  "' OR 1=1 --",
  "'; DROP TABLE transactions; --",
  '; DROP TABLE transactions;',
  '" OR ""="',
  "%' OR '1'='1",
  "') OR ('a'='a",
  '1 UNION SELECT id, key_hash FROM api_keys --',
  "'; UPDATE accounts SET balance_minor = 0; --",
  '1; SELECT pg_sleep(5); --',
  "'; COPY teams TO PROGRAM 'id'; --",
  '$1',
  '\\',
  "E'\\x00'",
  '::text',
  '/* */',
];

const TRICKY = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '',
  ' ',
  'null',
  'undefined',
  'NaN',
  'true',
  '[]',
  '{}',
  '-1',
  '0',
  '1e309',
  '../../etc/passwd',
  '..',
  '.',
  ['$', '{jndi:ldap://x}'].join(''),
  '{{7*7}}',
  '<script>alert(1)</script>',
  '\r\nX-Injected: 1',
  '%00',
  '%s%s%s%n',
  '\u0000',
  '\ufeff',
  '\u202e',
  '💳💸 ünïcødé 中文 עברית',
  'conn_AAAAAAAAAAAAAAAA',
  'acct_AAAAAAAAAAAAAAAA',
  'whe_AAAAAAAAAAAAAAAA',
  'team_AAAAAAAAAAAAAAAA',
];

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code));
const anyUnicode = fc.string({ unit: 'binary', maxLength: 24 });
// NUL is refused before anything else looks at a request: rare, so the rest gets through.
const fragment = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...SQL_FRAGMENTS, ...TRICKY) },
  { weight: 4, arbitrary: anyUnicode },
  { weight: 2, arbitrary: loneSurrogate },
  { weight: 1, arbitrary: fc.constant('\u0000') },
);
/** Fragments joined: SQL next to unicode next to a NUL... */
const mixed = fc.array(fragment, { minLength: 1, maxLength: 4 }).map((parts) => parts.join(''));
/** Up to ~100 kB (or four times that in UTF-8 for astral characters), cut anywhere. */
const huge = fc
  .tuple(
    fc.oneof(
      fc.constantFrom('x', 'é', '💳', "' OR 1=1 --", '\u0000', '\ud800'),
      mixed.filter((s) => s.length > 0),
    ),
    fc.integer({ min: 1_000, max: 100_000 }),
  )
  .map(([unit, length]) => unit.repeat(Math.ceil(length / unit.length)).slice(0, length));

const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...SQL_FRAGMENTS, ...TRICKY) },
  { weight: 4, arbitrary: mixed },
  { weight: 2, arbitrary: anyUnicode },
  { weight: 1, arbitrary: huge },
);

const PROTO_KEYS = ['__proto__', 'constructor', 'prototype'];

/**
 * Arbitrary JSON with hostile strings and odd numbers, with `__proto__`/`constructor` keys at any
 * depth when `proto` (the JSON parser refuses `__proto__` outright, so trees without it are what
 * gets a hostile value past the parser).
 */
function treeArbitrary(fieldNames: string[], proto: boolean): fc.Arbitrary<Tree> {
  const key = fc.oneof(
    { weight: proto ? 2 : 0, arbitrary: fc.constantFrom(...PROTO_KEYS) },
    { weight: 2, arbitrary: fieldNames.length ? fc.constantFrom(...fieldNames) : fc.constant('teamId') },
    { weight: 4, arbitrary: proto ? hostileString : hostileString.filter((k) => !PROTO_KEYS.includes(k)) },
  );
  const number = fc.oneof(
    fc.integer(),
    fc.double(),
    fc.constantFrom(0, -1, 2 ** 53, Number.MAX_VALUE),
    fc.constantFrom('1e400', '-0', '123456789012345678901234567890', '1E-400').map((text) => new Raw(text)),
  );
  const leaf = fc.oneof(fc.constant(null), fc.boolean(), number, hostileString);
  const { tree } = fc.letrec<{ tree: Tree; array: Tree[]; object: Obj }>((tie) => ({
    tree: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('array'), tie('object')),
    array: fc.array(tie('tree'), { maxLength: 4 }),
    object: fc
      .array(fc.tuple(key, tie('tree')), { maxLength: 4 })
      .map((entries) => new Obj(entries as [string, Tree][])),
  }));
  return tree;
}

/** Bodies that are not JSON at all, or JSON no route accepts (nested past the depth limit). */
const malformedBody = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    '{',
    '{"teamId": ',
    '{"a":1,}',
    "{'a': 1}",
    '[1, 2',
    'nul',
    '\u0000',
    '{"a": NaN}',
    '\ufeff{}x',
  ),
  fc.string({ unit: 'binary', maxLength: 40 }).filter((text) => parseOrUndefined(text) === undefined),
  fc.integer({ min: 33, max: 5_000 }).map((depth) => `${'['.repeat(depth)}${']'.repeat(depth)}`),
  fc.integer({ min: 33, max: 2_000 }).map((depth) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`),
);

// ---------------------------------------------------------------------------------------------
// Values the schema accepts, and values it refuses

const ajv = new Ajv({ strict: false, allErrors: false, coerceTypes: false });
addFormats.default(ajv);
const validators = new Map<string, (value: unknown) => boolean>();
function accepts(schema: JsonSchema, value: unknown): boolean {
  const key = JSON.stringify(schema);
  let validate = validators.get(key);
  if (!validate) {
    const compiled = ajv.compile(schema);
    validate = (v) => compiled(v) as boolean;
    validators.set(key, validate);
  }
  return validate(value);
}

const WRONG_CANDIDATES: Tree[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  '',
  'x',
  [],
  [1, 'a'],
  new Obj([]),
  new Obj([['a', 1]]),
];

/** Values of JSON the server parses to something `schema` refuses (not a `{}`-anything schema). */
function wrongValues(schema: JsonSchema, tree: fc.Arbitrary<Tree>): fc.Arbitrary<Tree> | null {
  const refused = (value: Tree) => {
    const parsed = parseOrUndefined(toJson(value));
    return parsed !== undefined && !accepts(schema, parsed);
  };
  const fixed = WRONG_CANDIDATES.filter(refused);
  if (fixed.length === 0) return null;
  return fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom(...fixed) },
    { weight: 1, arbitrary: tree.filter(refused) },
  );
}

/** A value the schema accepts, for fields the test has no value of its own for. */
function schemaExample(schema: JsonSchema): Tree {
  if ('default' in schema) return schema.default as Tree;
  if (Array.isArray(schema.examples) && schema.examples.length) return schema.examples[0] as Tree;
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum[0] as Tree;
  switch (Array.isArray(schema.type) ? schema.type[0] : schema.type) {
    case 'integer':
    case 'number':
      return typeof schema.minimum === 'number' ? schema.minimum : 1;
    case 'boolean':
      return false;
    case 'array':
      return schema.items ? [schemaExample(schema.items as JsonSchema)] : [];
    case 'object':
      return new Obj([]);
    default:
      return 'x';
  }
}

// ---------------------------------------------------------------------------------------------
// The app, team A with every kind of object, and the generated requests

const t = await startTestApp({ env: { ENCRYPTION_KEY: randomBytes(32).toString('base64') } });
// The webhook dispatcher would write delivery attempts in the background.
await t.app.webhooks.stop();
const operations = listOperations(t.app);

let team: Team;
/** Team A's real ids by the field or parameter that takes them. */
const known: Record<string, string[]> = {};
/** Values the test gives fields that are valid, so requests get past the first checks. */
const valid: Record<string, Tree> = {};

/**
 * Fields that name something that must already exist (or be the caller's own team): a hostile
 * value there makes any request invalid (400, 403 or 404), so it can serve as a write's poison.
 * `consentId` names a new consent at the bank and the admin API's `id` a new team: not here.
 */
const REFERENCES = ['teamId', 'connectionId', 'accountId', 'provider', 'providerId', 'keyId'];

interface Case {
  pathParams: Record<string, string>;
  /** Query pairs already percent-encoded (or deliberately mis-encoded), in order, repeats allowed. */
  query: [string, string][];
  body: { kind: 'none' } | { kind: 'json'; tree: Tree } | { kind: 'raw'; text: string };
  contentType: string | undefined;
  idempotencyKey: string | undefined;
  poison: string;
}

const encode = (value: string) => encodeURIComponent(wellFormed(value));

const rawQueryValue = fc.constantFrom(
  '%',
  '%zz',
  '%E0%A4%A',
  '%00',
  '%u0041',
  '+',
  '%2B',
  '%C0%AF',
  '=',
  '&',
  '&&=',
);
const queryValue = fc.oneof(
  { weight: 4, arbitrary: hostileString.map(encode) },
  { weight: 1, arbitrary: rawQueryValue },
);
/**
 * Values shaped like what a parameter takes, with hostile contents: these get past the schema
 * to the code that parses them. A cursor is base64url JSON `[date, id]` (any instant JavaScript
 * has, ids with NUL or SQL); a date takes any year the pattern allows and impossible days.
 */
const forgedCursor = fc
  .tuple(
    fc.oneof(
      fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
      fc.constantFrom(
        '0000-01-01T00:00:00.000Z',
        '-000001-01-01T00:00:00.000Z',
        '+275760-09-13T00:00:00.000Z',
      ),
      hostileString,
    ),
    fc.oneof(hostileString, fc.constantFrom('txn_0', 'txn_\u0000')),
  )
  .map(([date, id]) => Buffer.from(JSON.stringify([date, id])).toString('base64url'));
const shapedDate = fc.oneof(
  fc
    .date({
      min: new Date('0000-01-01T00:00:00Z'),
      max: new Date('9999-12-31T23:59:59Z'),
      noInvalidDate: true,
    })
    .map((date) => date.toISOString()),
  fc.constantFrom(
    '0000-01-01',
    '0001-01-01T00:00:00+14:00',
    '9999-12-31T23:59:59.999999999-14:00',
    '9999-12-31T23:59:59-14:00',
    '9999-12-31T23:00:00.999-01:00',
    '9999-12-31',
    '0100-01-01',
    '0001-01-01T00:00:00+00:01',
    '2026-02-29',
    '2024-02-29T24:00:00Z',
    '2026-12-31T23:59:60Z',
    '2026-01-01 00:00',
    '2026-01-01t00:00:00z',
    '2026-01-01T00:00+9999',
  ),
);
function shapedValues(name: string, schema: JsonSchema): fc.Arbitrary<string> | null {
  if (name === 'cursor') return forgedCursor;
  if (typeof schema.pattern === 'string' && schema.pattern.startsWith('^\\d{4}-')) return shapedDate;
  return null;
}

const queryKey = fc.oneof(
  fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    '__proto__[teamId]',
    'constructor[prototype][polluted]',
    '__proto__.teamId',
    'teamId[]',
    'teamId[0]',
    'limit[]',
  ),
  hostileString.map(encode),
);

const idempotencyKey = fc.option(
  fc.oneof(
    fc.uuid(),
    fc.stringMatching(/^[\x21-\x7e]{1,255}$/),
    // Too long, spaces, latin-1, empty: each must be a 400.
    fc.string({
      unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
      minLength: 256,
      maxLength: 600,
    }),
    fc.constantFrom('', ' ', 'a b', 'clé', '\t', 'x\u00ff'),
  ),
  { nil: undefined, freq: 3 },
);

const contentType = fc.oneof(
  { weight: 12, arbitrary: fc.constant('application/json') },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      undefined,
      'application/json; charset=utf-8',
      'application/json; charset=utf-16',
      'APPLICATION/JSON',
      'application/json;',
      'application/json ; x="y"',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/xml',
      'application/jsonx',
      'application/json-patch+json',
      '',
      '*/*',
    ),
  },
);

/** A value that passes the schema and names something of team A's where it is an id. */
function validValue(name: string, schema: JsonSchema): fc.Arbitrary<Tree> {
  const ours = known[name];
  return ours?.length ? fc.constantFrom(...ours) : fc.constant(valid[name] ?? schemaExample(schema));
}

/**
 * Each field or parameter is valid but for up to two of them: a request spoiled everywhere at
 * once is refused at its first field, while one spoiled in one place gets that value into the
 * service behind the validation.
 */
const spoiled = <T>(names: T[]) => fc.subarray(names, { maxLength: Math.min(2, names.length) });

/** The operation's hostile requests, each with one poison when the operation writes. */
function casesOf(operation: Operation): fc.Arbitrary<Case> {
  const properties = Object.entries(operation.body?.properties ?? {});
  const fieldNames = [...properties.map(([name]) => name), ...REFERENCES];
  const tree = fc.oneof(
    { weight: 1, arbitrary: treeArbitrary(fieldNames, true) },
    { weight: 2, arbitrary: treeArbitrary(fieldNames, false) },
  );

  const pathParams = fc.record(
    Object.fromEntries(
      operation.pathParams.map((p) => [
        p.name,
        fc.oneof(
          { weight: 3, arbitrary: fc.constantFrom(...(known[p.name] ?? known.any ?? ['x'])) },
          { weight: 3, arbitrary: hostileString },
        ),
      ]),
    ),
  ) as fc.Arbitrary<Record<string, string>>;

  const teamIdPairs = fc.oneof(
    { weight: 14, arbitrary: fc.constant([team.teamId]) },
    { weight: 1, arbitrary: fc.constant([]) },
    { weight: 1, arbitrary: hostileString.map((v) => [v]) },
    { weight: 1, arbitrary: fc.constant([team.teamId, team.teamId]) },
    { weight: 1, arbitrary: hostileString.map((v) => [team.teamId, v]) },
    { weight: 1, arbitrary: hostileString.map((v) => [v, team.teamId]) },
  );
  const declared = operation.queryParams.filter((p) => p.name !== 'teamId');
  const query = fc
    .tuple(
      teamIdPairs,
      spoiled(declared.map((p) => p.name)),
      fc.tuple(
        ...declared.map((p) =>
          fc.record({
            present: fc.boolean(),
            good: fc
              .oneof(
                {
                  weight: 3,
                  arbitrary: validValue(p.name, p.schema).map((v) => (typeof v === 'string' ? v : toJson(v))),
                },
                // A value of the right shape is "good" enough for the schema: often, it is a forged one.
                {
                  weight: shapedValues(p.name, p.schema) ? 1 : 0,
                  arbitrary: shapedValues(p.name, p.schema) ?? fc.constant(''),
                },
              )
              .map(encode),
            bad: fc.oneof(
              { weight: 3, arbitrary: queryValue.map((v) => [v]) },
              {
                weight: 3,
                arbitrary: (shapedValues(p.name, p.schema) ?? queryValue).map((v) => [encode(v)]),
              },
              { weight: 1, arbitrary: fc.tuple(queryValue, queryValue) },
              { weight: 1, arbitrary: queryValue.map((v) => ['', v]) },
            ),
          }),
        ),
      ),
      fc.array(fc.tuple(queryKey, queryValue), { maxLength: 2 }),
      fc.boolean(),
    )
    .map(([teamIds, bad, values, extra, teamFirst]) => {
      const pairs: [string, string][] = declared.flatMap((p, i) => {
        const value = values[i] as (typeof values)[number];
        if (bad.includes(p.name)) return value.bad.map((v) => [p.name, v || value.good] as [string, string]);
        return value.present || p.required ? [[p.name, value.good] as [string, string]] : [];
      });
      const teams = teamIds.map((v) => ['teamId', v === team.teamId ? v : encode(v)] as [string, string]);
      return [...(teamFirst ? [...teams, ...pairs] : [...pairs, ...teams]), ...extra];
    });

  const schemaBody = fc
    .tuple(
      spoiled(properties.map(([name]) => name)),
      fc.tuple(
        ...properties.map(([name, schema]) =>
          fc.record({
            present: fc.boolean(),
            good: fc.oneof(
              { weight: 3, arbitrary: validValue(name, schema) },
              {
                weight: shapedValues(name, schema) ? 1 : 0,
                arbitrary: shapedValues(name, schema) ?? fc.constant(''),
              },
            ),
            bad: fc.option(
              fc.oneof(
                { weight: 4, arbitrary: hostileString },
                { weight: 3, arbitrary: shapedValues(name, schema) ?? hostileString },
                { weight: 2, arbitrary: wrongValues(schema, tree) ?? hostileString },
                { weight: 1, arbitrary: tree },
              ),
              { nil: undefined, freq: 6 },
            ),
          }),
        ),
      ),
      fc.array(
        fc.tuple(
          fc.oneof(
            { weight: 1, arbitrary: fc.constantFrom(...PROTO_KEYS) },
            { weight: 8, arbitrary: hostileString },
          ),
          tree,
        ),
        { maxLength: 2 },
      ),
    )
    .map(([bad, values, extra]) => {
      const required = operation.body?.required ?? [];
      const entries: [string, Tree][] = [];
      properties.forEach(([name], i) => {
        const value = values[i] as (typeof values)[number];
        if (bad.includes(name)) {
          if (value.bad !== undefined) entries.push([name, value.bad]);
        } else if (value.present || required.includes(name)) {
          entries.push([name, value.good]);
        }
      });
      return new Obj([...entries, ...extra]);
    });

  const body = fc.oneof(
    { weight: 1, arbitrary: fc.constant({ kind: 'none' as const }) },
    { weight: 2, arbitrary: tree.map((value) => ({ kind: 'json' as const, tree: value })) },
    { weight: 1, arbitrary: malformedBody.map((text) => ({ kind: 'raw' as const, text })) },
    ...(operation.body
      ? [{ weight: 20, arbitrary: schemaBody.map((value) => ({ kind: 'json' as const, tree: value })) }]
      : []),
  );

  const poisons = operation.writes
    ? poisonsOf(operation, tree)
    : [{ weight: 1, arbitrary: fc.constant(noPoison) }];
  if (poisons.length === 0) {
    throw new Error(
      `${operation.name}: the test does not know how to make a request of it that must fail ` +
        '(no body field, path parameter or teamId to spoil): extend poisonsOf in properties.db.test.ts',
    );
  }
  return fc
    .record({
      pathParams,
      query,
      body: operation.method === 'GET' ? fc.constant({ kind: 'none' as const }) : body,
      contentType,
      idempotencyKey: operation.method === 'POST' ? idempotencyKey : fc.constant(undefined),
      poison: fc.oneof(...poisons),
    })
    .map(({ poison, ...rest }) => withSummary(poison.apply({ ...rest, poison: poison.label })));
}

/** Counterexamples print with long strings cut, so a 100 kB failure stays readable. */
function withSummary(request: Case): Case {
  const cut = (_: string, value: unknown) => {
    if (value instanceof Obj) return { '(object entries)': value.entries };
    if (value instanceof Raw) return { '(raw)': value.text };
    if (typeof value === 'string' && value.length > 120)
      return `${value.slice(0, 60)}... (${value.length} chars)`;
    return value;
  };
  Object.defineProperty(request, fc.toStringMethod, {
    value: () => JSON.stringify(request, cut),
    enumerable: false,
  });
  return request;
}

interface Poison {
  label: string;
  apply(request: Case): Case;
}
const noPoison: Poison = { label: 'none (a read)', apply: (request) => request };

/** Sets or removes a top-level field of a JSON object body; other bodies are already invalid. */
function editBody(request: Case, name: string, value: Tree | undefined): Case {
  if (request.body.kind !== 'json' || !(request.body.tree instanceof Obj)) return request;
  const entries = request.body.tree.entries.filter(([key]) => key !== name);
  if (value !== undefined) entries.push([name, value]);
  return { ...request, body: { kind: 'json', tree: new Obj(entries) } };
}

/** A string that is none of team A's ids or valid values: no object of that name exists. */
const nonexistent = fc
  .oneof(
    // Mostly short enough for the schema, so that the service has to look the id up.
    { weight: 3, arbitrary: mixed.filter((value) => value.length > 0 && value.length <= 64) },
    { weight: 1, arbitrary: hostileString },
  )
  .filter(
    (value) =>
      value !== team.teamId &&
      !Object.values(known).some((ids) => ids.includes(value)) &&
      !['sandbox', 'sandbox-gb', 'sandbox-eu', 'gocardless', 'plaid'].includes(value),
  );

/**
 * Ways to make a write request certainly fail. A body that is not a JSON object (none, a string,
 * an array, malformed text) already fails an object schema, so body poisons leave it alone.
 */
function poisonsOf(operation: Operation, tree: fc.Arbitrary<Tree>): fc.WeightedArbitrary<Poison>[] {
  const poisons: fc.WeightedArbitrary<Poison>[] = [];
  // Ids that name nothing get past validation into the services (404), so they come most often.
  const add = (weight: number, arbitrary: fc.Arbitrary<Poison>) => poisons.push({ weight, arbitrary });
  const body = operation.body;
  if (body) {
    if (body.schema.type !== 'object') {
      throw new Error(
        `${operation.name}: a body schema of type ${String(body.schema.type)} is not handled here`,
      );
    }
    for (const [name, schema] of Object.entries(body.properties)) {
      const wrong = wrongValues(schema, tree);
      if (wrong) {
        add(
          1,
          wrong.map((value) => ({
            label: `body ${name} of a wrong type`,
            apply: (r) => editBody(r, name, value),
          })),
        );
      }
      if (REFERENCES.includes(name)) {
        add(
          4,
          nonexistent.map((value) => ({
            label: `body ${name} names nothing of team A's`,
            apply: (r) => editBody(r, name, value),
          })),
        );
      }
    }
    for (const name of body.required) {
      add(
        1,
        fc.constant({ label: `body without ${name}`, apply: (r: Case) => editBody(r, name, undefined) }),
      );
    }
    add(
      1,
      tree
        .filter((value) => !(value instanceof Obj))
        .map((value) => ({
          label: 'a body that is not an object',
          apply: (r: Case) => ({ ...r, body: { kind: 'json' as const, tree: value } }),
        })),
    );
  }
  for (const parameter of operation.pathParams) {
    add(
      4,
      nonexistent.map((value) => ({
        label: `path ${parameter.name} names nothing`,
        apply: (r: Case) => ({ ...r, pathParams: { ...r.pathParams, [parameter.name]: value } }),
      })),
    );
  }
  for (const parameter of operation.queryParams) {
    if (parameter.name === 'teamId' || (parameter.required && REFERENCES.includes(parameter.name))) {
      add(
        2,
        nonexistent.map((value) => ({
          label: `query ${parameter.name} names nothing`,
          apply: (r: Case) => ({
            ...r,
            query: [...r.query.filter(([k]) => k !== parameter.name), [parameter.name, encode(value)]],
          }),
        })),
      );
    }
    if (parameter.required) {
      add(
        1,
        fc.constant({
          label: `query without ${parameter.name}`,
          apply: (r: Case) => ({ ...r, query: r.query.filter(([k]) => k !== parameter.name) }),
        }),
      );
    }
  }
  return poisons;
}

function render(operation: Operation, request: Case): InjectOptions & { url: string } {
  const path = fillPath(operation, request.pathParams);
  const search = request.query.map(([k, v]) => `${k}=${v}`).join('&');
  const headers: Record<string, string> = {
    authorization: `Bearer ${isAdminOperation(operation) ? ADMIN_TOKEN : team.apiKey}`,
  };
  if (request.idempotencyKey !== undefined) headers['idempotency-key'] = request.idempotencyKey;
  const options: InjectOptions & { url: string } = {
    method: operation.method,
    url: search ? `${path}?${search}` : path,
    headers,
  };
  if (request.body.kind !== 'none') {
    options.payload = request.body.kind === 'json' ? toJson(request.body.tree) : request.body.text;
    if (request.contentType !== undefined) headers['content-type'] = request.contentType;
  }
  return options;
}

/** Signs of a database or driver error in a response, beyond the stack traces `expectNoStackTrace` finds. */
const SQL_LEAKS = [
  /syntax error at or near/i,
  /violates (?:unique|foreign key|check|not-null) constraint/i,
  /duplicate key value/i,
  /relation "[^"]+" does not exist/i,
  /invalid input syntax for/i,
  /invalid byte sequence/i,
  /unsupported Unicode escape sequence/i,
  /Failed query/i,
  /PostgresError|DrizzleError|PGlite|pg_catalog/i,
  /\/work\/|\/home\/|\/usr\/|node:internal/,
];

function describeRequest(options: InjectOptions & { url: string }) {
  const body = typeof options.payload === 'string' ? short(options.payload) : '';
  return `${options.method} ${short(options.url)} ${JSON.stringify(options.headers)} ${body}`;
}

function checkResponse(
  operation: Operation,
  request: Case,
  options: InjectOptions & { url: string },
  response: LightMyRequestResponse,
) {
  const status = response.statusCode;
  const where = `${describeRequest(options)} [poison: ${request.poison}] answered ${status} ${short(response.body)}`;
  expect(status, `never a 5xx: ${where}`).toBeLessThan(500);
  if (operation.writes)
    expect(status, `a write that cannot be valid must be a 4xx: ${where}`).toBeGreaterThanOrEqual(400);
  else expect(status, `a read answers 2xx or 4xx: ${where}`).not.toBe(304);
  expectNoStackTrace(response.body);
  // A 2xx carries stored data (and /readyz names the engine); an error carries only our words.
  if (status < 300) return;
  for (const pattern of SQL_LEAKS)
    expect(response.body, `leaks internals (${pattern}): ${where}`).not.toMatch(pattern);
  expect(String(response.headers['content-type']), `problem+json: ${where}`).toMatch(
    /^application\/problem\+json/,
  );
  const problem = response.json() as Record<string, unknown>;
  expect(problem.status, where).toBe(status);
  expect(problem.code, where).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/);
  for (const field of ['type', 'title', 'detail'])
    expect(typeof problem[field], `${field}: ${where}`).toBe('string');
}

// ---------------------------------------------------------------------------------------------

describe('hostile requests to every operation of the OpenAPI document', () => {
  let before: DatabaseDump;

  beforeAll(async () => {
    team = await t.createTeam('Property team');
    const connection = await connectSandbox(t.as(team), team, { consentId: 'property-consent' });
    await syncConnection(t, team, connection.id);
    const accounts = await listAccounts(t, team);
    const webhook = await t
      .as(team)
      .post('/api/banking/webhooks', { teamId: team.teamId, url: 'https://example.com/hooks' });
    expect(webhook.statusCode, webhook.body).toBe(201);
    const webhookId = (webhook.json() as { id: string }).id;
    // A sync after the endpoint exists leaves a pending delivery in the log.
    await syncConnection(t, team, connection.id);
    Object.assign(known, {
      teamId: [team.teamId],
      connectionId: [connection.id],
      accountId: accounts.map((a) => a.id),
      keyId: [team.keyId],
      id: [...accounts.map((a) => a.id), webhookId, connection.id],
      any: [connection.id, webhookId, team.teamId],
    });
    Object.assign(valid, {
      teamId: team.teamId,
      provider: 'sandbox',
      providerId: 'sandbox-gb',
      consentId: 'property-new-consent',
      scopes: ['accounts', 'transactions'],
      expiresAt: '2027-01-15',
      redirectUrl: 'https://app.example.com/callback',
      url: 'https://example.com/hooks/2',
      events: ['sync.completed'],
      name: 'Property team 2',
      from: '2026-10-01',
      to: '2026-11-30',
      limit: 5,
      country: 'GB',
    });
    before = await dumpDatabase(t.database);
    expect(before.transactions?.length ?? 0).toBeGreaterThan(0);
  });
  afterAll(() => t.close());

  it('the document lists banking, admin and operational routes, all of which are tested below', () => {
    const names = operations.map((o) => o.name);
    expect(names).toContain('POST /api/banking/connect');
    expect(names).toContain('POST /api/admin/teams');
    expect(names).toContain('GET /healthz');
    expect(operations.length).toBeGreaterThanOrEqual(19);
  });

  for (const operation of operations) {
    it(`${operation.name}: hostile requests answer ${operation.writes ? '4xx' : '2xx or 4xx'} problem+json, never a 5xx, and change nothing`, async () => {
      const cases = casesOf(operation);
      const statuses = new Map<number, number>();
      await fc.assert(
        fc.asyncProperty(cases, async (request) => {
          const options = render(operation, request);
          const response = await t.app.inject(options);
          statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
          checkResponse(operation, request, options, response);
        }),
        { seed: SEED, numRuns: RUNS, endOnFailure: false },
      );
      if (process.env.FC_STATS) console.log(operation.name, JSON.stringify([...statuses].sort()));
      // Not every request stopped at the door: some got past the key, the team and the parser.
      const beyondTheDoor = [...statuses.keys()].filter((status) => ![401, 403, 413, 415].includes(status));
      expect(beyondTheDoor.length, JSON.stringify([...statuses])).toBeGreaterThan(0);
      expectSameDump(await dumpDatabase(t.database), before, `the database after ${operation.name}`);
      expect(Object.prototype).not.toHaveProperty('polluted');
      expect(Object.prototype).not.toHaveProperty('teamId');
    });
  }
});
