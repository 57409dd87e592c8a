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
    if (typeof date !== 'string' || typeof id !== 'string' || id.length === 0 || id.length > 128) return null;
    const transactionDate = new Date(date);
    if (Number.isNaN(transactionDate.getTime()) || transactionDate.toISOString() !== date) return null;
    return { transactionDate, id };
  } catch {
    return null;
  }
}
