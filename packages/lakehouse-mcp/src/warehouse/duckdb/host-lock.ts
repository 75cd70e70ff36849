/**
 * Turns on a tenant's DuckDB file between processes: two hosts on one LAKEHOUSE_HOME (Claude Desktop and Claude
 * Code), or a server and `lakehouse-mcp status`. DuckDB lets one process open a file read-write, or many open it
 * read-only, never both (https://duckdb.org/docs/current/connect/concurrency); a process that finds the file taken
 * fails to open it. So the processes ask before they open it, and a broker answers:
 *
 * - The first process binds a unix socket in the tenant's folder (the folder is 0700 and the socket 0600: only
 *   this user reaches it) and becomes the broker; every process, the broker's own included, is its client.
 * - The broker grants many readers or one writer, in arrival order (a reader that comes after a waiting writer
 *   waits behind it).
 * - A grant is kept while nobody else waits, so an idle read engine stays open and a query after a pause runs warm.
 *   When someone queues behind a holder, the broker asks the holder to yield; it lets go when its current
 *   statement or load step ends, and asks again for its next one.
 * - When the broker's process ends (or is killed), the others see the socket close; one binds it afresh (under a
 *   lock file that names its pid), and the rest re-announce what they hold before the new broker grants anything.
 *
 * Waiting is never an error: a waiting caller hears who it waits for (see {@link hostWaitNotices}).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, rmdirSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { CancelledError, UpstreamError, withLock, type Logger } from '@switchyard/core';

export type HostMode = 'read' | 'write';

type ToBroker =
  | { op: 'hello'; pid: number }
  | { op: 'acquire'; id: number; mode: HostMode }
  | { op: 'holding'; mode: HostMode }
  | { op: 'release' };

type ToClient =
  | { op: 'granted'; id: number }
  | { op: 'queued'; id: number; holders: Array<{ pid: number; mode: HostMode }> }
  | { op: 'yield' };

/**
 * The tool call a wait belongs to: where it hears that it waits for another process (the server sends it as MCP
 * progress), and its signal, which ends the wait when the call is cancelled.
 */
export const hostWaitNotices = new AsyncLocalStorage<{
  notice(message: string): void;
  signal?: AbortSignal | undefined;
}>();

/** How often a waiting caller hears again that it still waits. */
const NOTICE_EVERY_MS = 5_000;
/** A new broker that took over grants nothing this long, so the surviving holders can re-announce first. */
const TAKEOVER_GRACE_MS = 300;
/** A line longer than this from a peer is not ours: the peer is dropped. */
const MAX_LINE = 4096;
const MAX_PEERS = 64;

/**
 * The socket's path: in the tenant's folder, or, where that path is too long for a unix socket (about 104 bytes),
 * in a 0700 folder of this user's under the runtime (or temp) folder, named by a hash of the tenant's file.
 */
export function hostSocketPath(tenantDir: string, file: string): string {
  if (process.platform === 'win32') {
    return `\\\\?\\pipe\\switchyard-lakehouse-${createHash('sha256').update(file).digest('hex').slice(0, 24)}`;
  }
  const inFolder = join(tenantDir, 'host.sock');
  if (Buffer.byteLength(inFolder) <= 100) return inFolder;
  const name = `${createHash('sha256').update(file).digest('hex').slice(0, 24)}.sock`;
  // The first base whose path fits: the runtime folder, the temp folder, then /tmp itself.
  const bases = [process.env.XDG_RUNTIME_DIR, tmpdir(), '/tmp'].filter((b): b is string => !!b);
  const dirs = bases.map((base) => join(base, `switchyard-lakehouse-${process.getuid?.() ?? 0}`));
  const dir = dirs.find((d) => Buffer.byteLength(join(d, name)) <= 100) ?? dirs[dirs.length - 1]!;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const info = lstatSync(dir);
  if (!info.isDirectory() || info.uid !== process.getuid?.() || (info.mode & 0o077) !== 0) {
    throw new UpstreamError(`The folder ${dir} for the lakehouse's host socket is not this user's alone`, {
      hint: 'Remove it (or set XDG_RUNTIME_DIR to a private folder), or use a shorter LAKEHOUSE_HOME',
    });
  }
  return join(dir, name);
}

function rmdirIfEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // Another process's socket or lock is still there: it removes the folder when it goes.
  }
}

/** Lines of JSON from a socket; anything not ours (too long, not JSON) ends the connection. */
function readLines(socket: Socket, onMessage: (message: Record<string, unknown>) => void): void {
  let buffered = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      let message: unknown;
      try {
        message = JSON.parse(line);
      } catch {
        socket.destroy();
        return;
      }
      if (message && typeof message === 'object') onMessage(message as Record<string, unknown>);
    }
    if (buffered.length > MAX_LINE) socket.destroy();
  });
}

function send(socket: Socket, message: ToBroker | ToClient): void {
  if (!socket.destroyed) socket.write(`${JSON.stringify(message)}\n`);
}

interface Peer {
  socket: Socket;
  pid: number;
  holding: HostMode | undefined;
  /** Asked to yield since its grant: not asked again. */
  asked: boolean;
}

interface Ticket {
  peer: Peer;
  id: number;
  mode: HostMode;
  told: boolean;
}

/** The broker: grants turns on one tenant file to the processes connected to its socket. */
class Broker {
  private readonly peers = new Set<Peer>();
  private readonly queue: Ticket[] = [];
  private readonly grantsFrom: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly server: Server,
    tookOver: boolean,
  ) {
    this.grantsFrom = tookOver ? Date.now() + TAKEOVER_GRACE_MS : 0;
    server.on('connection', (socket) => this.accept(socket));
  }

  private accept(socket: Socket): void {
    if (this.peers.size >= MAX_PEERS) {
      socket.destroy();
      return;
    }
    socket.unref();
    const peer: Peer = { socket, pid: 0, holding: undefined, asked: false };
    this.peers.add(peer);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.peers.delete(peer);
      for (let i = this.queue.length - 1; i >= 0; i--)
        if (this.queue[i]!.peer === peer) this.queue.splice(i, 1);
      this.pump();
    });
    readLines(socket, (m) => this.onMessage(peer, m));
  }

  private onMessage(peer: Peer, m: Record<string, unknown>): void {
    const mode = m.mode === 'read' || m.mode === 'write' ? m.mode : undefined;
    if (m.op === 'hello' && typeof m.pid === 'number') peer.pid = m.pid;
    else if (m.op === 'acquire' && typeof m.id === 'number' && mode) {
      this.queue.push({ peer, id: m.id, mode, told: false });
    } else if (m.op === 'holding' && mode) {
      peer.holding = mode;
      peer.asked = false;
    } else if (m.op === 'release') {
      peer.holding = undefined;
      peer.asked = false;
    } else {
      peer.socket.destroy();
      return;
    }
    this.pump();
  }

  /** Grant from the head of the queue while the head fits beside the holders; ask blockers to yield. */
  private pump(): void {
    const wait = this.grantsFrom - Date.now();
    if (wait > 0) {
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        this.pump();
      }, wait).unref();
      return;
    }
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      const blockers = [...this.peers].filter(
        (p) => p !== head.peer && p.holding && (head.mode === 'write' || p.holding === 'write'),
      );
      if (blockers.length > 0) {
        for (const b of blockers.filter((b) => !b.asked)) {
          b.asked = true;
          send(b.socket, { op: 'yield' });
        }
        if (!head.told) {
          head.told = true;
          const holders = blockers.map((b) => ({ pid: b.pid, mode: b.holding! }));
          send(head.peer.socket, { op: 'queued', id: head.id, holders });
        }
        return;
      }
      this.queue.shift();
      head.peer.holding = head.mode;
      head.peer.asked = false;
      send(head.peer.socket, { op: 'granted', id: head.id });
    }
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const p of this.peers) p.socket.destroy();
    this.server.close();
  }
}

