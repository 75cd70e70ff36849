/** The worker thread that extracts one document's text (run.ts starts it with limits on time and memory). */
import { parentPort, workerData } from 'node:worker_threads';
import { extractDocument } from './extract.js';
import type { ExtractLimits } from './types.js';

const job = workerData as { bytes: Uint8Array; sniffed: 'pdf' | 'zip'; limits: ExtractLimits };
extractDocument(job.bytes, job.sniffed, job.limits).then(
  (result) => parentPort!.postMessage({ result }),
  (err: Error) => parentPort!.postMessage({ error: { name: err.name, message: err.message } }),
);
