/** The opaque `nextCursor` of the sandbox: a position (day index, ordinal) in base64url. */
import type { Position } from './generator.js';

const PREFIX = 'sbx1';

export function encodeCursor(position: Position): string {
  return Buffer.from(`${PREFIX}:${position.day}:${position.ordinal}`).toString('base64url');
}

/** The position a cursor names, or null when it is not one of ours. */
export function decodeCursor(cursor: string): Position | null {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(cursor)) return null;
  const match = /^sbx1:(-?\d{1,9}):(\d{1,9})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) return null;
  return { day: Number(match[1]), ordinal: Number(match[2]) };
}
