// core's zip reader against archives written byte by byte to APPNOTE.TXT: every limit a zip bomb crosses.
import { describe, expect, it } from 'vitest';
import { zipOf as zipArchive, type ZipEntry } from '@switchyard/testkit';
import { ZipError, openZip } from '../src/zip.js';

/** Every entry declares a small size, as a bomb may: the reader must not believe it. */
const zipOf = (entries: ZipEntry[]): Buffer =>
  zipArchive(entries.map((e) => ({ ...e, declaredSize: Math.min(e.data.length, 1000) })));

/** Bytes that deflate about 100 to 1: a few random bytes, then a run. */
function compressible(length: number): Buffer {
  const b = Buffer.alloc(length);
  for (let i = 0; i < length; i += 1024) b.writeUInt32LE((Math.random() * 2 ** 32) >>> 0, i);
  return b;
}

describe('openZip', () => {
  it('reads stored and deflated entries by name', async () => {
    const zip = await openZip(
      zipOf([
        { name: 'a.txt', data: Buffer.from('stored text'), stored: true },
        { name: 'dir/b.xml', data: Buffer.from('<b>deflated</b>') },
      ]),
    );
    expect(zip.names()).toEqual(['a.txt', 'dir/b.xml']);
    expect((await zip.read('a.txt')).toString()).toBe('stored text');
    expect((await zip.read('dir/b.xml')).toString()).toBe('<b>deflated</b>');
    expect(zip.inflated).toBe(26);
  });

  it('refuses an entry that inflates past the ratio, whatever size it declares', async () => {
    const zip = await openZip(zipOf([{ name: 'x.xml', data: Buffer.alloc(5_000_000, 0x20) }]));
    await expect(zip.read('x.xml')).rejects.toThrow(
      new ZipError('its entry x.xml inflates more than 200 times its compressed size (a zip bomb)'),
    );
  });

  it('refuses an archive whose entries together inflate past the total', async () => {
    const parts = Array.from({ length: 4 }, (_, i) => ({ name: `p${i}`, data: compressible(1_000_000) }));
    const zip = await openZip(zipOf(parts), { maxTotalBytes: 2_500_000 });
    await zip.read('p0');
    await zip.read('p1');
    await expect(zip.read('p2')).rejects.toThrow('it inflates to more than 2 MB (a zip bomb)');
  });

  it('refuses too many entries, encrypted entries, and what is no zip', async () => {
    const many = Array.from({ length: 11 }, (_, i) => ({ name: `f${i}`, data: Buffer.from('x') }));
    await expect(openZip(zipOf(many), { maxEntries: 10 })).rejects.toThrow(
      'it holds 11 entries, more than the 10 allowed',
    );
    const locked = await openZip(zipOf([{ name: 's', data: Buffer.from('x'), flags: 1 }]));
    await expect(locked.read('s')).rejects.toThrow('its entry s is encrypted');
    await expect(openZip(Buffer.from('plain text, no archive'))).rejects.toThrow(
      'it is not a zip archive (no central directory)',
    );
    await expect(locked.read('missing')).rejects.toThrow('it has no entry missing');
  });
});
