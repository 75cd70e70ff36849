// Start-up of every server (spawn → tools/list answered, and resident memory then) beside a bare node responder
// and the reference @modelcontextprotocol/server-postgres, on Node 20 (this node) and Node 22 (.cache/node22,
// `node scripts/node22.mjs`), in both protocol eras. Rounds are interleaved: each round starts every process once,
// in a rotating order, so that machine noise hits all alike. Then the first answer that needs the server's code
// (a resource read right after tools/list), with the quick start and without it (SWITCHYARD_QUICK_START=off).
//   node bench/startup.mjs [--rounds N] [--era legacy|modern] [--before <root>]
// --before adds the servers built in another checkout (its packages/<server>/dist, e.g. a copy of an earlier
// build kept under this repository so that it finds the same node_modules) to the same rounds.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  bareResponder,
  benchEnv,
  print,
  root,
  round,
  spawnToFirstRead,
  spawnToToolsList,
  stats,
} from './lib.mjs';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '11' },
    era: { type: 'string', multiple: true },
    before: { type: 'string' },
  },
});
const rounds = Number(values.rounds);
const eras = values.era ?? ['legacy', 'modern'];
const node22 = join(root, '.cache', 'node22', 'node_modules', 'node', 'bin', 'node');
const nodes = [['node20', process.execPath]];
if (existsSync(node22)) nodes.push(['node22', node22]);
else process.stderr.write('Node 22 is not installed (node scripts/node22.mjs): measuring Node 20 only\n');

const bin = (pkg, from = root) => join(from, 'packages', pkg, 'dist', 'bin.js');
const postgresBin = createRequire(join(root, 'package.json')).resolve(
  '@modelcontextprotocol/server-postgres/dist/index.js',
);
const subjects = [
  // server-postgres connects on first query, not at start: an address nobody listens on is enough for tools/list.
  { label: 'server-postgres', args: [postgresBin, 'postgresql://127.0.0.1:9/none'], eras: ['legacy'] },
  { label: 'powerbi-mcp', args: [bin('powerbi-mcp')] },
  { label: 'lakehouse-mcp', args: [bin('lakehouse-mcp')] },
  { label: 'ms365-mcp', args: [bin('ms365-mcp')] },
  { label: 'odoo-mcp', args: [bin('odoo-mcp'), '--allow-writes'] },
];
if (values.before) {
  for (const s of subjects.filter((s) => s.label.endsWith('-mcp'))) {
    subjects.push({
      label: `${s.label} (before)`,
      args: [bin(s.label, values.before), ...s.args.slice(1)],
    });
  }
}

for (const [nodeName, node] of nodes) {
  for (const era of eras) {
    const runnable = subjects.filter((s) => !s.eras || s.eras.includes(era));
    const all = [{ label: 'bare node', args: [bareResponder] }, ...runnable];
    const ms = new Map(all.map((s) => [s.label, []]));
    const rss = new Map(all.map((s) => [s.label, []]));
    const tools = new Map();
    for (const s of all) await spawnToToolsList(node, s.args, benchEnv(), era); // warm the file and compile caches
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < all.length; i++) {
        const s = all[(i + r) % all.length];
        const got = await spawnToToolsList(node, s.args, benchEnv(), era, { rss: true });
        ms.get(s.label).push(got.ms);
        rss.get(s.label).push(got.rssMb);
        tools.set(s.label, got.tools);
      }
    }
    const bare = stats(ms.get('bare node'));
    const peer = ms.has('server-postgres') ? stats(ms.get('server-postgres')).median : undefined;
    print(
      `start-up on ${nodeName} (${era} opening), ${rounds} interleaved rounds`,
      all.map((s) => {
        const t = stats(ms.get(s.label));
        return {
          label: s.label,
          tools: tools.get(s.label),
          medianMs: round(t.median),
          p90Ms: round(t.p90),
          minMs: round(t.min),
          xBare: round(t.median / bare.median, 2),
          ...(peer && s.label !== 'bare node' ? { xPostgres: round(t.median / peer, 2) } : {}),
          rssMb: round(stats(rss.get(s.label)).median),
        };
      }),
    );
  }
}

// A call right after start: the quick start answers the opening, then the server loads for the call.
for (const [nodeName, node] of nodes) {
  const servers = subjects.filter((s) => s.label.endsWith('-mcp'));
  const runs = servers.flatMap((s) => [
    { label: s.label, args: s.args, env: {} },
    { label: `${s.label} (quick start off)`, args: s.args, env: { SWITCHYARD_QUICK_START: 'off' } },
  ]);
  const ms = new Map(runs.map((r) => [r.label, []]));
  for (const r of runs) await spawnToFirstRead(node, r.args, benchEnv(r.env));
  for (let round_ = 0; round_ < rounds; round_++) {
    for (let i = 0; i < runs.length; i++) {
      const r = runs[(i + round_) % runs.length];
      ms.get(r.label).push((await spawnToFirstRead(node, r.args, benchEnv(r.env))).ms);
    }
  }
  print(
    `spawn → opening → first answer that needs the server (resources/read) on ${nodeName}, ${rounds} interleaved rounds`,
    runs.map((r) => {
      const t = stats(ms.get(r.label));
      return { label: r.label, medianMs: round(t.median), p90Ms: round(t.p90), minMs: round(t.min) };
    }),
  );
}
