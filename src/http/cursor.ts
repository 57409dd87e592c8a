/**
 * Keyset cursors: the instant and id of the last row served, opaque to clients. Paging by key,
 * not offset, keeps pages stable while new rows arrive.
 */
export interface CursorPosition {
  /** The instant as `Date.prototype.toISOString` writes it, which is how the API shows instants. */
  at: string;
  id: string;
}

/**
 * The cursor after `position`. Its instant is written as it was served (the list's dates come
 * formatted by PostgreSQL), with no round trip through a Date on every page.
 */
export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(JSON.stringify([position.at, position.id])).toString('base64url');
}

/** The position in a cursor, or null when it is not one of ours. */
export function decodeCursor(cursor: string): CursorPosition | null {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Array.isArray(value) || value.length !== 2) return null;
    const [at, id] = value;
    // Only what our own cursors hold: an id of ours (no NUL or other text the database refuses)
    // and an instant of years 1 to 9999, which both engines store (a forged year 0 or +275760 is a 500).
    if (typeof at !== 'string' || typeof id !== 'string' || !/^[A-Za-z0-9_-]{1,128}$/.test(id)) return null;
    if (!/^\d{4}-/.test(at) || at.startsWith('0000-')) return null;
    const instant = new Date(at);
    if (Number.isNaN(instant.getTime()) || instant.toISOString() !== at) return null;
    return { at, id };
  } catch {
    return null;
  }
}
