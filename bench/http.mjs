// `serve --http` under load on loopback: S concurrent sessions (SDK clients, half in each protocol era) × C tool
// calls each against core's example server, whose tools answer locally. Prints latency (p50/p99), errors,
// answers that were not the caller's own, and the server's resident memory before, at the peak, and after the
// load (following a pause). `node bench/http.mjs [sessions] [calls]` (default 50 × 200).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectHttp, connectStdio, resultText } from '@switchyard/core/client';
import { benchEnv, print, root, round } from './lib.mjs';

const sessions = Number(process.argv[2] ?? 50);
const calls = Number(process.argv[3] ?? 200);
const example = join(root, 'packages', 'core', 'test', 'fixtures', 'example-server.mjs');

function rssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const mb = (key) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)[1]) / 1024;
  return { rss: round(mb('VmRSS')), peak: round(mb('VmHWM')) };
}

async function start(extraEnv) {
  const child = spawn(process.execPath, [example, 'serve', '--http', '127.0.0.1:0'], {
    env: benchEnv(extraEnv),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  const url = await new Promise((resolve, reject) => {
    child.stderr.on('data', (chunk) => {
      err += chunk;
      const found = / listening on (http:\/\/\S+)/.exec(err)?.[1];
      if (found) resolve(found);
    });
    child.once('exit', (code) => reject(new Error(`the server exited (${code}):\n${err}`)));
  });
  return { child, url };
}

function percentile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function load(label, extraEnv) {
  const { child, url } = await start(extraEnv);
  // Warm up (JIT, first server instances) before the baseline is read.
  const warm = await connectHttp({ url });
  for (let i = 0; i < 50; i++)
    await warm.client.callTool({ name: 'example_list_notes', arguments: { limit: 2 } });
  await warm.close();
  await new Promise((r) => setTimeout(r, 500));
  const before = rssMb(child.pid);
  const latencies = [];
  let errors = 0;
  let crossed = 0;
  const errorKinds = new Map();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: sessions }, async (_, s) => {
      let c;
      try {
        c = await connectHttp({ url, era: s % 2 ? 'modern' : 'legacy' });
      } catch (err) {
        // Refused at connect (503 past the concurrency limit): none of this session's calls ran.
        errors += calls;
        const kind = `connect: ${String(err.message).slice(0, 60)}`;
        errorKinds.set(kind, (errorKinds.get(kind) ?? 0) + calls);
        return;
      }
      for (let i = 0; i < calls; i++) {
        // Arguments unique to this session and call: the answer must carry them back.
        const n = 1 + ((s * 7 + i) % 5);
        const t = performance.now();
        try {
          const result = await c.client.callTool({
            name: 'example_slow_count',
            arguments: { n, step_ms: 0 },
          });
          latencies.push(performance.now() - t);
          if (resultText(result) !== `counted to ${n}`) crossed++;
        } catch (err) {
          errors++;
          const kind = String(err.message).slice(0, 60);
          errorKinds.set(kind, (errorKinds.get(kind) ?? 0) + 1);
        }
      }
      await c.close();
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const peak = rssMb(child.pid);
  await new Promise((r) => setTimeout(r, 3000));
  const after = rssMb(child.pid);
  // V8 gives memory back only after a while without allocation (its memory reducer): read it again later.
  await new Promise((r) => setTimeout(r, 27_000));
  const later = rssMb(child.pid);
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  latencies.sort((a, b) => a - b);
  return {
    label,
    sessions,
    callsPerSession: calls,
    calls: sessions * calls,
    ok: latencies.length,
    errors,
    ...(errorKinds.size ? { errorKinds: Object.fromEntries(errorKinds) } : {}),
    notTheirOwn: crossed,
    callsPerSecond: round((sessions * calls) / seconds),
    p50Ms: round(percentile(latencies, 0.5), 2),
    p99Ms: round(percentile(latencies, 0.99), 2),
    rssBeforeMb: before.rss,
    rssPeakMb: peak.peak,
    rssAfterMb: after.rss,
    rssAfter30sMb: later.rss,
  };
}

/** One client calling one after another: what a call costs over each transport and era, in the same run. */
async function sequential(label, connect, n = 200) {
  const c = await connect();
  const call = () => c.client.callTool({ name: 'example_slow_count', arguments: { n: 2, step_ms: 0 } });
  for (let i = 0; i < 30; i++) await call();
  const samples = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await call();
    samples.push(performance.now() - t);
  }
  await c.close();
  samples.sort((a, b) => a - b);
  return {
    label,
    calls: n,
    p50Ms: round(percentile(samples, 0.5), 2),
    p99Ms: round(percentile(samples, 0.99), 2),
  };
}

const http = await start({});
const rows = [];
for (const era of ['legacy', 'modern']) {
  rows.push(
    await sequential(`stdio, ${era}`, () =>
      connectStdio({ command: process.execPath, args: [example], env: benchEnv(), era }),
    ),
    await sequential(`HTTP, ${era}`, () => connectHttp({ url: http.url, era })),
  );
}
http.child.kill('SIGTERM');
print('core: example server, one client calling one after another', rows);

print(
  `core: example server over HTTP, ${sessions} sessions × ${calls} calls (half 2025-era, half 2026-07-28)`,
  [
    await load('concurrency limit raised to 64', { SWITCHYARD_HTTP_MAX_CONCURRENT: '64' }),
    await load('default concurrency limit (16): the rest get 503', {}),
  ],
);
