/**
 * The data directory's owner: a running engine writes its pid to `DIR/engine.pid` and
 * removes it when it stops. Offline commands (`pacslink reprocess`, `pacslink rebuild`)
 * refuse to touch a data directory whose pid file names a live process, because they write
 * the repository that the engine's converter writes too.
 *
 * A pid file left by a killed engine names a dead process and is ignored (and replaced).
 * Limits, accepted for an operator's safety check: pid reuse after a crash could make a
 * stale file look live (delete it by hand), and the check covers one host only (a data
 * directory on a shared filesystem used from two hosts is not supported anyway).
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PacslinkError } from './errors.js';

/** Name of the pid file in the data directory. */
export const PID_FILE = 'engine.pid';

/** The pid recorded in `dataDir`, if that process is alive (and is not this process). */
export async function liveOwner(dataDir: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await readFile(join(dataDir, PID_FILE), 'utf8');
  } catch {
    return undefined;
  }
  const pid = Number.parseInt(text.trim(), 10);
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined;
  }
}

/** Throws `DATA_DIR_IN_USE` when a live engine holds `dataDir`. */
export async function assertNotInUse(dataDir: string): Promise<void> {
  const pid = await liveOwner(dataDir);
  if (pid !== undefined) {
    throw new PacslinkError('DATA_DIR_IN_USE', `the data directory ${dataDir} is in use by a running engine (pid ${pid}); stop it first`);
  }
}

/** Claims `dataDir` for this process; returns the function that releases it. */
export async function claimDataDir(dataDir: string): Promise<() => Promise<void>> {
  await assertNotInUse(dataDir);
  const path = join(dataDir, PID_FILE);
  await writeFile(path, `${process.pid}\n`);
  return async () => {
    try {
      if ((await readFile(path, 'utf8')).trim() === String(process.pid)) await rm(path, { force: true });
    } catch {
      // already gone
    }
  };
}
