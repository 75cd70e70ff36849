/**
 * The merged ranges of one sheet of an .xlsx file, read without loading the workbook: exceljs's streaming
 * reader skips `<mergeCell>` elements, and they come after the sheet's rows. The sheet's zip entry is found in
 * the central directory and inflated as a stream; only the `ref` attributes of `<mergeCell>` are kept.
 *
 * The zip's directory is read by core's zip reader; methods 0 (stored) and 8 (deflate) are streamed here.
 * SpreadsheetML: `<mergeCells><mergeCell ref="A1:B1"/></mergeCells>` after `<sheetData>` (ECMA-376 Part 1,
 * 18.3.1.55).
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInflateRaw } from 'node:zlib';
import { ZipError, entryDataOffset, readZipDirectory, type ZipSource } from '@switchyard/core';

interface Entry {
  method: number;
  compressedSize: number;
  localHeaderOffset: number;
}

async function findEntry(path: string, name: string): Promise<Entry | undefined> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const source: ZipSource = {
      size,
      read: async (position, length) => {
        const buf = Buffer.alloc(length);
        const { bytesRead } = await file.read(buf, 0, length, position);
        return buf.subarray(0, bytesRead);
      },
    };
    try {
      const entry = (await readZipDirectory(source, Number.MAX_SAFE_INTEGER)).get(name);
      if (!entry) return undefined;
      return {
        method: entry.method,
        compressedSize: entry.compressedSize,
        // Data starts after the local header, its name and its own extra field.
        localHeaderOffset: await entryDataOffset(source, entry),
      };
    } catch (err) {
      if (err instanceof ZipError) return undefined;
      throw err;
    }
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
