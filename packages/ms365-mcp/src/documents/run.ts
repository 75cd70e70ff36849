/**
 * Runs an extraction in a worker thread, so that a hostile file cannot hold the server: the thread gets a heap
 * limit, a time limit and a watch on the process's resident memory (PDF.js keeps decoded streams outside the
 * heap), and is ended when any is crossed or the tool call is cancelled. Its stdout is never the server's.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ExtractLimits, Extracted } from './types.js';

export const EXTRACT_TIMEOUT_MS = 30_000;
const HEAP_MB = 512;
/** Resident memory the worker may add to the process before it is ended. */
const RSS_GROWTH = 1024 * 1024 * 1024;

export class ExtractError extends Error {
  constructor(
    message: string,
    /** `NotADocument`: the bytes are an ordinary archive; anything else: the file could not be read. */
    readonly kind: string,
  ) {
    super(message);
  }
}

/** Beside the bundle (dist/document-worker.js, also from dist/chunks/) or the compiled module. */
function workerPath(): string {
  const found = [
    './document-worker.js',
    '../document-worker.js',
    './worker.js',
    // Tests that import the sources run the compiled worker.
    '../../dist/documents/worker.js',
  ]
    .map((rel) => fileURLToPath(new URL(rel, import.meta.url)))
    .find((path) => existsSync(path));
  if (!found)
    throw new ExtractError('the text reader of ms365-mcp is missing from its installation', 'Missing');
  return found;
}

export function extractInWorker(
  bytes: Uint8Array,
  sniffed: 'pdf' | 'zip',
  limits: ExtractLimits,
  signal?: AbortSignal,
  timeoutMs = EXTRACT_TIMEOUT_MS,
): Promise<Extracted> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerPath(), {
      workerData: { bytes, sniffed, limits },
      resourceLimits: { maxOldGenerationSizeMb: HEAP_MB, maxYoungGenerationSizeMb: 64 },
      stdout: true,
      stderr: true,
    });
    // Whatever the libraries print goes nowhere: the server's stdout is the protocol.
    worker.stdout.resume();
    worker.stderr.resume();
    const baseline = process.memoryUsage.rss();
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearInterval(watch);
      signal?.removeEventListener('abort', onAbort);
      void worker.terminate();
      fn();
    };
    const fail = (message: string, kind = 'Limit') => finish(() => reject(new ExtractError(message, kind)));
    const timer = setTimeout(() => fail(`reading it took longer than ${timeoutMs / 1000} s`), timeoutMs);
    const watch = setInterval(() => {
      if (process.memoryUsage.rss() - baseline > RSS_GROWTH)
        fail('reading it needed more than 1 GB of memory');
    }, 100);
    const onAbort = () => fail('the call was cancelled', 'Cancelled');
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.once('message', (m: { result?: Extracted; error?: { name: string; message: string } }) => {
      if (m.result) finish(() => resolve(m.result!));
      else fail(m.error?.message ?? 'it could not be read', m.error?.name ?? 'Error');
    });
    worker.once('error', (err: Error & { code?: string }) =>
      fail(
        err.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? `reading it needed more than ${HEAP_MB} MB of memory`
          : `it could not be read (${err.message})`,
      ),
    );
    worker.once('exit', (code) => fail(`the text reader stopped (exit code ${code})`));
  });
}
