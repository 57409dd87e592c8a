/**
 * On a machine whose cores a server shares with PostgreSQL, the load generator and the kernel's
 * network stack, a rate is at most the cores' CPU time divided by what one request costs all of
 * them together. These read the machine's CPU time and turn it into the CPU per request a target
 * rate leaves the server: the figure that says whether the target is within reach of any server
 * here, before asking whether this one reaches it.
 */
import { readFile } from 'node:fs/promises';

/** CPU time of all the machine's cores so far (ms): what was used, and what there was. */
export interface MachineCpu {
  /** Every state but idle and I/O wait; steal (another guest's time) included, as it is not ours. */
  busyMs: number;
  totalMs: number;
}

/** The machine's CPU time from the text of `/proc/stat` (its `cpu` line, in 10 ms ticks); null when absent. */
export function parseProcStat(text: string): MachineCpu | null {
  const line = text.split('\n').find((each) => each.startsWith('cpu '));
  if (!line) return null;
  // user nice system idle iowait irq softirq steal (guest time is inside user already)
  const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (ticks.length < 8 || ticks.some((tick) => !Number.isFinite(tick))) return null;
  const [user, nice, system, idle, iowait, irq, softirq, steal] = ticks as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const busy = user + nice + system + irq + softirq + steal;
  return { busyMs: busy * 10, totalMs: (busy + idle + iowait) * 10 };
}

/** The machine's CPU time so far; null where `/proc/stat` cannot be read. */
export async function machineCpu(): Promise<MachineCpu | null> {
  return parseProcStat(await readFile('/proc/stat', 'utf8').catch(() => ''));
}

/**
 * The most CPU time (ms) per request a server's processes may spend for `perSecond` requests to
 * fit in `cores`, when everything else on the machine (the database, the load generator, the
 * kernel) costs `restMsEach` per request. Negative when the rest alone leaves no room.
 */
export function serverBudgetMs(perSecond: number, cores: number, restMsEach: number): number {
  return (cores * 1000) / perSecond - restMsEach;
}
