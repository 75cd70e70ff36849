import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { AuditLog, auditValue, type AuditEntry } from '@switchyard/core';
import { runBin, spawnHttpServer, spawnServer, tempDir, isolatedEnv } from '@switchyard/testkit';

const bin = fileURLToPath(new URL('./fixtures/example-server.mjs', import.meta.url));
const KEY = 'audit-key-0123456789abcdef-XYZ';
const dir = tempDir('switchyard-audit-');
afterAll(() => dir.cleanup());

/** The secrets a caller puts in arguments: none may reach the file. */
const PATTERN_SECRET = 'pa55-in-a-note-7f3e9a';
const FIELD_SECRET = 'client-secret-value-4b1d7c';

function lines(path: string): AuditEntry[] {
  return readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as AuditEntry);
}

describe('what the audit log keeps of arguments', () => {
  it('masks secret-named fields, keeps only the length of bodies, cuts long strings with their length', () => {
    const sql = `SELECT ${'col, '.repeat(100)}x FROM t`;
    expect(
      auditValue({
        id: '42',
        password: 'hunter2hunter2',
        api_key: 'k',
        client_secret: FIELD_SECRET,
        body: 'Dear Bob, the merger closes Friday.',
        query: sql,
        note: `my password=${PATTERN_SECRET} is here`,
        nested: { refresh_token: 'r', to: ['a@example.com'] },
        limit: 10,
        empty_token: '',
      }),
    ).toEqual({
      id: '42',
      password: '[redacted]',
      api_key: '[redacted]',
      client_secret: '[redacted]',
      body: '[35 chars]',
      query: `${sql.slice(0, 200)}… [${sql.length} chars]`,
      note: 'my password=[redacted] is here',
      nested: { refresh_token: '[redacted]', to: ['a@example.com'] },
      limit: 10,
      empty_token: '',
    });
  });

  it('bounds lists and depth', () => {
    const many = Array.from({ length: 30 }, (_, i) => i);
    expect(auditValue({ ids: many })).toEqual({ ids: [...many.slice(0, 20), '… [30 items]'] });
    expect(auditValue({ a: { b: { c: { d: { e: 1 } } } } })).toEqual({ a: { b: { c: { d: '[object]' } } } });
  });
});

describe('the audit file', () => {
  const entry = (i: number): AuditEntry => ({
    time: new Date(0).toISOString(),
    principal: 'key',
    tool: 'example_get_note',
    arguments: { id: String(i), pad: 'x'.repeat(150) },
    outcome: 'ok',
    duration_ms: 1,
    result_bytes: 10,
  });

  it('is created 0600 (and narrowed to 0600 if it existed wider), and rotated by size keeping 3', () => {
    const path = join(dir.path, 'rotate.jsonl');
    writeFileSync(path, '', { mode: 0o644 });
    const log = new AuditLog({ path, maxBytes: 1000 });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    for (let i = 0; i < 40; i++) log.write(entry(i));
    for (const file of [path, `${path}.1`, `${path}.2`, `${path}.3`]) {
      expect(existsSync(file), file).toBe(true);
      expect(statSync(file).size).toBeLessThanOrEqual(1000);
      expect(statSync(file).mode & 0o777, file).toBe(0o600);
    }
    expect(existsSync(`${path}.4`)).toBe(false);
    // The newest entries are in the live file, the ones just before in .1, with nothing lost between them.
    const live = lines(path).map((e) => Number((e.arguments as { id: string }).id));
    const previous = lines(`${path}.1`).map((e) => Number((e.arguments as { id: string }).id));
    expect(live.at(-1)).toBe(39);
    expect(previous.at(-1)! + 1).toBe(live[0]);
  });

  it('refuses a path it cannot create at start, with the reason', () => {
    expect(() => new AuditLog({ path: join(dir.path, 'no', 'such', 'dir', 'a.jsonl') })).toThrow(
      /^Cannot write the audit log .*a\.jsonl \(its folder does not exist\); give a file in a folder this user can write$/,
    );
  });
});

describe('every tool call lands in the audit log, with no secret in it', () => {
  it('over stdio: the OS user, the outcome and the sizes', async () => {
    const path = join(dir.path, 'stdio.jsonl');
    const server = await spawnServer(bin, { args: ['--audit-log', path] });
    try {
      await server.call('example_add_note', { text: `remember: password=${PATTERN_SECRET}` });
      await server.call('example_get_note', { id: 'nope' });
      await server.call('example_get_note', { id: '1', client_secret: FIELD_SECRET });
      await server.call('example_fail_badly', { mode: 'throw' });
    } finally {
      await server.close();
    }
    const text = readFileSync(path, 'utf8');
    expect(text).not.toContain(PATTERN_SECRET);
    expect(text).not.toContain(FIELD_SECRET);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const entries = lines(path);
    expect(entries.map((e) => [e.tool, e.outcome])).toEqual([
      ['example_add_note', 'ok'],
      ['example_get_note', 'not_found'],
      ['example_get_note', 'error'],
      ['example_fail_badly', 'unexpected'],
    ]);
    for (const e of entries) {
      expect(e.principal).toBe(`os:${userInfo().username}`);
      expect(e.duration_ms).toBeGreaterThanOrEqual(0);
      expect(e.result_bytes).toBeGreaterThan(0);
      expect(Date.parse(e.time)).not.toBeNaN();
    }
    expect(entries[0]!.arguments).toEqual({ text: 'remember: password=[redacted]' });
    expect(entries[2]!.arguments).toEqual({ id: '1', client_secret: '[redacted]' });
  });

  it('over HTTP, in both eras: the principal "key", and neither the arguments’ secrets nor the key', async () => {
    const path = join(dir.path, 'http.jsonl');
    const server = await spawnHttpServer(bin, {
      args: ['--audit-log', path],
      env: { SWITCHYARD_HTTP_KEY: KEY },
    });
    try {
      for (const era of ['legacy', 'modern'] as const) {
        const c = await server.connect({ era, key: KEY });
        await c.call('example_list_notes', { limit: 1 });
        await c.call('example_add_note', { text: `token: ${PATTERN_SECRET} and ${KEY}` });
        await c.call('example_get_note', { id: '1', client_secret: FIELD_SECRET });
        await c.close();
      }
    } finally {
      expect(await server.stop()).toBe(0);
    }
    const text = readFileSync(path, 'utf8');
    for (const secret of [PATTERN_SECRET, FIELD_SECRET, KEY]) expect(text).not.toContain(secret);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const entries = lines(path);
    expect(entries.map((e) => [e.principal, e.tool, e.outcome])).toEqual(
      [1, 2].flatMap(() => [
        ['key', 'example_list_notes', 'ok'],
        ['key', 'example_add_note', 'ok'],
        ['key', 'example_get_note', 'error'],
      ]),
    );
  });

  it('refuses an audit log path it cannot write, in one sentence, before serving', async () => {
    const run = await runBin(bin, ['--audit-log', join(dir.path, 'missing', 'a.jsonl')], {
      env: isolatedEnv(),
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('example-mcp: Cannot write the audit log ');
    expect(run.stderr).toContain('(its folder does not exist); give a file in a folder this user can write');
    expect(run.stderr).not.toContain('unexpected error');
  });
});
