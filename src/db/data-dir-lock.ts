import { readFileSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** The file in DATA_DIR that names the process using the embedded database. */
export const LOCK_FILE = 'service.pid';

/** Another running process has the embedded database's directory. */
export class DataDirInUseError extends Error {
  override name = 'DataDirInUseError';
}

/**
 * Takes `dataDir` for this process, as PostgreSQL's `postmaster.pid` does, and answers how to give
 * it back. PGlite does not lock its directory: two processes on one DATA_DIR (a second start by
 * mistake, a rolling restart) both run, each blind to the other's writes, and the writes of one
 * are lost when the other closes. A file naming a process that no longer runs is taken over, so
 * a restart after a crash starts at once. A file naming this process's own pid is stale too (it
 * is just starting): in a container every start may be pid 1. So is one written before the
 * machine last booted (its boot id, Linux's, is in the file): after a reboot its pid may name any
 * other process, which would keep the service from starting until someone deleted the file.
 * Processes in other pid namespaces sharing one volume cannot see each other: do not share a
 * DATA_DIR between containers.
 */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  await mkdir(dataDir, { recursive: true });
  const path = join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    if (await createLock(path)) {
      return async () => {
        if ((await holderOf(path)).pid === process.pid) await rm(path, { force: true });
      };
    }
    const { pid, boot } = await holderOf(path);
    if (pid !== null && pid !== process.pid && isRunning(pid) && !bootedSince(boot)) {
      throw new DataDirInUseError(
        `DATA_DIR ${dataDir} is in use by process ${pid}: the embedded database belongs to one ` +
          `process. Stop that process first, or use DATABASE_URL for more than one. (If no such ` +
          `process runs, delete ${path}.)`,
      );
    }
    // Moved aside rather than deleted: of two processes taking over the same stale file at once,
    // only one can move it, and the other then finds the winner's file.
    const aside = `${path}.stale-${process.pid}`;
    try {
      await rename(path, aside);
      await rm(aside, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  throw new DataDirInUseError(`DATA_DIR ${dataDir}: could not take ${path}; another process keeps taking it`);
}

/** Creates the lock file naming this process; false when one is there already. */
async function createLock(path: string): Promise<boolean> {
  try {
    const handle = await open(path, 'wx', 0o600);
    try {
      await handle.writeFile(`${process.pid}\n${BOOT_ID ? `${BOOT_ID}\n` : ''}`);
    } finally {
      await handle.close();
    }
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/** This boot of the machine (Linux), or null where it cannot be read. */
const BOOT_ID = (() => {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
  } catch {
    return null;
  }
})();

/** Whether the machine has booted since `boot`: a pid written then says nothing of now. */
const bootedSince = (boot: string | null) => boot !== null && BOOT_ID !== null && boot !== BOOT_ID;

/**
 * What a lock file names, from one read: the pid (null when the file is gone or names none) and
 * the boot it was written in (null for an older file, or a machine without boot ids).
 */
async function holderOf(path: string): Promise<{ pid: number | null; boot: string | null }> {
  const [first = '', second = ''] = (await readFile(path, 'utf8').catch(() => '')).split('\n');
  const pid = Number.parseInt(first.trim(), 10);
  return { pid: Number.isSafeInteger(pid) && pid > 0 ? pid : null, boot: second.trim() || null };
}

/** Whether a process with this pid runs (one of another user's answers EPERM: it runs). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
