import type { FieldError } from '../../errors.js';

/**
 * Connection metadata is what the client gives at connect for the provider (the sandbox's sizing
 * options) and for itself, stored as jsonb with the connection and handed to the provider on
 * every call; it is not in the connection's answers (the seed's shape has no such field). Bounded
 * so one team cannot bloat the table or every provider call. Key count and key length are in the
 * route schema; depth and total size are checked here, as part of the route's input check
 * (`connectProblems`).
 */
export const METADATA_MAX_DEPTH = 5;
export const METADATA_MAX_BYTES = 16 * 1024;

export function metadataProblems(metadata: Record<string, unknown>): FieldError[] {
  const errors: FieldError[] = [];
  if (depthOf(metadata) > METADATA_MAX_DEPTH) {
    errors.push({
      path: '/metadata',
      in: 'body',
      message: `must not nest deeper than ${METADATA_MAX_DEPTH} levels`,
    });
  }
  if (Buffer.byteLength(JSON.stringify(metadata)) > METADATA_MAX_BYTES) {
    errors.push({
      path: '/metadata',
      in: 'body',
      message: `must not be larger than ${METADATA_MAX_BYTES} bytes as JSON`,
    });
  }
  return errors;
}

/** Levels of objects and arrays; the global guard has already bounded the nesting, so recursion is safe. */
function depthOf(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  const children = Object.values(value);
  return 1 + (children.length === 0 ? 0 : Math.max(...children.map(depthOf)));
}
