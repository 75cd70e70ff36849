// core's zip reader against archives written byte by byte to APPNOTE.TXT: every limit a zip bomb crosses.
import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ZipError, openZip } from '../src/zip.js';

/** A zip of deflated (or stored) entries: local headers, central directory, end record (APPNOTE 4.3.7–4.3.16). */
function zipOf(entries: Array<{ name: string; data: Buffer; stored?: boolean; flags?: number }>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const packed = e.stored ? e.data : deflateRawSync(e.data);
    const name = Buffer.from(e.name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(e.flags ?? 0, 6);
    local.writeUInt16LE(e.stored ? 0 : 8, 8);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(e.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(e.flags ?? 0, 8);
    central.writeUInt16LE(e.stored ? 0 : 8, 10);
    central.writeUInt32LE(packed.length, 20);
    // A bomb may declare a small size: the reader must not believe it.
    central.writeUInt32LE(Math.min(e.data.length, 1000), 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, packed);
    centrals.push(central, name);
    offset += 30 + name.length + packed.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

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
