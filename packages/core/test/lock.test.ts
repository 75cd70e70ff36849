import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { BusyError, errorText, withLock } from '@switchyard/core';
import { tempDir } from '@switchyard/testkit';

// Issue 12: the token-cache lock waited as long as the HTTP timeout, so a peer killed while holding it showed up
// as "Graph did not answer within 30 s". A dead holder's lock is taken over at once; a live holder past the wait
// gets its own sentence.
const holderScript = fileURLToPath(new URL('./fixtures/lock-holder.mjs', import.meta.url));
const dir = tempDir('switchyard-lock-');
afterAll(() => dir.cleanup());

/** A second process that takes the lock and keeps it until killed. */
async function peerHolding(lockPath: string) {
  const child = spawn(process.execPath, [holderScript, lockPath], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
  expect(chunk.toString()).toBe('held\n');
  return child;
}

/** A pid that belonged to a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await once(child, 'exit');
  return child.pid!;
}

// Waits long enough that only taking over at once lets these calls finish within the test's timeout.
const patient = { waitMs: 3_600_000, staleMs: 3_600_000 };

describe('withLock', () => {
  it('takes over at once a fresh lock file whose holder pid is dead', async () => {
    const lockPath = join(dir.path, 'dead.lock');
    writeFileSync(lockPath, `${await deadPid()} ${hostname()}\n`);
    expect(await withLock(lockPath, async () => readFileSync(lockPath, 'utf8'), patient)).toBe(
      `${process.pid} ${hostname()}\n`,
    );
    expect(existsSync(lockPath)).toBe(false);
  });

  it('refuses with its own sentence while a live peer holds it, and takes over once that peer is killed', async () => {
    const lockPath = join(dir.path, 'peer.lock');
    const peer = await peerHolding(lockPath);
    try {
      const err = await withLock(lockPath, async () => 'ran', {
        what: 'The sign-in token cache',
        waitMs: 300,
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BusyError);
      expect(errorText(err as BusyError)).toMatch(
        new RegExp(
          `^The sign-in token cache is locked by another process \\(pid ${peer.pid}\\), which has held it for \\d+ s; gave up after waiting \\d+ s\\. Try again in a moment; if it keeps happening, stop that process, or remove ${lockPath.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} if no such process runs\\.$`,
        ),
      );
      expect(errorText(err as BusyError)).not.toMatch(/did not answer/);
    } finally {
      // Killed while holding the lock: it cannot remove the file.
      peer.kill('SIGKILL');
      await once(peer, 'exit');
    }
    expect(existsSync(lockPath)).toBe(true);
    expect(await withLock(lockPath, async () => 'ran', patient)).toBe('ran');
  });

  it('still takes over an old lock whose holder cannot be checked (another host)', async () => {
    const lockPath = join(dir.path, 'elsewhere.lock');
    writeFileSync(lockPath, '4242 some-other-host\n');
    const err = await withLock(lockPath, async () => 'ran', { waitMs: 100, staleMs: 60_000 }).catch((e) => e);
    expect(err).toBeInstanceOf(BusyError);
    expect(await withLock(lockPath, async () => 'ran', { waitMs: 60_000, staleMs: 50 })).toBe('ran');
  });
});
