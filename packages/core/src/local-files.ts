/**
 * The one policy for local files a tool reads or writes on a model's behalf: only under allowed roots. A prompt
 * injected through mail or a file must not be able to send `/etc/shadow` out or drop a `.pth` into site-packages.
 */
import { access, constants, lstat, mkdir, open, realpath, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, delimiter, dirname, extname, isAbsolute, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { CliContext } from './cli.js';
import { PermissionError, UserInputError } from './errors.js';
import { switchyardPaths, type SwitchyardPaths } from './paths.js';

/** Folders no tool reads or writes, whatever the roots: the kernel's and the devices' views, Switchyard's own. */
const SYSTEM_DENIED = ['/proc', '/sys', '/dev'];

/** `~` and `~/x` → the home folder; anything else is returned unchanged. */
export function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path;
}

/** A folder list as people write it: comma- or path-delimiter-separated (`:` on POSIX, `;` on Windows). */
export function splitDirList(value: string | undefined): string[] {
  if (!value) return [];
  return value
    .split(new RegExp(`[,${delimiter === ';' ? ';' : ':'}]`))
    .map((s) => s.trim())
    .filter(Boolean);
}

export interface LocalFile {
  /** The real path (links resolved) that was checked and will be read. */
  path: string;
  /** The name the caller gave (a link keeps its own name). */
  name: string;
  size: number;
  mtimeMs: number;
}

export interface LocalFilesOptions {
  /** The server's name, e.g. `ms365-mcp`: names the default download folder and the errors. */
  server: string;
  /** Its env prefix, e.g. `MS365`, for `<PREFIX>_ALLOWED_DIRS` in the errors. */
  envPrefix: string;
  /** Roots the user allowed explicitly (`--allow-dir`, `SWITCHYARD_ALLOWED_DIRS`, `<PREFIX>_ALLOWED_DIRS`). */
  allowDirs?: string[];
  /** Replaces the default download folder `~/Downloads/<server>` (e.g. `MS365_DOWNLOAD_DIR`). */
  downloadDir?: string | undefined;
  /** More roots for reading only (e.g. `LAKEHOUSE_FILE_ROOTS`). */
  readRoots?: string[];
  /** More folders never to touch (e.g. the lakehouse's own home). */
  denied?: string[];
  /** Switchyard's own folders (default: from the environment); always refused. */
  paths?: SwitchyardPaths;
  env?: NodeJS.ProcessEnv;
}

interface Root {
  /** As configured (with `~` expanded), for messages. */
  shown: string;
  /** Links resolved as far as the folder exists. */
  real: string;
}

/**
 * Where a server's tools may read and write local files. Reads: under the download folder, the allowed
 * roots and any read-only roots. Writes: into a folder under the download folder or an allowed root. Links are
 * resolved before the check, `..` is refused, hidden files and folders below a root are refused, and
 * `/proc`, `/sys`, `/dev` and Switchyard's own folders are refused even under a root.
 */
export class LocalFiles {
  readonly server: string;
  readonly envPrefix: string;
  readonly downloadDir: string;
  /** Read and write roots, as configured (the download folder first). */
  readonly writeRoots: string[];
  /** Every root a file may be read from. */
  readonly readRoots: string[];
  /** Folders refused even under a root. */
  readonly denied: string[];

  constructor(options: LocalFilesOptions) {
    this.server = options.server;
    this.envPrefix = options.envPrefix;
    this.downloadDir = rootPath(
      options.downloadDir || join('~', 'Downloads', options.server),
      'download folder',
    );
    const allowed = (options.allowDirs ?? []).map((d) => rootPath(d, '--allow-dir'));
    this.writeRoots = unique([this.downloadDir, ...allowed]);
    this.readRoots = unique([
      ...this.writeRoots,
      ...(options.readRoots ?? []).map((d) => rootPath(d, 'read root')),
    ]);
    const paths = options.paths ?? switchyardPaths(options.env ?? process.env);
    this.denied = unique([
      ...SYSTEM_DENIED,
      paths.config,
      paths.data,
      paths.cache,
      ...(options.denied ?? []),
    ]).map((d) => resolve(expandHome(d)));
  }

  /** One line for every server's `status`: where tools may read and save, and how to allow more. */
  describe(): string {
    const extra = this.readRoots.filter((r) => !this.writeRoots.includes(r));
    return `local files are read and saved under ${this.writeRoots.join(', ')}${
      extra.length ? `, and read under ${extra.join(', ')}` : ''
    } (--allow-dir, ${this.envPrefix}_ALLOWED_DIRS or SWITCHYARD_ALLOWED_DIRS add folders)`;
  }

