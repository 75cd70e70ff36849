import { mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalFiles, saveStream, splitDirList, isSwitchyardError, errorText } from '@switchyard/core';
import { tempDir } from '@switchyard/testkit';

const tmp = tempDir('core-files-');
afterAll(() => tmp.cleanup());

const root = join(tmp.path, 'allowed');
const readOnly = join(tmp.path, 'read-only');
const outside = join(tmp.path, 'outside');
const config = join(root, 'switchyard-config');
const downloads = join(tmp.path, 'downloads');
for (const d of [root, readOnly, outside, config, join(root, '.hidden'), join(root, 'sub')]) {
  mkdirSync(d, { recursive: true });
}
writeFileSync(join(root, 'report.csv'), 'a,b\n1,2\n');
writeFileSync(join(root, 'sub', 'deep.txt'), 'deep');
writeFileSync(join(root, '.hidden', 'x.txt'), 'x');
writeFileSync(join(root, '.env'), 'TOKEN=1');
writeFileSync(join(readOnly, 'r.txt'), 'r');
writeFileSync(join(outside, 'secret.txt'), 'secret');
writeFileSync(join(config, 'secret.key'), 'key');
symlinkSync(join(outside, 'secret.txt'), join(root, 'link.txt'));
symlinkSync(join(config, 'secret.key'), join(root, 'key-link'));
symlinkSync(outside, join(root, 'outside-dir'));
execFileSync('mkfifo', [join(root, 'pipe')]);

const files = new LocalFiles({
  server: 'test-mcp',
  envPrefix: 'TEST',
  allowDirs: [root],
  downloadDir: downloads,
  readRoots: [readOnly],
  paths: { config, data: join(tmp.path, 'data'), cache: join(tmp.path, 'cache') },
});
const WHERE_READ = `test-mcp reads local files only under ${downloads}, ${root}, ${readOnly}; allow another folder with --allow-dir <folder> or TEST_ALLOWED_DIRS.`;
const WHERE_WRITE = `test-mcp saves files only under ${downloads}, ${root}; allow another folder with --allow-dir <folder> or TEST_ALLOWED_DIRS.`;

/** The sentence a refusal turns into. */
async function refusal(work: Promise<unknown>): Promise<string> {
  try {
    await work;
  } catch (err) {
    if (isSwitchyardError(err)) return errorText(err);
    throw err;
  }
  throw new Error('not refused');
}

describe('LocalFiles: defaults', () => {
  it('allows only ~/Downloads/<server> by default: not the working directory, home or tmp', async () => {
    const bare = new LocalFiles({ server: 'x-mcp', envPrefix: 'X' });
    expect(bare.writeRoots).toEqual([join(homedir(), 'Downloads', 'x-mcp')]);
    expect(bare.readRoots).toEqual(bare.writeRoots);
    for (const path of [join(process.cwd(), 'package.json'), '/etc/passwd', join(root, 'report.csv')]) {
      expect(await refusal(bare.readable(path))).toMatch(/is outside the allowed folders: x-mcp reads/);
    }
  });

  it('splits folder lists on commas and the path delimiter', () => {
    expect(splitDirList('/a, /b:/c,,')).toEqual(['/a', '/b', '/c']);
    expect(splitDirList(undefined)).toEqual([]);
  });

  it('refuses a relative root when it is configured', () => {
    expect(() => new LocalFiles({ server: 'x-mcp', envPrefix: 'X', allowDirs: ['data'] })).toThrow(
      "The --allow-dir 'data' is not an absolute path without '..'",
    );
  });
});

