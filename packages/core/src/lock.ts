import { hostname } from 'node:os';
import { open, readFile, rm, stat } from 'node:fs/promises';
import { BusyError, CancelledError } from './errors.js';

export interface LockOptions {
  /** What the lock guards, for the sentence when it stays held: "the sign-in token cache". */
  what?: string;
  /** How long to wait for a live holder before giving up with a {@link BusyError}. Default 10 s. */
  waitMs?: number;
  /**
   * A lock whose holder cannot be checked (written on another host, or by an older version without a pid) is
   * taken over once it is this old. Default 10 s.
   */
  staleMs?: number;
  signal?: AbortSignal;
}

interface Holder {
  raw: string;
  pid: number | undefined;
  /** true / false when checked on this host; undefined when it cannot be checked. */
  alive: boolean | undefined;
  ageMs: number;
}

/**
 * A cross-process lock: a file created with O_EXCL that holds the holder's pid and host. A lock whose holder is
 * dead (killed while holding it) is taken over at once; one held by a live process longer than `waitMs` is
 * refused with its own sentence naming the holder, so the wait never surfaces as some other timeout.
 */
export async function withLock<T>(
  lockPath: string,
  fn: () => Promise<T>,
  options: LockOptions = {},
): Promise<T> {
  const waitMs = options.waitMs ?? 10_000;
  const staleMs = options.staleMs ?? 10_000;
  const started = Date.now();
  for (;;) {
    if (options.signal?.aborted) throw new CancelledError();
    try {
      const handle = await open(lockPath, 'wx', 0o600);
      try {
        await handle.writeFile(`${process.pid} ${hostname()}\n`);
      } finally {
        await handle.close();
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = await readHolder(lockPath);
    if (!holder) continue; // released in between
    if (holder.alive === false || (holder.alive === undefined && holder.ageMs > staleMs)) {
      await takeOver(lockPath, holder.raw);
      continue;
    }
    const waited = Date.now() - started;
    if (waited > waitMs) {
      const who = holder.pid === undefined ? 'another process' : `another process (pid ${holder.pid})`;
      throw new BusyError(
        `${options.what ?? 'A file'} is locked by ${who}, which has held it for ${Math.round(holder.ageMs / 1000)} s; gave up after waiting ${Math.round(waited / 1000)} s`,
        {
          hint: `Try again in a moment; if it keeps happening, stop that process, or remove ${lockPath} if no such process runs`,
        },
      );
    }
    await new Promise((r) => setTimeout(r, 25 + Math.random() * 50));
  }
  try {
    return await fn();
  } finally {
    await rm(lockPath, { force: true });
  }
}

async function readHolder(lockPath: string): Promise<Holder | undefined> {
  const [raw, info] = await Promise.all([
    readFile(lockPath, 'utf8').catch(() => undefined),
    stat(lockPath).catch(() => undefined),
  ]);
  if (raw === undefined || !info) return undefined;
  const m = /^(\d+) (\S+)\n?$/.exec(raw);
  const pid = m ? Number(m[1]) : undefined;
  const alive = m && m[2] === hostname() ? isAlive(pid!) : undefined;
  return { raw, pid, alive, ageMs: Date.now() - info.mtimeMs };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, as another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Remove a dead holder's lock, unless another waiter took it over first (then the file says someone else). */
async function takeOver(lockPath: string, seen: string): Promise<void> {
  const now = await readFile(lockPath, 'utf8').catch(() => undefined);
  if (now === seen) await rm(lockPath, { force: true });
}