  /** A local file a tool may read (to upload, attach or load): checked against the policy, then stat'ed. */
  async readable(path: string, field = 'The file'): Promise<LocalFile> {
    const given = this.lexical(path, field, 'read');
    const { real, missing } = await resolveExisting(given);
    const full = join(real, ...missing);
    this.check(path, given, full, await this.roots('read'), 'read');
    if (missing.length > 0) {
      throw new UserInputError(`The local file '${given}' does not exist`, {
        hint: 'Check the path; it must be a file on the machine where the server runs',
      });
    }
    const info = await stat(real);
    if (!info.isFile()) {
      throw new UserInputError(
        `The local path '${given}' is not a file that can be read (it is a folder, a device, a pipe or a socket)`,
        { hint: 'Name a regular file' },
      );
    }
    try {
      await access(real, constants.R_OK);
    } catch {
      throw new UserInputError(`The local file '${given}' cannot be read (permission denied)`, {
        hint: 'Give the server’s user read access to it, or copy it somewhere readable',
      });
    }
    return { path: real, name: basename(given), size: info.size, mtimeMs: info.mtimeMs };
  }

  /**
   * The folder to save into (the download folder when none is given), checked against the write roots and
   * created when missing, one level at a time with mode 0700. Returns its real path.
   */
  async folder(folder: string | undefined, field = 'folder'): Promise<string> {
    const given = folder ? this.lexical(folder, field, 'write') : this.downloadDir;
    const { real, missing } = await resolveExisting(given);
    this.check(folder ?? given, given, join(real, ...missing), await this.roots('write'), 'write');
    let current = real;
    if (missing.length === 0) {
      if (!(await stat(real)).isDirectory()) {
        throw new UserInputError(`The local path '${given}' is not a folder`, {
          hint: 'Name a folder to save into',
        });
      }
    }
    for (const part of missing) {
      current = join(current, part);
      try {
        await mkdir(current, { mode: 0o700 });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        // Created meanwhile: it must be a real folder, not a link planted to lead elsewhere.
        if (!(await lstat(current)).isDirectory()) {
          throw new PermissionError(`'${current}' appeared as a link or file while its folder was created`);
        }
      }
    }
    // Nothing swapped on the way: the folder is where it was checked to be.
    if ((await realpath(current)) !== current) {
      throw new PermissionError(`'${given}' changed while it was being created; nothing was saved`);
    }
    return current;
  }

  /** Save a stream as `name` in a folder from `folder()`, never overwriting and never following a link. */
  save(body: Readable, dir: string, name: string): Promise<{ path: string; bytes: number }> {
    return saveStream(body, dir, name);
  }

  private lexical(path: string, field: string, mode: 'read' | 'write'): string {
    const expanded = expandHome(path);
    if (!isAbsolute(expanded)) {
      throw new UserInputError(
        `${field} '${path}' is not an absolute path: give the full path, e.g. ${join(this.writeRoots[0]!, 'report.pdf')}; ${this.whereSentence(mode)}`,
      );
    }
    if (expanded.split(/[/\\]/).includes('..')) {
      throw new PermissionError(`'${path}' contains '..', which is refused: ${this.whereSentence(mode)}`);
    }
    return resolve(expanded);
  }

  /** Under a root, not in a refused folder, nothing hidden below the root: else one sentence saying why. */
  private check(
    path: string,
    given: string,
    full: string,
    { roots, denied }: { roots: Root[]; denied: Root[] },
    mode: 'read' | 'write',
  ): void {
    const shown = full === given ? `'${path}'` : `'${path}' (which leads to ${full})`;
    const refused = denied.find((d) => within(full, d.real) || within(given, d.shown));
    if (refused) {
      throw new PermissionError(
        `${shown} is in ${refused.shown}, which Switchyard never reads or writes: ${this.whereSentence(mode)}`,
      );
    }
    const containing = roots.filter((r) => within(full, r.real));
    if (containing.length === 0) {
      throw new PermissionError(`${shown} is outside the allowed folders: ${this.whereSentence(mode)}`);
    }
    const visible = containing.some(
      (r) =>
        !full
          .slice(r.real.length)
          .split(sep)
          .some((part) => part.startsWith('.')),
    );
    if (!visible) {
      throw new PermissionError(
        `${shown} is hidden or in a hidden folder, and those are refused: ${this.whereSentence(mode)}`,
      );
    }
  }

  private whereSentence(mode: 'read' | 'write'): string {
    const roots = mode === 'read' ? this.readRoots : this.writeRoots;
    return `${this.server} ${mode === 'read' ? 'reads local files' : 'saves files'} only under ${roots.join(', ')}; allow another folder with --allow-dir <folder> or ${this.envPrefix}_ALLOWED_DIRS`;
  }

