import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataDirInUseError, LOCK_FILE, lockDataDir } from '../../src/db/data-dir-lock.js';

/** What this process writes in the lock file: its pid, then this boot's id (Linux). */
const OWN_LOCK_FILE = `${process.pid}\n${readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()}\n`;

/** The pid of a process that has already exited. */
function exitedPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

describe('the embedded database directory lock', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = join(await mkdtemp(join(tmpdir(), 'obs-lock-')), 'data');
  });
  afterEach(async () => {
    await rm(join(dataDir, '..'), { recursive: true, force: true });
  });

  it('names this process while it holds the directory, and removes the file when given back', async () => {
    const release = await lockDataDir(dataDir);
    expect(await readFile(join(dataDir, LOCK_FILE), 'utf8')).toBe(OWN_LOCK_FILE);
    await release();
    expect(existsSync(join(dataDir, LOCK_FILE))).toBe(false);
  });

  it('refuses a directory that a running process holds, naming it, and leaves its file', async () => {
    // The parent of this test process runs for as long as the test does.
    await lockDataDir(dataDir);
    await writeFile(join(dataDir, LOCK_FILE), `${process.ppid}\n`);
    const refused = await lockDataDir(dataDir).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(DataDirInUseError);
    expect((refused as Error).message).toContain(`in use by process ${process.ppid}`);
    expect(await readFile(join(dataDir, LOCK_FILE), 'utf8')).toBe(`${process.ppid}\n`);
  });

  it.each([
    ['a process that has exited', () => `${exitedPid()}\n`],
    ['this very pid (a container restarted as pid 1)', () => `${process.pid}\n`],
    ['no pid at all', () => 'garbage'],
    // A running pid, written before the last boot: after a reboot it names some other process.
    ['a boot before this one (a reboot)', () => `${process.ppid}\nnot-this-boot-0000\n`],
  ])('takes over a file left by %s, as after a crash', async (_, content) => {
    await lockDataDir(dataDir);
    await writeFile(join(dataDir, LOCK_FILE), content());
    const release = await lockDataDir(dataDir);
    expect(await readFile(join(dataDir, LOCK_FILE), 'utf8')).toBe(OWN_LOCK_FILE);
    await release();
  });

  it('keeps refusing a running holder that wrote the file during this boot', async () => {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    await lockDataDir(dataDir);
    await writeFile(join(dataDir, LOCK_FILE), `${process.ppid}\n${boot}\n`);
    await expect(lockDataDir(dataDir)).rejects.toBeInstanceOf(DataDirInUseError);
  });
});
