import type { Readable } from 'node:stream';

/** A stream's bytes, at most `limit`: the stream is ended past it (a Range answer may ignore the range). */
export async function collect(stream: Readable, limit: number): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const room = limit - length;
    chunks.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
    length += Math.min(chunk.length, room);
    if (length >= limit) {
      stream.destroy();
      break;
    }
  }
  return Buffer.concat(chunks, length);
}