  /** The roots and refused folders with links resolved, on every use: a root may appear after start-up. */
  private async roots(mode: 'read' | 'write'): Promise<{ roots: Root[]; denied: Root[] }> {
    const real = (list: string[]) =>
      Promise.all(
        list.map(async (shown) => {
          const r = await resolveExisting(shown);
          return { shown, real: join(r.real, ...r.missing) };
        }),
      );
    const [roots, denied] = await Promise.all([
      real(mode === 'read' ? this.readRoots : this.writeRoots),
      real(this.denied),
    ]);
    return { roots, denied };
  }
}

/**
 * The policy of a server started from the command line: `--allow-dir` and its env variables (already
 * gathered by the CLI), Switchyard's folders from the environment, plus what the server adds.
 */
export function localFilesFor(
  ctx: CliContext,
  extra: Pick<LocalFilesOptions, 'downloadDir' | 'readRoots' | 'denied'> = {},
): LocalFiles {
  return new LocalFiles({
    server: ctx.name,
    envPrefix: ctx.envPrefix,
    allowDirs: (ctx.options.allowDir as string[] | undefined) ?? [],
    paths: ctx.paths,
    env: ctx.env,
    ...extra,
  });
}

/** A root from configuration: `~` expanded, absolute, without `..`. */
function rootPath(dir: string, what: string): string {
  const expanded = expandHome(dir.trim());
  if (!isAbsolute(expanded) || expanded.split(/[/\\]/).includes('..')) {
    throw new UserInputError(`The ${what} '${dir}' is not an absolute path without '..'`, {
      hint: 'Give the full path of the folder, e.g. ~/Documents/exports',
    });
  }
  return resolve(expanded);
}

function unique(list: string[]): string[] {
  return list.filter((p, i) => list.indexOf(p) === i);
}

function within(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

/** The real path of the nearest existing ancestor of `path`, and the names below it that do not exist yet. */
async function resolveExisting(path: string): Promise<{ real: string; missing: string[] }> {
  const missing: string[] = [];
  let current = path;
  for (;;) {
    try {
      return { real: await realpath(current), missing };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const parent = dirname(current);
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || parent === current) throw err;
      missing.unshift(basename(current));
      current = parent;
    }
  }
}

/** Read `length` bytes of a file from `position`, without following a link planted after the check. */
export async function readSlice(path: string, position: number, length: number): Promise<Buffer> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, position);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** A name from upstream (an attachment, a drive item) made safe to save: no folders, no reserved characters. */
export function safeFileName(name: string | undefined, fallback = 'download'): string {
  const last = (name ?? '').split(/[/\\]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  let clean = last.replace(/[\u0000-\u001f\u007f<>:"|?*]/g, '_').replace(/^[.\s]+|[.\s]+$/g, '');
  if (!clean) clean = fallback;
  if (clean.length > 150) {
    const ext = extname(clean).slice(0, 20);
    clean = clean.slice(0, 150 - ext.length) + ext;
  }
  return clean;
}

/** A file name the caller chose: a plain name, never a path that could climb out of the folder. */
export function plainFileName(name: string, field = 'save_as'): string {
  if (/[/\\]/.test(name) || name === '.' || name === '..' || name.includes('\0') || !name.trim()) {
    throw new UserInputError(`${field} '${name}' is not a plain file name`, {
      hint: 'Give only a name such as report.pdf; choose the folder with the folder argument',
    });
  }
  return safeFileName(name);
}

/**
 * Save a stream as `name` in `dir` without ever overwriting: an existing name gets " (1)", " (2)", ...
 * The file is created exclusively (a link at the name is not followed), and removed when the copy fails.
 */
export async function saveStream(
  body: Readable,
  dir: string,
  name: string,
): Promise<{ path: string; bytes: number }> {
  if (name !== safeFileName(name)) throw new UserInputError(`'${name}' is not a plain, visible file name`);
  const ext = extname(name);
  const stem = name.slice(0, name.length - ext.length);
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  for (let n = 0; n < 1000; n++) {
    const path = join(dir, n === 0 ? name : `${stem} (${n})${ext}`);
    let handle;
    try {
      handle = await open(path, flags, 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw err;
    }
    let bytes = 0;
    body.on('data', (chunk: Buffer) => (bytes += chunk.length));
    try {
      await pipeline(body, handle.createWriteStream());
    } catch (err) {
      await handle.close().catch(() => undefined);
      await rm(path, { force: true });
      throw err;
    }
    return { path, bytes };
  }
  throw new UserInputError(`Too many files named '${name}' exist in ${dir}`, {
    hint: 'Pass save_as or another folder',
  });
}
