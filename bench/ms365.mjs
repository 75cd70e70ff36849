// ms365-mcp figures: spawn → tools/list against bare node, tools/list bytes with every toolset, bytes of
// ms365_list_messages for 10 realistic messages (and what Graph itself sends for them), and the latency a
// tool call adds over calling the local fake Graph directly. Printed, never asserted.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { benchEnv, compareStartup, print, root, round, stats } from './lib.mjs';

const pkg = join(root, 'packages', 'ms365-mcp');
const bin = join(pkg, 'dist', 'bin.js');

// The fake Graph is TypeScript test code: bundle it next to the results so it resolves @switchyard/testkit.
const outDir = join(root, 'bench', 'results');
mkdirSync(outDir, { recursive: true });
const fakeModule = join(outDir, 'ms365-fake.mjs');
await build({
  entryPoints: [join(pkg, 'test', 'fake', 'graph.ts')],
  outfile: fakeModule,
  bundle: true,
  packages: 'external',
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
});
const { FakeGraph } = await import(fakeModule);
const { FakeAuthority, testCertificate } = await import('@switchyard/testkit');
const { connectStdio, resultText } = await import('@switchyard/core/client');

const ALICE = 'alice@contoso.com';
const authority = await FakeAuthority.start();
authority.addApp({ clientId: 'bench-app' });
authority.addUser({ username: ALICE, name: 'Alice Example' });
const graph = await FakeGraph.start(authority);
const cert = await testCertificate();
// This process talks to the fake directly too (the baseline), trusting its throw-away certificate.
const { Agent, request } = await import('undici');
const dispatcher = new Agent({ connect: { ca: cert.cert } });
const get = async (url, headers) => {
  const res = await request(url, { headers, dispatcher });
  return res.body.text();
};

// Realistic mail: 152-character ids, named senders, long subjects, HTML bodies with previews of 255 characters.
const box = graph.mailbox(ALICE);
const senders = [
  { name: 'Carol Danvers', address: 'carol.danvers@fabrikam.com' },
  { name: 'Dave Lister', address: 'dave@northwind.example' },
  { name: 'Eve Moneypenny', address: 'eve.moneypenny@contoso.com' },
];
for (let i = 0; i < 30; i++) {
  box.add({
    subject: `RE: Quarterly budget review for the regional sales teams, item ${i + 1} (action needed)`,
    from: senders[i % 3],
    received: Date.now() - i * 3_600_000,
    isRead: i % 3 !== 0,
    importance: i % 5 === 0 ? 'high' : 'normal',
    body: {
      contentType: 'html',
      content: `<html><body><p>Hi Alice,</p><p>Please find the numbers for item ${i + 1} below. The regional teams have submitted their forecasts and we need your sign-off by Friday, so that finance can close the quarter without another round of corrections. ${'Details follow in the attached workbook. '.repeat(20)}</p></body></html>`,
    },
  });
}

const token = authority.mint({
  username: ALICE,
  scopes: [
    'User.Read',
    'Mail.ReadWrite',
    'Mail.Send',
    'Calendars.ReadWrite',
    'Files.ReadWrite.All',
    'Sites.Read.All',
  ],
});
const env = benchEnv({
  MS365_GRAPH_URL: graph.url,
  AZURE_AUTHORITY_HOST: authority.host,
  MS365_ACCESS_TOKEN: token,
  NODE_EXTRA_CA_CERTS: cert.certPath,
});

// 1. Start-up and tools/list size.
const startup = await compareStartup('ms365-mcp (every toolset)', process.execPath, [bin], { env });
const readOnly = await compareStartup('ms365-mcp --read-only', process.execPath, [bin, '--read-only'], {
  env,
  runs: 5,
});
print('ms365: spawn → tools/list (target ≤ 2.5 × bare node; tools/list ≤ 16 KB)', [
  startup,
  { label: readOnly.label, tools: readOnly.tools, toolsListBytes: readOnly.toolsListBytes },
]);

// 2. Ten messages: our answer against Graph's own JSON for the same messages.
const conn = await connectStdio({ command: process.execPath, args: [bin], env });
const listed = await conn.client.callTool({ name: 'ms365_list_messages', arguments: { top: 10 } });
const ourBytes = Buffer.byteLength(JSON.stringify(listed));
const direct = async (query) => {
  return Buffer.byteLength(
    await get(`${graph.url}/me/mailFolders/inbox/messages?${query}`, { authorization: `Bearer ${token}` }),
  );
};
print('ms365: ms365_list_messages for 10 messages (target ≤ 4 KB)', {
  toolResultBytes: ourBytes,
  textLines: resultText(listed).split('\n').length,
  graphJsonWithSelectBytes: await direct(
    '$top=10&$select=id,subject,from,receivedDateTime,bodyPreview,isRead,hasAttachments,importance,flag',
  ),
  graphJsonFullBytes: await direct('$top=10'),
});

// 3. Added latency per call: the tool through stdio against the same request straight to the fake, with a
// supplied token and with a real sign-in (msal-node's silent path and the shared token cache on every call).
const { runBin } = await import('@switchyard/testkit');
const signedEnv = benchEnv({
  MS365_GRAPH_URL: graph.url,
  AZURE_AUTHORITY_HOST: authority.host,
  MS365_CLIENT_ID: 'bench-app',
  NODE_EXTRA_CA_CERTS: cert.certPath,
});
authority.autoApproveAs = ALICE;
const login = await runBin(bin, ['login'], { env: signedEnv });
if (login.code !== 0) throw new Error(`login failed: ${login.stderr}`);
const signed = await connectStdio({ command: process.execPath, args: [bin], env: signedEnv });

const query =
  '$select=id,subject,from,receivedDateTime,bodyPreview,isRead,hasAttachments,importance,flag&$top=10&$orderby=receivedDateTime%20desc';
const direct10 = () =>
  get(`${graph.url}/me/mailFolders/inbox/messages?${query}`, {
    authorization: `Bearer ${token}`,
    prefer: 'IdType="ImmutableId"',
  });
const runs = 60;
const samples = { supplied: [], signedIn: [], direct: [] };
const timed = async (list, fn) => {
  const t = performance.now();
  await fn();
  list.push(performance.now() - t);
};
for (let i = 0; i < 5; i++) {
  await conn.client.callTool({ name: 'ms365_list_messages', arguments: {} });
  await signed.client.callTool({ name: 'ms365_list_messages', arguments: {} });
  await direct10();
}
for (let i = 0; i < runs; i++) {
  await timed(samples.direct, direct10);
  await timed(samples.supplied, () => conn.client.callTool({ name: 'ms365_list_messages', arguments: {} }));
  await timed(samples.signedIn, () => signed.client.callTool({ name: 'ms365_list_messages', arguments: {} }));
}
if (process.env.BENCH_SHOW) process.stdout.write(`${resultText(listed)}\n`);
await conn.close();
await signed.close();
const d = stats(samples.direct);
const row = (label, list) => {
  const s = stats(list);
  return {
    label,
    calls: runs,
    toolMedianMs: round(s.median, 2),
    toolP90Ms: round(s.p90, 2),
    directGraphMedianMs: round(d.median, 2),
    addedMedianMs: round(s.median - d.median, 2),
  };
};
print('ms365: added latency per call over the local fake (target ≤ 5 ms median)', [
  row('MS365_ACCESS_TOKEN', samples.supplied),
  row('signed in (device code; token held in memory, msal to refresh)', samples.signedIn),
]);

await dispatcher.close();
await graph.close();
await authority.close();
