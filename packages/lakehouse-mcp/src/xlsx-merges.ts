/**
 * The merged ranges of one sheet of an .xlsx file, read without loading the workbook: exceljs's streaming
 * reader skips `<mergeCell>` elements, and they come after the sheet's rows. The sheet's zip entry is found in
 * the central directory and inflated as a stream; only the `ref` attributes of `<mergeCell>` are kept.
 *
 * Zip layout per APPNOTE.TXT (PKWARE): end of central directory record 0x06054b50 (4.3.16), central directory
 * file header 0x02014b50 (4.3.12), local file header 0x04034b50 (4.3.7); methods 0 (stored) and 8 (deflate).
 * SpreadsheetML: `<mergeCells><mergeCell ref="A1:B1"/></mergeCells>` after `<sheetData>` (ECMA-376 Part 1,
 * 18.3.1.55).
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInflateRaw } from 'node:zlib';

interface Entry {
  method: number;
  compressedSize: number;
  localHeaderOffset: number;
}

async function findEntry(path: string, name: string): Promise<Entry | undefined> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const tailLength = Math.min(size, 65_557);
    const tail = Buffer.alloc(tailLength);
    await file.read(tail, 0, tailLength, size - tailLength);
    const eocd = tail.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    if (eocd < 0) return undefined;
    const cdSize = tail.readUInt32LE(eocd + 12);
    const cdOffset = tail.readUInt32LE(eocd + 16);
    const cd = Buffer.alloc(cdSize);
    await file.read(cd, 0, cdSize, cdOffset);
    for (let p = 0; p + 46 <= cd.length && cd.readUInt32LE(p) === 0x02014b50;) {
      const nameLength = cd.readUInt16LE(p + 28);
      const extraLength = cd.readUInt16LE(p + 30);
      const commentLength = cd.readUInt16LE(p + 32);
      if (cd.toString('utf8', p + 46, p + 46 + nameLength) === name) {
        const local = Buffer.alloc(30);
        const localHeaderOffset = cd.readUInt32LE(p + 42);
        await file.read(local, 0, 30, localHeaderOffset);
        return {
          method: cd.readUInt16LE(p + 10),
          compressedSize: cd.readUInt32LE(p + 20),
          // Data starts after the local header, its name and its own extra field.
          localHeaderOffset: localHeaderOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28),
        };
      }
      p += 46 + nameLength + extraLength + commentLength;
    }
    return undefined;
  } finally {
    await file.close();
  }
}

/** `A1:B2`-style ranges merged in `xl/worksheets/sheet<N>.xml`; empty when the sheet has none. */
export async function mergedRanges(path: string, sheetNumber: number): Promise<string[]> {
  const entry = await findEntry(path, `xl/worksheets/sheet${sheetNumber}.xml`);
  if (!entry || (entry.method !== 0 && entry.method !== 8) || entry.compressedSize === 0) return [];
  const raw = createReadStream(path, {
    start: entry.localHeaderOffset,
    end: entry.localHeaderOffset + entry.compressedSize - 1,
  });
  const text = entry.method === 8 ? raw.pipe(createInflateRaw()) : raw;
  const ranges: string[] = [];
  let carry = '';
  for await (const chunk of text as AsyncIterable<Buffer>) {
    const scan = carry + chunk.toString('latin1');
    const tag = /<(?:\w+:)?mergeCell\b[^>]*\bref="([A-Z]+\d+(?::[A-Z]+\d+)?)"[^>]*>/g;
    let last = 0;
    for (let m = tag.exec(scan); m; m = tag.exec(scan)) {
      ranges.push(m[1]!);
      last = tag.lastIndex;
    }
    // Keep an unfinished tag for the next chunk.
    const open = scan.lastIndexOf('<');
    carry = open >= last && scan.length - open < 512 ? scan.slice(open) : '';
  }
  return ranges;
}