interface Caller {
  resolve(): void;
  reject(err: Error): void;
}

interface Waiter {
  mode: HostMode;
  /** The calls waiting for this turn; when all of them are cancelled, the turn is let go as soon as it comes. */
  callers: Caller[];
  notice: ((message: string) => void) | undefined;
  repeat: NodeJS.Timeout | undefined;
}

function dial(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    socket.once('connect', () => {
      socket.removeListener('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

function listen(path: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(path, () => {
      server.removeListener('error', reject);
      server.unref();
      resolve(server);
    });
  });
}

/** One process's side: ask for a turn, keep it until asked to yield, re-announce it to a new broker. */
export class HostLock {
  /** What this process holds now. */
  held: HostMode | undefined;
  /** Someone waits behind this process's turn (since it was granted). */
  othersWaiting = false;
  /** Called when the broker asks this process to let go: release as soon as the current step ends. */
  onYield: () => void = () => {};
  private socket: Socket | undefined;
  private connecting: Promise<Socket> | undefined;
  private broker: Broker | undefined;
  private readonly waiters = new Map<number, Waiter>();
  private nextId = 1;
  private closed = false;

  constructor(
    readonly socketPath: string,
    /** Named in what a waiting caller hears: `tenant_acme`. */
    private readonly catalog: string,
    private readonly log: Logger,
  ) {}

  /** Wait for a turn in `mode` (the other mode, if held, is let go first). */
  async acquire(mode: HostMode): Promise<void> {
    if (this.held === mode) return;
    const call = hostWaitNotices.getStore();
    const same = [...this.waiters.values()].find((w) => w.mode === mode);
    if (same) return this.wait(same, call?.signal);
    if (this.held) this.release();
    const socket = await this.connect();
    if (this.held === mode) return;
    const id = this.nextId++;
    const waiter: Waiter = { mode, callers: [], notice: call?.notice, repeat: undefined };
    this.waiters.set(id, waiter);
    const waiting = this.wait(waiter, call?.signal);
    send(socket, { op: 'acquire', id, mode });
    return waiting;
  }

  /** One call's wait for a turn; a cancelled call stops waiting at once (the turn, if it comes, is let go). */
  private wait(waiter: Waiter, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const caller: Caller = {
        resolve: () => {
          signal?.removeEventListener('abort', cancel);
          resolve();
        },
        reject: (err) => {
          signal?.removeEventListener('abort', cancel);
          reject(err);
        },
      };
      const cancel = () => {
        waiter.callers = waiter.callers.filter((c) => c !== caller);
        if (waiter.callers.length === 0) {
          clearInterval(waiter.repeat);
          waiter.notice = undefined;
        }
        reject(new CancelledError());
      };
      waiter.callers.push(caller);
      // A call already cancelled is recording that (the run's record, its clean-up): it waits as any other.
      if (signal && !signal.aborted) signal.addEventListener('abort', cancel, { once: true });
    });
  }

  /** Let go of this process's turn. */
  release(): void {
    if (!this.held) return;
    this.held = undefined;
    this.othersWaiting = false;
    if (this.socket) send(this.socket, { op: 'release' });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.release();
    for (const w of this.waiters.values()) {
      clearInterval(w.repeat);
      for (const c of w.callers) c.reject(new UpstreamError('The server is stopping; nothing was run.'));
    }
    this.waiters.clear();
    this.socket?.destroy();
    this.socket = undefined;
    if (this.broker) {
      this.broker.close();
      this.broker = undefined;
      if (process.platform !== 'win32') {
        rmSync(this.socketPath, { force: true });
        // The shared fallback folder (long LAKEHOUSE_HOME) goes when this was its last socket.
        if (basename(this.socketPath) !== 'host.sock') rmdirIfEmpty(dirname(this.socketPath));
      }
    }
  }

  /** True when this process is the broker. */
  get isBroker(): boolean {
    return this.broker !== undefined;
  }

  private connect(): Promise<Socket> {
    if (this.socket) return Promise.resolve(this.socket);
    this.connecting ??= this.open().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async open(): Promise<Socket> {
    for (let attempt = 0; ; attempt++) {
      if (this.closed) throw new UpstreamError('The server is stopping; nothing was run.');
      let code: string | undefined;
      try {
        return this.attach(await dial(this.socketPath));
      } catch (err) {
        code = (err as NodeJS.ErrnoException).code;
        // A broker that is going may refuse or reset a connection on its way out: that is a turn to take over.
        if (!['ENOENT', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE'].includes(code ?? '') || attempt >= 10) {
          throw this.unreachable(code);
        }
      }
      if (code === 'ECONNRESET' || code === 'EPIPE') await new Promise((r) => setTimeout(r, 20));
      else
        await this.elect().catch((err: unknown) => {
          if (err instanceof Error && 'kind' in err) throw err;
          throw this.unreachable((err as NodeJS.ErrnoException).code);
        });
    }
  }

  private unreachable(code: string | undefined): UpstreamError {
    return new UpstreamError(
      `The lakehouse could not reach the other processes sharing ${this.catalog} (${code ?? 'error'})`,
      { hint: `Check that ${this.socketPath} can be created in a folder you own, then try again` },
    );
  }

  /** Nobody answers on the socket: become the broker, unless another process did so first. */
  private async elect(): Promise<void> {
    await withLock(
      `${this.socketPath}.lock`,
      async () => {
        const live = await dial(this.socketPath).then(
          (s) => (s.destroy(), true),
          () => false,
        );
        if (live) return;
        const stale = process.platform !== 'win32' && existsSync(this.socketPath);
        if (stale) rmSync(this.socketPath, { force: true });
        const server = await listen(this.socketPath);
        if (process.platform !== 'win32') chmodSync(this.socketPath, 0o600);
        this.broker = new Broker(server, stale);
        this.log.debug('serving turns on the tenant file to other processes', { socket: this.socketPath });
      },
      { what: `The host lock of ${this.catalog}`, waitMs: 10_000, staleMs: 10_000 },
    );
  }

  private attach(socket: Socket): Socket {
    socket.unref();
    this.socket = socket;
    send(socket, { op: 'hello', pid: process.pid });
    if (this.held) send(socket, { op: 'holding', mode: this.held });
    for (const [id, w] of this.waiters) send(socket, { op: 'acquire', id, mode: w.mode });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      if (this.closed) return;
      // The broker went: take its place or find who did, and tell it what this process holds and waits for.
      this.log.debug('the process serving turns on the tenant file went; reconnecting');
      void this.connect().catch((err: unknown) => {
        for (const w of this.waiters.values()) for (const c of w.callers) c.reject(err as Error);
        this.waiters.clear();
      });
    });
    readLines(socket, (m) => this.onMessage(m as ToClient));
    return socket;
  }

  private onMessage(m: ToClient): void {
    if (m.op === 'yield') {
      this.othersWaiting = true;
      this.onYield();
      return;
    }
    const waiter = this.waiters.get(m.id);
    if (!waiter) return;
    if (m.op === 'queued') {
      const writing = m.holders.find((h) => h.mode === 'write');
      const who = writing ?? m.holders[0];
      const message = `waiting for another lakehouse-mcp process${who?.pid ? ` (pid ${who.pid})` : ''} that is ${writing ? 'writing to' : 'reading'} ${this.catalog}`;
      this.log.info(message);
      if (waiter.notice) {
        waiter.notice(message);
        waiter.repeat = setInterval(() => waiter.notice?.(`still ${message}`), NOTICE_EVERY_MS);
        waiter.repeat.unref();
      }
      return;
    }
    this.waiters.delete(m.id);
    clearInterval(waiter.repeat);
    this.held = waiter.mode;
    this.othersWaiting = false;
    if (waiter.callers.length === 0) this.release();
    for (const c of waiter.callers) c.resolve();
  }
}