describe('LocalFiles: reading', () => {
  it('reads files under a write root and a read-only root', async () => {
    expect(await files.readable(join(root, 'report.csv'))).toMatchObject({
      path: join(root, 'report.csv'),
      name: 'report.csv',
      size: 8,
    });
    expect((await files.readable(join(root, 'sub', 'deep.txt'))).size).toBe(4);
    expect((await files.readable(join(readOnly, 'r.txt'))).name).toBe('r.txt');
  });

  it.each([
    [
      'a file outside every root',
      '/etc/passwd',
      `'/etc/passwd' is outside the allowed folders: ${WHERE_READ}`,
    ],
    [
      'a link inside a root that leads outside',
      join(root, 'link.txt'),
      `'${join(root, 'link.txt')}' (which leads to ${join(outside, 'secret.txt')}) is outside the allowed folders: ${WHERE_READ}`,
    ],
    [
      'a linked folder inside a root that leads outside',
      join(root, 'outside-dir', 'secret.txt'),
      `'${join(root, 'outside-dir', 'secret.txt')}' (which leads to ${join(outside, 'secret.txt')}) is outside the allowed folders: ${WHERE_READ}`,
    ],
    [
      "'..' even when it stays inside",
      `${root}/sub/../report.csv`,
      `'${root}/sub/../report.csv' contains '..', which is refused: ${WHERE_READ}`,
    ],
    [
      '/proc/self/environ',
      '/proc/self/environ',
      `'/proc/self/environ' (which leads to /proc/${process.pid}/environ) is in /proc, which Switchyard never reads or writes: ${WHERE_READ}`,
    ],
    [
      "Switchyard's config folder, even under a root",
      join(config, 'secret.key'),
      `'${join(config, 'secret.key')}' is in ${config}, which Switchyard never reads or writes: ${WHERE_READ}`,
    ],
    [
      'a link to the config folder',
      join(root, 'key-link'),
      `'${join(root, 'key-link')}' (which leads to ${join(config, 'secret.key')}) is in ${config}, which Switchyard never reads or writes: ${WHERE_READ}`,
    ],
    [
      'a hidden file',
      join(root, '.env'),
      `'${join(root, '.env')}' is hidden or in a hidden folder, and those are refused: ${WHERE_READ}`,
    ],
    [
      'a file in a hidden folder',
      join(root, '.hidden', 'x.txt'),
      `'${join(root, '.hidden', 'x.txt')}' is hidden or in a hidden folder, and those are refused: ${WHERE_READ}`,
    ],
    [
      '/dev/zero',
      '/dev/zero',
      `'/dev/zero' is in /dev, which Switchyard never reads or writes: ${WHERE_READ}`,
    ],
    [
      'a FIFO',
      join(root, 'pipe'),
      `The local path '${join(root, 'pipe')}' is not a file that can be read (it is a folder, a device, a pipe or a socket). Name a regular file.`,
    ],
    [
      'a relative path',
      'report.csv',
      `The file 'report.csv' is not an absolute path: give the full path, e.g. ${join(downloads, 'report.pdf')}; ${WHERE_READ}`,
    ],
  ])('refuses %s with one sentence', async (_what, path, sentence) => {
    expect(await refusal(files.readable(path))).toBe(sentence);
  });

  it('says a missing file inside a root does not exist, but not whether one outside does', async () => {
    expect(await refusal(files.readable(join(root, 'nope.csv')))).toBe(
      `The local file '${join(root, 'nope.csv')}' does not exist. Check the path; it must be a file on the machine where the server runs.`,
    );
    expect(await refusal(files.readable('/etc/no-such-file'))).toMatch(/is outside the allowed folders/);
  });
});

describe('LocalFiles: writing', () => {
  it('creates the download folder with 0700 and saves without overwriting', async () => {
    const dir = await files.folder(undefined);
    expect(dir).toBe(downloads);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const first = await files.save(Readable.from([Buffer.from('one')]), dir, 'a.txt');
    const second = await files.save(Readable.from([Buffer.from('two')]), dir, 'a.txt');
    expect([first.path, second.path]).toEqual([join(dir, 'a.txt'), join(dir, 'a (1).txt')]);
    expect(readFileSync(first.path, 'utf8')).toBe('one');
    expect(statSync(first.path).mode & 0o777).toBe(0o600);
  });

  it('creates a missing folder under an allowed root, each level 0700', async () => {
    const dir = await files.folder(join(root, 'new', 'deeper'));
    expect(dir).toBe(join(root, 'new', 'deeper'));
    expect(statSync(join(root, 'new')).mode & 0o777).toBe(0o700);
  });

  it.each([
    [
      'a folder outside the roots (site-packages)',
      join(homedir(), '.local', 'lib', 'python3.11', 'site-packages'),
      `'${join(homedir(), '.local', 'lib', 'python3.11', 'site-packages')}' is outside the allowed folders: ${WHERE_WRITE}`,
    ],
    ['a read-only root', readOnly, `'${readOnly}' is outside the allowed folders: ${WHERE_WRITE}`],
    [
      'a hidden folder under a root',
      join(root, '.config', 'autostart'),
      `'${join(root, '.config', 'autostart')}' is hidden or in a hidden folder, and those are refused: ${WHERE_WRITE}`,
    ],
    [
      'a linked folder that leads outside',
      join(root, 'outside-dir', 'x'),
      `'${join(root, 'outside-dir', 'x')}' (which leads to ${join(outside, 'x')}) is outside the allowed folders: ${WHERE_WRITE}`,
    ],
    [
      "Switchyard's config folder under a root",
      config,
      `'${config}' is in ${config}, which Switchyard never reads or writes: ${WHERE_WRITE}`,
    ],
    ['/dev/shm', '/dev/shm', `'/dev/shm' is in /dev, which Switchyard never reads or writes: ${WHERE_WRITE}`],
  ])('refuses %s and creates nothing', async (_what, folder, sentence) => {
    expect(await refusal(files.folder(folder))).toBe(sentence);
  });

  it('created nothing for the refused folders', () => {
    expect(existsSync(join(root, '.config'))).toBe(false);
    expect(existsSync(join(outside, 'x'))).toBe(false);
  });

  it('never follows a link planted at the target name', async () => {
    const dir = await files.folder(join(root, 'sub'));
    symlinkSync(join(outside, 'planted.txt'), join(dir, 'planted.txt'));
    const saved = await saveStream(Readable.from([Buffer.from('data')]), dir, 'planted.txt');
    expect(saved.path).toBe(join(dir, 'planted (1).txt'));
    expect(existsSync(join(outside, 'planted.txt'))).toBe(false);
  });
});
