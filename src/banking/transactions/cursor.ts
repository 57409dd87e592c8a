/**
 * Keyset cursors: the (transactionDate, id) of the last row served, opaque to clients.
 * Paging by key, not offset, keeps pages stable while new rows arrive.
 */
export interface CursorPosition {
  transactionDate: Date;
  id: string;
}

export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(JSON.stringify([position.transactionDate.toISOString(), position.id])).toString(
    'base64url',
  );
}

/** The position in a cursor, or null when it is not one of ours. */
export function decodeCursor(cursor: string): CursorPosition | null {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Array.isArray(value) || value.length !== 2) return null;
    const [date, id] = value;
    // Only what our own cursors hold: an id of ours (no NUL or other text the database refuses)
    // and an instant of years 1 to 9999, which both engines store (a forged year 0 or +275760 is a 500).
    if (typeof date !== 'string' || typeof id !== 'string' || !/^[A-Za-z0-9_-]{1,128}$/.test(id)) return null;
    if (!/^\d{4}-/.test(date) || date.startsWith('0000-')) return null;
    const transactionDate = new Date(date);
    if (Number.isNaN(transactionDate.getTime()) || transactionDate.toISOString() !== date) return null;
    return { transactionDate, id };
  } catch {
    return null;
  }
}
