/**
 * A sync's CSV stream into DuckDB without part files: each segment is one `INSERT … FROM read_csv(<fifo>)` that
 * DuckDB runs on its own threads while this process writes the source's bytes into the named pipe, so reading the
 * source and loading overlap, and nothing goes through the disk. A bounded queue between the source and the pipe
 * lets the source keep reading while DuckDB finishes a segment (or the engine is replaced between segments).
 *
 * Named pipes need POSIX (`mkfifo`); on Windows the load falls back to part files (`appendCsvPart`).
 */
import { execFile } from 'node:child_process';
import { constants, openSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { CancelledError } from '@switchyard/core';
import type { CsvFeed } from '../types.js';

const run = promisify(execFile);

export const feedsSupported = process.platform !== 'win32';

const WRITE_BYTES = 1024 * 1024;

/** What a feed needs from the load it fills. */
export interface SegmentLoader {
  /** Load one CSV file (the pipe) to its end into the staging table; resolves with the rows it added. */
  load(path: string): Promise<number>;
  /** Interrupt the statement that is loading. */
  interrupt(): void;
  /** Whether another caller waits for the warehouse: the segment then ends at the next row boundary. */
  waited(): boolean;
  /** Between segments: let waiting callers in, replace the engine when due. */
  between(bytes: number): void;
}

interface Chunk {
  data: Buffer;
  rowEnd: number;
}

export class FifoCsvFeed implements CsvFeed {
  private readonly queue: Chunk[] = [];
  private queued = 0;
  private ended = false;
  private failure: Error | undefined;
  private wakeLoader: (() => void) | undefined;
  private wakeSource: (() => void) | undefined;
  private segment: FifoSegment | undefined;
  private segments = 0;
  private readonly done: Promise<void>;
  /** Settles (never rejects) once nothing of this feed runs any more. */
  readonly finished: Promise<void>;

  constructor(
    private readonly dir: string,
    private readonly loader: SegmentLoader,
    private readonly options: { segmentBytes: number; queueBytes: number; onSegment(): void },
  ) {
    this.done = this.consume();
    this.finished = this.done.then(
      () => {},
      () => {},
    );
  }

  async write(data: Buffer, rowEnd: number): Promise<void> {
    if (this.failure) throw this.failure;
    if (data.length === 0) return;
    this.queue.push({ data, rowEnd });
    this.queued += data.length;
    this.wake();
    // Backpressure: the source waits while the queue is full (memory stays bounded).
    while (this.queued >= this.options.queueBytes && !this.failure) {
      await new Promise<void>((resolve) => (this.wakeSource = resolve));
    }
    if (this.failure) throw this.failure;
  }

  async end(): Promise<void> {
    this.ended = true;
    this.wake();
    await this.done;
  }

  destroy(reason?: Error): void {
    this.fail(reason ?? new CancelledError());
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.segment?.stop();
    this.wake();
  }

  private wake(): void {
    const loader = this.wakeLoader;
    const source = this.wakeSource;
    this.wakeLoader = undefined;
    this.wakeSource = undefined;
    loader?.();
    source?.();
  }

  private async take(): Promise<Chunk | undefined> {
    for (;;) {
      if (this.failure) throw this.failure;
      const chunk = this.queue.shift();
      if (chunk) {
        this.queued -= chunk.data.length;
        if (this.queued < this.options.queueBytes) this.wake();
        return chunk;
      }
      if (this.ended) return undefined;
      await new Promise<void>((resolve) => (this.wakeLoader = resolve));
    }
  }

  private async consume(): Promise<void> {
    try {
      let chunk = await this.take();
      while (chunk) {
        const path = join(this.dir, `feed-${String(this.segments++).padStart(5, '0')}.csv`);
        const segment = await FifoSegment.open(path, this.loader);
        this.segment = segment;
        if (this.failure) segment.stop();
        let bytes = 0;
        while (chunk) {
          // A segment ends only after a complete row: at its size, or early when someone waits for the engine.
          if (
            chunk.rowEnd >= 0 &&
            (bytes + chunk.data.length >= this.options.segmentBytes || this.loader.waited())
          ) {
            await segment.write(chunk.data.subarray(0, chunk.rowEnd));
            bytes += chunk.rowEnd;
            const rest = chunk.data.subarray(chunk.rowEnd);
            chunk = rest.length > 0 ? { data: rest, rowEnd: -1 } : await this.take();
            break;
          }
          await segment.write(chunk.data);
          bytes += chunk.data.length;
          chunk = await this.take();
        }
        await segment.finish();
        this.segment = undefined;
        if (this.failure) throw this.failure;
        this.loader.between(bytes);
        this.options.onSegment();
      }
    } catch (err) {
      const error = this.failure ?? (err as Error);
      this.fail(error);
      await this.segment?.settled;
      throw error;
    }
  }
}

/** One named pipe and the statement reading it. */
class FifoSegment {
  private failed: Error | undefined;
  readonly settled: Promise<unknown>;

  private constructor(
    private readonly path: string,
    private readonly out: Socket,
    private readonly loading: Promise<number>,
    private readonly loader: SegmentLoader,
  ) {
    this.settled = loading.catch(() => {});
  }

  static async open(path: string, loader: SegmentLoader): Promise<FifoSegment> {
    await run('mkfifo', ['-m', '600', path]);
    const loading = loader.load(path);
    let settled = false;
    loading.then(
      () => (settled = true),
      () => (settled = true),
    );
    // The writing end opens without waiting once DuckDB holds the reading end; until then open() says ENXIO.
    // Written through the event loop (not blocking fs writes in the thread pool), so that closing it is
    // immediate: DuckDB then reads the end of its input, however it was stopped.
    let fd: number | undefined;
    while (fd === undefined) {
      try {
        fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENXIO') {
          loader.interrupt();
          await loading.catch(() => {});
          throw err;
        }
        if (settled) {
          await loading;
          throw new Error('DuckDB ended the load without reading its input', { cause: err });
        }
        await sleep(2);
      }
    }
    const out = new Socket({ fd, readable: false, writable: true });
    const segment = new FifoSegment(path, out, loading, loader);
    out.on('error', (err) => (segment.failed ??= err));
    return segment;
  }

  private lastWrite: Promise<void> = Promise.resolve();
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  /** Bytes for the pipe, passed on 1 MB at a time: one write per COPY chunk (~10 KB) doubles this process's CPU. */
  async write(data: Buffer): Promise<void> {
    this.pending.push(data);
    this.pendingBytes += data.length;
    if (this.pendingBytes >= WRITE_BYTES) await this.flush();
  }

  /** One write in flight while the next is gathered: DuckDB always has input waiting. */
  private async flush(): Promise<void> {
    await this.lastWrite;
    if (this.failed) return this.failure();
    if (this.pendingBytes === 0) return;
    const data =
      this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    // The callback runs once the bytes are in the pipe, or with the error (then `failed` is set as well).
    this.lastWrite = new Promise<void>((resolve) => this.out.write(data, () => resolve()));
  }

  /** The statement's own error explains a broken pipe better than EPIPE does. */
  private async failure(): Promise<never> {
    this.out.destroy();
    await this.loading;
    throw this.failed!;
  }

  /** Close the pipe (end of input) and wait for the statement: the rows it loaded. */
  async finish(): Promise<number> {
    try {
      await this.flush();
      await this.lastWrite;
      // Closing the descriptor is DuckDB's end of input (a pipe has no shutdown()).
      this.out.destroy();
      if (this.failed) return await this.failure();
      return await this.loading;
    } finally {
      rmSync(this.path, { force: true });
    }
  }

  /** Cancel: interrupt the statement, and end its input so that a read waiting on the pipe returns. */
  stop(): void {
    this.failed ??= new CancelledError();
    this.loader.interrupt();
    this.out.destroy();
  }
}
