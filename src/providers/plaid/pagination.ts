/**
 * What a /transactions/sync pagination has handed to the service, so that a restart after
 * TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION can take back what the abandoned pages said.
 *
 * Plaid asks to restart from the cursor the pagination began with and to discard every page of
 * the abandoned loop. The service upserts each page as it comes (memory stays bounded by a
 * page), so those pages are already written when the mutation is reported. Re-delivering from
 * the first cursor fixes whatever the restarted loop mentions again; what it does not mention is
 * a transaction added by the abandoned loop that is gone by now (added and deleted since the
 * first cursor: Plaid reports only the net change). Those ids are handed back as `removed` at
 * the end of the pagination. Only `added` ones: a `modified` one existed before the first cursor,
 * and if it was deleted since, the restarted loop reports it removed itself.
 */
import { randomUUID } from 'node:crypto';

interface Loop {
  /** Ids the current loop delivered as added. */
  added: Set<string>;
  /** Ids the current loop delivered at all (added or modified). */
  seen: Set<string>;
  /** Ids abandoned loops delivered as added. */
  discarded: Set<string>;
  touchedAt: number;
}

/** How long a pagination may pause between two pages before its record is dropped. */
export const PAGINATION_MEMORY_MS = 30 * 60 * 1000;
/** Paginations remembered at once (the oldest is dropped first). */
const PAGINATION_LIMIT = 1_000;

export class SyncPaginations {
  private readonly loops = new Map<string, Loop>();

  constructor(private readonly now: () => number) {}

  /** Starts recording a pagination that has more pages; answers its id (for our page cursor). */
  open(): string {
    this.forgetStale();
    const id = randomUUID();
    this.loops.set(id, {
      added: new Set(),
      seen: new Set(),
      discarded: new Set(),
      touchedAt: this.now(),
    });
    while (this.loops.size > PAGINATION_LIMIT) {
      const oldest = this.loops.keys().next().value;
      if (oldest === undefined) break;
      this.loops.delete(oldest);
    }
    return id;
  }

  /** Notes a page the service is about to receive. */
  record(id: string, added: readonly string[], modified: readonly string[]): void {
    const loop = this.loops.get(id);
    if (!loop) return;
    for (const ref of added) {
      loop.added.add(ref);
      loop.seen.add(ref);
    }
    for (const ref of modified) loop.seen.add(ref);
    loop.touchedAt = this.now();
  }

  /**
   * The loop is abandoned (a mutation): what it added is discarded, unless the restarted loop
   * delivers it again. False where the pagination is not (or no longer) known: its pages
   * cannot be taken back.
   */
  restart(id: string): boolean {
    const loop = this.loops.get(id);
    if (!loop) return false;
    for (const ref of loop.added) loop.discarded.add(ref);
    loop.added.clear();
    loop.seen.clear();
    loop.touchedAt = this.now();
    return true;
  }

  /**
   * The pagination is complete: the ids abandoned loops delivered as added that the final loop
   * did not deliver again (transactions that no longer exist), and its record is dropped.
   */
  close(id: string): string[] {
    const loop = this.loops.get(id);
    this.loops.delete(id);
    if (!loop) return [];
    return [...loop.discarded].filter((ref) => !loop.seen.has(ref));
  }

  private forgetStale(): void {
    const now = this.now();
    for (const [id, loop] of this.loops) {
      if (now - loop.touchedAt >= PAGINATION_MEMORY_MS) this.loops.delete(id);
    }
  }
}
