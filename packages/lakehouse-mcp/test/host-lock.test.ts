// The turns on a tenant file between processes (warehouse/duckdb/host-lock.ts), over a real unix socket: each HostLock
// here stands for one process. The two-hosts test runs the same through two built servers.
import { connect as dial } from 'node:net';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CancelledError, silentLogger as log } from '@switchyard/core';
import { tempDir } from '@switchyard/testkit';
import { HostLock, hostSocketPath, hostWaitNotices } from '../src/warehouse/duckdb/host-lock.js';

const dirs: Array<{ cleanup(): void }> = [];
const locks: HostLock[] = [];

function processes(n: number): { locks: HostLock[]; yields: number[] } {
  const dir = tempDir('host-lock-');
  dirs.push(dir);
  const path = hostSocketPath(dir.path, join(dir.path, 't.duckdb'));
  const yields = Array.from({ length: n }, () => 0);
  const made = Array.from({ length: n }, (_, i) => {
    const lock = new HostLock(path, 'tenant_t', log);
    lock.onYield = () => yields[i]!++;
    locks.push(lock);
    return lock;
  });
  return { locks: made, yields };
}

const settled = async <T>(p: Promise<T>, ms = 150): Promise<boolean> =>
  Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);

afterEach(async () => {
  await Promise.all(locks.splice(0).map((l) => l.close()));
  dirs.splice(0).forEach((d) => d.cleanup());
});

describe('turns on a tenant file between processes', () => {
  it('grants many readers at once, and a writer only alone, telling the waiter whom it waits for', async () => {
    const {
      locks: [a, b, c],
      yields,
    } = processes(3);
    await a!.acquire('read');
    await b!.acquire('read');
    expect([a!.held, b!.held]).toEqual(['read', 'read']);
    const heard: string[] = [];
    const writing = hostWaitNotices.run({ notice: (m) => heard.push(m) }, () => c!.acquire('write'));
    expect(await settled(writing)).toBe(false);
    // Both readers were asked to yield; the writer is told it waits.
    expect(yields).toEqual([1, 1, 0]);
    expect(heard[0]).toMatch(
      /^waiting for another lakehouse-mcp process \(pid \d+\) that is reading tenant_t$/,
    );
    a!.release();
    expect(await settled(writing)).toBe(false);
    b!.release();
    await writing;
    expect(c!.held).toBe('write');
  });

  it('stops waiting when the call is cancelled, and lets go of the turn that comes after', async () => {
    const {
      locks: [a, b, c],
    } = processes(3);
    await a!.acquire('write');
    const cancel = new AbortController();
    const waiting = hostWaitNotices.run({ notice: () => {}, signal: cancel.signal }, () =>
      b!.acquire('read'),
    );
    expect(await settled(waiting)).toBe(false);
    cancel.abort();
    await expect(waiting).rejects.toThrow(CancelledError);
    // The writer goes; the turn the cancelled reader asked for comes and is let go, so a third process writes.
    a!.release();
    await c!.acquire('write');
    expect(c!.held).toBe('write');
    expect(b!.held).toBeUndefined();
  });

  it('serves in arrival order: a reader behind a waiting writer waits for it', async () => {
    const {
      locks: [a, b, c],
    } = processes(3);
    await a!.acquire('read');
    const order: string[] = [];
    const writer = b!.acquire('write').then(() => order.push('writer'));
    await settled(writer);
    const reader = c!.acquire('read').then(() => order.push('reader'));
    expect(await settled(reader)).toBe(false);
    a!.release();
    await writer;
    expect(await settled(reader)).toBe(false);
    b!.release();
    await reader;
    expect(order).toEqual(['writer', 'reader']);
  });

  it('goes on when the broker process goes: another takes over and the holders re-announce', async () => {
    const {
      locks: [a, b, c],
    } = processes(3);
    await a!.acquire('read');
    expect(a!.isBroker).toBe(true);
    // b waits behind a; a ends (as a killed process would, its socket closes).
    const bWrite = b!.acquire('write');
    await a!.close();
    await bWrite;
    expect(b!.held).toBe('write');
    // The new broker knows b writes: c waits until b lets go.
    const cRead = c!.acquire('read');
    expect(await settled(cRead, 600)).toBe(false);
    b!.release();
    await cRead;
    expect(c!.held).toBe('read');
  });

  it('drops a peer that sends what is not its protocol, and keeps serving the others', async () => {
    const {
      locks: [a],
    } = processes(1);
    await a!.acquire('read');
    const stranger = dial(a!.socketPath);
    const closed = new Promise<void>((r) => stranger.on('close', () => r()));
    stranger.on('error', () => {});
    stranger.write('{"op":"acquire","id":1,"mode":"everything"}\n');
    await closed;
    a!.release();
    await a!.acquire('write');
    expect(a!.held).toBe('write');
  });

  it('says in one sentence when the socket cannot be made, and where', async () => {
    const dir = tempDir('host-lock-');
    dirs.push(dir);
    const lock = new HostLock(join(dir.path, 'missing', 'host.sock'), 'tenant_t', log);
    locks.push(lock);
    await expect(lock.acquire('read')).rejects.toThrow(
      /^The lakehouse could not reach the other processes sharing tenant_t \(ENOENT\)$/,
    );
    expect(lock.held).toBeUndefined();
  });

  it('puts the socket of a deep LAKEHOUSE_HOME in a private folder whose path fits, and removes that folder after', async () => {
    const deep = tempDir('host-lock-deep-path-that-is-long-enough-to-overflow-a-unix-socket-path-');
    dirs.push(deep);
    const tenantDir = join(deep.path, 'lakehouse', 'tenant_with_a_long_name');
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = deep.path; // a temp folder too deep as well: /tmp is the last resort
    try {
      const path = hostSocketPath(tenantDir, join(tenantDir, 'warehouse.duckdb'));
      expect(Buffer.byteLength(path)).toBeLessThanOrEqual(100);
      expect(path.startsWith(join(deep.path, ''))).toBe(false);
      const folder = dirname(path);
      expect(statSync(folder).mode & 0o777).toBe(0o700);
      const lock = new HostLock(path, 'tenant_t', log);
      await lock.acquire('read');
      expect(lock.isBroker).toBe(true);
      await lock.close();
      expect(existsSync(path)).toBe(false);
      expect(existsSync(folder)).toBe(false);
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
  });
});
