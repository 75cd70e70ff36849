import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isMap, isScalar, isSeq, parseDocument } from 'yaml';
import {
  repoRoot,
  runConformance,
  serverPackages,
  spawnHttpServer,
  tempDir,
  type HttpServer,
} from '@switchyard/testkit';

// Proof with a client no one here wrote: the official MCP conformance suite, in server mode, runs what each spec
// revision requires against every server over Streamable HTTP. What it is expected to fail is checked in at
// conformance/baseline.yml, one check per entry, each with its reason; the suite itself fails the run on a failure
// the baseline does not list and on a listed check that passes (a stale entry).

const REVISIONS = ['2025-11-25', '2026-07-28'] as const;
const EVERY = 'every-server';
const servers = serverPackages();

interface BaselineEntry {
  check: string;
  why: string;
}

/** conformance/baseline.yml: revision → `every-server` or a server's bin name → entries. */
function readBaseline(): Map<string, Map<string, BaselineEntry[]>> {
  const doc = parseDocument(readFileSync(join(repoRoot, 'conformance', 'baseline.yml'), 'utf8'));
  if (doc.errors.length > 0) throw new Error(`conformance/baseline.yml: ${doc.errors[0]!.message}`);
  const out = new Map<string, Map<string, BaselineEntry[]>>();
  if (!isMap(doc.contents)) throw new Error('conformance/baseline.yml: expected a map of revisions');
  for (const revision of doc.contents.items) {
    const sections = new Map<string, BaselineEntry[]>();
    if (!isMap(revision.value)) throw new Error(`${String(revision.key)}: expected a map of servers`);
    for (const section of revision.value.items) {
      if (!isSeq(section.value)) throw new Error(`${String(section.key)}: expected a list of checks`);
      sections.set(
        String(section.key),
        section.value.items.map((item) => ({
          check: isScalar(item) ? String(item.value) : String(item),
          why: (isScalar(item) ? item.comment : undefined)?.trim() ?? '',
        })),
      );
    }
    out.set(String(revision.key), sections);
  }
  return out;
}

const baseline = readBaseline();

/** One server's baselined checks at one revision: every-server's entries and its own. */
function entries(revision: string, server: string): string[] {
  const sections = baseline.get(revision)!;
  return [...(sections.get(EVERY) ?? []), ...(sections.get(server) ?? [])].map((e) => e.check);
}

/** The suite's --expected-failures file for one server at one revision. */
function expectedFailuresFile(
  dir: string,
  revision: string,
  server: string,
  edit = (c: string[]) => c,
): string {
  const checks = edit(entries(revision, server));
  const path = join(dir, `${server}-${revision}.yml`);
  writeFileSync(path, `server:\n${checks.map((c) => `  - ${JSON.stringify(c)}\n`).join('')}`);
  return path;
}

/** The suite's verdict lines (unexpected failures, stale entries), for a failing assertion's message. */
function verdict(stdout: string, stderr: string): string {
  const at = stdout.indexOf('=== SUMMARY ===');
  return `${at >= 0 ? stdout.slice(at) : stdout.slice(-4000)}\n${stderr.slice(-2000)}`;
}

describe('conformance/baseline.yml', () => {
  it('covers both revisions, names known servers, and says why for every entry', () => {
    expect([...baseline.keys()]).toEqual([...REVISIONS]);
    const known = [EVERY, ...servers.map((s) => s.name)];
    for (const [revision, sections] of baseline) {
      for (const [section, entries] of sections) {
        expect(known, `${revision}: unknown section '${section}'`).toContain(section);
        expect(entries.length, `${revision} ${section}: an empty list`).toBeGreaterThan(0);
        for (const entry of entries) {
          // One check, never a whole scenario: the scenario's other checks must still count.
          expect(entry.check, `${revision} ${section}`).toMatch(/^[a-z0-9-]+:[a-z0-9-]+$/);
          expect(entry.why.length, `${revision} ${section} ${entry.check} has no reason`).toBeGreaterThan(10);
        }
        const checks = entries.map((e) => e.check);
        expect(new Set(checks).size, `${revision} ${section}: an entry is listed twice`).toBe(checks.length);
        if (section !== EVERY) {
          const every = new Set(sections.get(EVERY)?.map((e) => e.check));
          for (const c of checks)
            expect(every.has(c), `${revision} ${section}: ${c} is also every-server's`).toBe(false);
        }
      }
    }
  });
});

describe.each(servers.map((p) => [p.name, p.bin] as const))(
  '%s over HTTP, by the conformance suite',
  (name, bin) => {
    let server: HttpServer;
    const { path: dir, cleanup } = tempDir('switchyard-conformance-');
    // Loopback without a key: the suite sends no Authorization header, and loopback is the default bind.
    beforeAll(async () => {
      server = await spawnHttpServer(bin);
    });
    afterAll(async () => {
      expect(await server.stop()).toBe(0);
      cleanup();
    });

    it.each(REVISIONS)('meets what %s requires, but for its baseline', async (revision) => {
      const run = await runConformance(server.url, {
        requirements: revision,
        expectedFailures: expectedFailuresFile(dir, revision, name),
        outputDir: join(dir, `results-${revision}`),
      });
      expect(run.code, verdict(run.stdout, run.stderr)).toBe(0);
      expect(run.stdout).toContain('Baseline check passed');
      // Every entry fired: none names a check that was skipped, absent, or in a scenario this revision does not
      // score (the suite would let such an entry stand without ever judging it).
      const fired = [...run.stdout.matchAll(/^ {2}~ (\S+)$/gm)].map((m) => m[1]);
      expect(fired.sort()).toEqual(entries(revision, name).sort());
    });
  },
);

describe('the baseline is enforced both ways', () => {
  const name = 'odoo-mcp';
  const revision = '2025-11-25';
  let server: HttpServer;
  const { path: dir, cleanup } = tempDir('switchyard-conformance-');
  beforeAll(async () => {
    server = await spawnHttpServer(servers.find((s) => s.name === name)!.bin);
  });
  afterAll(async () => {
    expect(await server.stop()).toBe(0);
    cleanup();
  });

  it('fails on a failure the baseline does not list', async () => {
    const dropped = 'tools-call-simple-text:tools-call-simple-text';
    const run = await runConformance(server.url, {
      requirements: revision,
      expectedFailures: expectedFailuresFile(dir, revision, name, (c) => c.filter((x) => x !== dropped)),
      outputDir: join(dir, 'results-unexpected'),
    });
    expect(run.code).toBe(1);
    // With no entry left for the scenario, the suite names the scenario itself.
    expect(run.stdout).toMatch(new RegExp(`Unexpected failures[^]*✗ ${dropped.split(':')[0]}\\b`));
  });

  it('fails on a baselined check that passes (a stale entry)', async () => {
    // Our tool names are in the spec's format, so this check passes.
    const passing = 'tools-list:tools-name-format';
    const run = await runConformance(server.url, {
      requirements: revision,
      expectedFailures: expectedFailuresFile(dir, revision, name, (c) => [...c, passing]),
      outputDir: join(dir, 'results-stale'),
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(new RegExp(`Stale baseline entries[^]*${passing}`));
  });
});
