import { describe, expect, it } from 'vitest';
import { shareRepeatedHeaders } from '../../src/http/openapi.js';

const requestId = { schema: { type: 'string' }, description: 'The request id.' };
const retryAfter = { schema: { type: 'integer' }, description: 'Seconds to wait.' };
const documentWith = (...responses: Record<string, object>[]) => ({
  openapi: '3.1.0',
  paths: Object.fromEntries(
    responses.map((headers, i) => [
      `/route-${i}`,
      { get: { responses: { 200: { description: 'ok', headers } } } },
    ]),
  ),
  components: { schemas: { Problem: { type: 'object' } } },
});
type Operation = { get: { responses: { 200: { headers: Record<string, object> } } } };
const headersOf = (document: ReturnType<typeof documentWith>, i: number) =>
  (document.paths[`/route-${i}`] as Operation).get.responses[200].headers;

describe('headers repeated across the OpenAPI document', () => {
  it('writes a header described alike on several responses once, and references it from each', () => {
    const document = shareRepeatedHeaders(
      documentWith(
        { 'x-request-id': requestId },
        { 'x-request-id': { ...requestId }, 'retry-after': retryAfter },
      ),
    );
    expect(document.components).toEqual({
      schemas: { Problem: { type: 'object' } },
      headers: { 'x-request-id': requestId },
    });
    expect(headersOf(document, 0)).toEqual({ 'x-request-id': { $ref: '#/components/headers/x-request-id' } });
    // Used once: it stays where it is.
    expect(headersOf(document, 1)).toEqual({
      'x-request-id': { $ref: '#/components/headers/x-request-id' },
      'retry-after': retryAfter,
    });
  });

  it('keeps a header inline on every response when responses describe it differently', () => {
    const other = { schema: { type: 'string' }, description: 'Another meaning.' };
    const document = shareRepeatedHeaders(
      documentWith({ 'x-request-id': requestId }, { 'x-request-id': requestId }, { 'x-request-id': other }),
    );
    expect(document.components).toEqual({ schemas: { Problem: { type: 'object' } } });
    expect(headersOf(document, 0)).toEqual({ 'x-request-id': requestId });
    expect(headersOf(document, 2)).toEqual({ 'x-request-id': other });
  });
});
