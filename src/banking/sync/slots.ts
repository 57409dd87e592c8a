/**
 * How many syncs run at once in this process, in all and per team. A sync holds a database
 * connection for its whole transaction (minutes, for a long history): without a bound, one team
 * syncing twenty connections at once took every connection of the pool, and every other team's
 * requests, reads and key checks included, waited and then answered 503. A sync beyond the bounds
 * waits, holding no database connection, and a waiting sync of a team under its own bound goes
 * first, so that one team's queue does not hold the others back.
 */
export class SyncSlots {
  private running = 0;
  private readonly runningByTeam = new Map<string, number>();
  private readonly waiting: Waiter[] = [];

  constructor(
    private readonly total: number,
    private readonly perTeam: number,
  ) {}

  /**
   * Runs `task` once a slot is free. If `cancelled` aborts while it waits, it gives up its place
   * and rejects with `gone` (the client left: the task is not run).
   */
  async run<T>(teamId: string, task: () => Promise<T>, cancelled?: AbortSignal, gone?: Error): Promise<T> {
    await this.acquire(teamId, cancelled, gone);
    try {
      return await task();
    } finally {
      this.release(teamId);
    }
  }

  private canStart(teamId: string): boolean {
    return this.running < this.total && (this.runningByTeam.get(teamId) ?? 0) < this.perTeam;
  }

  private start(teamId: string): void {
    this.running++;
    this.runningByTeam.set(teamId, (this.runningByTeam.get(teamId) ?? 0) + 1);
  }

  private acquire(teamId: string, cancelled?: AbortSignal, gone?: Error): Promise<void> {
    if (this.canStart(teamId)) {
      this.start(teamId);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        teamId,
        start: () => {
          cancelled?.removeEventListener('abort', leave);
          resolve();
        },
      };
      const leave = () => {
        const at = this.waiting.indexOf(waiter);
        if (at >= 0) this.waiting.splice(at, 1);
        reject(gone ?? new Error('cancelled while waiting for a sync slot'));
      };
      if (cancelled?.aborted) return leave();
      cancelled?.addEventListener('abort', leave, { once: true });
      this.waiting.push(waiter);
    });
  }

  private release(teamId: string): void {
    this.running--;
    const left = (this.runningByTeam.get(teamId) ?? 1) - 1;
    if (left === 0) this.runningByTeam.delete(teamId);
    else this.runningByTeam.set(teamId, left);
    // The longest-waiting sync whose team is under its bound; others keep their places.
    for (let at = 0; at < this.waiting.length && this.running < this.total; ) {
      const waiter = this.waiting[at] as Waiter;
      if (!this.canStart(waiter.teamId)) {
        at++;
        continue;
      }
      this.waiting.splice(at, 1);
      this.start(waiter.teamId);
      waiter.start();
    }
  }
}

interface Waiter {
  teamId: string;
  start: () => void;
}

/**
 * The bounds for a database of `connections` connections (a pool's size): half of them for
 * syncs, so that the other half always answers requests, and half of those for one team. The
 * embedded database has one connection, which one sync at a time holds anyway.
 */
export function syncSlotsFor(connections: number): SyncSlots {
  const total = Math.max(1, Math.floor(connections / 2));
  return new SyncSlots(total, Math.max(1, Math.floor(total / 2)));
}
