import { createWriteStream } from 'node:fs';
import { access, constants, mkdir, open, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, extname, isAbsolute, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { UserInputError } from '@switchyard/core';

/** `~/x` → the home folder; anything else must already be absolute (the server's cwd is the host's). */
function expand(path: string, field: string): string {
  const p = path.startsWith('~/') || path === '~' ? join(homedir(), path.slice(1)) : path;
  if (!isAbsolute(p)) {
    throw new UserInputError(`${field} '${path}' is not an absolute path`, {
      hint: 'Give the full path, e.g. /home/me/report.pdf or ~/report.pdf',
    });
  }
  return resolve(p);
}

export interface LocalFile {
  path: string;
  name: string;
  size: number;
  mtimeMs: number;
}

/** A local file to send or upload: it must exist, be a file and be readable. */
export async function localFile(path: string, field = 'The file'): Promise<LocalFile> {
  const full = expand(path, field);
  let info;
  try {
    info = await stat(full);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new UserInputError(`The local file '${full}' does not exist`, {
        hint: 'Check the path; it must be a file on the machine where the server runs',
      });
    }
    throw new UserInputError(`The local file '${full}' cannot be read (${code ?? 'error'})`);
  }
  if (!info.isFile()) {
    throw new UserInputError(
      `The local path '${full}' is not a file that can be read (it is a folder or a device)`,
      {
        hint: 'Name a regular file',
      },
    );
  }
  try {
    await access(full, constants.R_OK);
  } catch {
    throw new UserInputError(`The local file '${full}' cannot be read (permission denied)`, {
      hint: 'Give the server’s user read access to it, or copy it somewhere readable',
    });
  }
  return { path: full, name: basename(full), size: info.size, mtimeMs: info.mtimeMs };
}

/** Read `length` bytes of a file from `position`. */
export async function readSlice(path: string, position: number, length: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, position);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** Where downloads go by default: `MS365_DOWNLOAD_DIR`, else `<data dir>/ms365/downloads`. */
export function defaultDownloadDir(env: NodeJS.ProcessEnv, dataDir: string): string {
  return env.MS365_DOWNLOAD_DIR || join(dataDir, 'ms365', 'downloads');
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
export function checkSaveAs(name: string): string {
  if (/[/\\]/.test(name) || name === '.' || name === '..' || name.includes('\0') || !name.trim()) {
    throw new UserInputError(`save_as '${name}' is not a plain file name`, {
      hint: 'Give only a name such as report.pdf; choose the folder with the folder argument',
    });
  }
  return safeFileName(name);
}

/** The folder to save into (created when missing). */
export async function targetFolder(folder: string | undefined, fallback: string): Promise<string> {
  const dir = folder ? expand(folder, 'folder') : resolve(fallback);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/**
 * Save a stream as `name` in `dir` without ever overwriting: an existing name gets " (1)", " (2)", ...
 * The file is created exclusively, and removed again when the download fails half-way.
 */
export async function saveStream(
  body: Readable,
  dir: string,
  name: string,
): Promise<{ path: string; bytes: number }> {
  const ext = extname(name);
  const stem = name.slice(0, name.length - ext.length);
  for (let n = 0; n < 1000; n++) {
    const path = join(dir, n === 0 ? name : `${stem} (${n})${ext}`);
    if (!resolve(path).startsWith(resolve(dir) + sep)) {
      throw new UserInputError(`The file name '${name}' would leave the folder ${dir}`);
    }
    let out;
    try {
      out = createWriteStream(path, { flags: 'wx', mode: 0o600 });
      await new Promise<void>((ok, fail) => {
        out!.once('open', () => ok());
        out!.once('error', fail);
      });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw err;
    }
    let bytes = 0;
    body.on('data', (chunk: Buffer) => (bytes += chunk.length));
    try {
      await pipeline(body, out);
    } catch (err) {
      await rm(path, { force: true });
      throw err;
    }
    return { path, bytes };
  }
  throw new UserInputError(`Too many files named '${name}' exist in ${dir}`, {
    hint: 'Pass save_as or another folder',
  });
}

/** "1.2 MB" */
export function formatBytes(bytes: number | undefined): string {
  if (bytes === undefined) return '';
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}
