/**
 * A small zip reader for files from outside (.docx, .xlsx, .pptx): the central directory is read, entries are
 * inflated one at a time on request, and every limit a zip bomb would cross is checked on what is actually
 * inflated, not on the sizes the file declares.
 *
 * Layout per APPNOTE.TXT (PKWARE): end of central directory record 0x06054b50 (4.3.16), central directory file
 * header 0x02014b50 (4.3.12), local file header 0x04034b50 (4.3.7); methods 0 (stored) and 8 (deflate); general
 * purpose flag bit 0 = encrypted (4.4.4). ZIP64 (sizes of 0xFFFFFFFF, 4.5.3) is refused: no office file needs it.
 */
import { promisify } from 'node:util';
import { inflateRaw } from 'node:zlib';

const inflateRawAsync = promisify(inflateRaw);

export interface ZipLimits {
  /** Entries in the central directory. */
  maxEntries: number;
  /** Bytes inflated over all reads of one archive. */
  maxTotalBytes: number;
  /** Inflated bytes per compressed byte of one entry (deflate tops out near 1,032:1). */
  maxRatio: number;
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = {
  maxEntries: 5_000,
  maxTotalBytes: 64 * 1024 * 1024,
  maxRatio: 200,
};

/** The archive is damaged, encrypted, or crosses a limit; `message` says which, in a sentence. */
export class ZipError extends Error {
  override name = 'ZipError';
}

export interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  compressedSize: number;
  uncompressedSize: number;
  /** Offset of the entry's local header. */
  localHeaderOffset: number;
}

/** Random access to the archive's bytes: a buffer in memory or an open file. */
export interface ZipSource {
  size: number;
  read(position: number, length: number): Promise<Buffer>;
}

export function bufferSource(bytes: Uint8Array): ZipSource {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    size: buf.length,
    read: async (position, length) => buf.subarray(position, Math.min(buf.length, position + length)),
  };
}

/** The entries of the central directory, by name; throws ZipError when it is missing or too large. */
export async function readZipDirectory(
  source: ZipSource,
  maxEntries = DEFAULT_ZIP_LIMITS.maxEntries,
): Promise<Map<string, ZipEntry>> {
  // The end record is 22 bytes plus a comment of at most 65,535.
  const tailLength = Math.min(source.size, 65_557);
  const tail = await source.read(source.size - tailLength, tailLength);
  const eocd = tail.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0 || eocd + 22 > tail.length)
    throw new ZipError('it is not a zip archive (no central directory)');
  const count = tail.readUInt16LE(eocd + 10);
  const cdSize = tail.readUInt32LE(eocd + 12);
  const cdOffset = tail.readUInt32LE(eocd + 16);
  if (count === 0xffff || cdOffset === 0xffffffff)
    throw new ZipError('it is a ZIP64 archive, which is not read');
  if (count > maxEntries)
    throw new ZipError(`it holds ${count} entries, more than the ${maxEntries} allowed`);
  if (cdOffset + cdSize > source.size) throw new ZipError('its central directory lies past its end');
  const cd = await source.read(cdOffset, cdSize);
  const entries = new Map<string, ZipEntry>();
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== 0x02014b50)
      throw new ZipError('its central directory is damaged');
    const nameLength = cd.readUInt16LE(p + 28);
    const entry: ZipEntry = {
      name: cd.toString('utf8', p + 46, p + 46 + nameLength),
      flags: cd.readUInt16LE(p + 8),
      method: cd.readUInt16LE(p + 10),
      compressedSize: cd.readUInt32LE(p + 20),
      uncompressedSize: cd.readUInt32LE(p + 24),
      localHeaderOffset: cd.readUInt32LE(p + 42),
    };
    if (entry.compressedSize === 0xffffffff || entry.uncompressedSize === 0xffffffff)
      throw new ZipError('it is a ZIP64 archive, which is not read');
    entries.set(entry.name, entry);
    p += 46 + nameLength + cd.readUInt16LE(p + 30) + cd.readUInt16LE(p + 32);
  }
  return entries;
}

/** Where an entry's compressed bytes start: after its local header, name and the local extra field. */
export async function entryDataOffset(source: ZipSource, entry: ZipEntry): Promise<number> {
  const local = await source.read(entry.localHeaderOffset, 30);
  if (local.length < 30 || local.readUInt32LE(0) !== 0x04034b50)
    throw new ZipError(`the entry ${entry.name} is damaged`);
  return entry.localHeaderOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
}

export interface ZipArchive {
  /** Entry names in directory order. */
  names(): string[];
  has(name: string): boolean;
  /** The inflated bytes of an entry; ZipError when it is damaged, encrypted or crosses a limit. */
  read(name: string): Promise<Buffer>;
  /** Bytes inflated so far. */
  readonly inflated: number;
}

/** An archive in memory, read entry by entry within `limits`. */
export async function openZip(bytes: Uint8Array, limits: Partial<ZipLimits> = {}): Promise<ZipArchive> {
  const l = { ...DEFAULT_ZIP_LIMITS, ...limits };
  const source = bufferSource(bytes);
  const entries = await readZipDirectory(source, l.maxEntries);
  let inflated = 0;
  return {
    names: () => [...entries.keys()],
    has: (name) => entries.has(name),
    get inflated() {
      return inflated;
    },
    async read(name) {
      const entry = entries.get(name);
      if (!entry) throw new ZipError(`it has no entry ${name}`);
      if (entry.flags & 1) throw new ZipError(`its entry ${name} is encrypted`);
      if (entry.method !== 0 && entry.method !== 8)
        throw new ZipError(`its entry ${name} uses compression method ${entry.method}, which is not read`);
      const start = await entryDataOffset(source, entry);
      const data = await source.read(start, entry.compressedSize);
      if (data.length < entry.compressedSize) throw new ZipError(`its entry ${name} is cut short`);
      const left = l.maxTotalBytes - inflated;
      // The ratio is checked on the output too: the declared size may lie.
      const cap = Math.min(left, Math.max(entry.compressedSize, 1) * l.maxRatio);
      let out: Buffer;
      if (entry.method === 0) {
        out = data;
        if (out.length > left) throw tooMuch(l);
      } else {
        try {
          out = await inflateRawAsync(data, { maxOutputLength: Math.max(cap, 1) });
        } catch (err) {
          if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
            throw cap === left
              ? tooMuch(l)
              : new ZipError(
                  `its entry ${name} inflates more than ${l.maxRatio} times its compressed size (a zip bomb)`,
                );
          }
          throw new ZipError(`its entry ${name} does not inflate (${(err as Error).message})`);
        }
      }
      inflated += out.length;
      return out;
    },
  };
}

function tooMuch(l: ZipLimits): ZipError {
  return new ZipError(`it inflates to more than ${Math.round(l.maxTotalBytes / 1048576)} MB (a zip bomb)`);
}
