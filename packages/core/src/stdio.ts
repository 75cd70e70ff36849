import { JSONRPCMessageSchema } from '@modelcontextprotocol/core';
import {
  ProtocolErrorCode as ErrorCode,
  type JSONRPCMessage,
  type JSONRPCRequest,
  type RequestId,
  type Transport,
} from '@modelcontextprotocol/server';
import { takeHandoff } from './handoff.js';
import type { Logger } from './log.js';
import { WIRE_CEILING_BYTES } from './wire.js';

/** The largest message a server reads from stdin (the SDK's own limit, so hosts see no change in what fits). */
export const MAX_INPUT_MESSAGE_BYTES = 10 * 1024 * 1024;

export interface StdioTransportOptions {
  log: Logger;
  stdin?: NodeJS.ReadableStream;
  stdout?: NodeJS.WritableStream;
  maxMessageBytes?: number;
  /** The largest message written to stdout (default {@link WIRE_CEILING_BYTES}); a larger answer becomes an error. */
  maxOutputBytes?: number;
  /** Checks a request before it is dispatched: a sentence saying what is wrong with its params, or undefined. */
  screen?: (request: JSONRPCRequest) => string | undefined;
}

type ErrorReply = { jsonrpc: '2.0'; id: RequestId | null; error: { code: number; message: string } };

/**
 * MCP over stdio, one JSON-RPC message per line, answering what the SDK's transport leaves unanswered
 * (JSON-RPC 2.0 §5.1): a line that is not JSON gets `-32700 Parse error`, a JSON value that is not a message gets
 * `-32600 Invalid Request`, a message over the size limit is skipped to its newline and refused with the id it
 * carried (so the client's call fails at once instead of timing out), and the server keeps reading.
 */
export class StdioLineTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  private readonly stdin: NodeJS.ReadableStream;
  private readonly stdout: NodeJS.WritableStream;
  private readonly max: number;
  private readonly ceiling: number;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private oversized: { bytes: number; scanner: TopLevelIdScanner } | undefined;
  /** Requests the quick start answered before handing the session over: their answers are not sent twice. */
  private answered: Set<RequestId> | undefined;

  constructor(private readonly options: StdioTransportOptions) {
    this.stdin = options.stdin ?? process.stdin;
    this.stdout = options.stdout ?? process.stdout;
    this.max = options.maxMessageBytes ?? MAX_INPUT_MESSAGE_BYTES;
    this.ceiling = options.maxOutputBytes ?? WIRE_CEILING_BYTES;
  }

  start(): Promise<void> {
    const given = this.stdin === process.stdin ? takeHandoff() : undefined;
    if (!given) {
      this.stdin.on('data', this.onData);
      this.stdin.on('error', this.onStreamError);
      return Promise.resolve();
    }
    // The quick start read the session's first messages and answered some (quick-start.ts): read them all again,
    // once the SDK listens, then what waits in the paused stream.
    this.answered = given.answered;
    setImmediate(() => {
      this.onData(given.received);
      this.stdin.on('data', this.onData);
      this.stdin.on('error', this.onStreamError);
      this.stdin.resume();
    });
    return Promise.resolve();
  }

  send(message: JSONRPCMessage | ErrorReply): Promise<void> {
    if (this.answered?.size && !('method' in message) && message.id !== undefined && message.id !== null) {
      if (this.answered.delete(message.id)) return Promise.resolve();
    }
    let line = `${JSON.stringify(message)}\n`;
    const bytes = Buffer.byteLength(line);
    if (bytes > this.ceiling) {
      // The last guard (rule 6): a message a host could not read would end its session, so it never leaves.
      const id = 'id' in message ? message.id : undefined;
      const what = 'method' in message ? message.method : 'answer';
      this.options.log.error(
        `refused to send a ${bytes}-byte ${what}, over the ${this.ceiling}-byte ceiling`,
      );
      if (id === undefined || 'method' in message) return Promise.resolve();
      line = `${JSON.stringify({
        jsonrpc: '2.0',
        id,
        error: {
          code: ErrorCode.InternalError,
          message: `The answer would be ${bytes.toLocaleString('en-US')} bytes, over the ${this.ceiling.toLocaleString('en-US')}-byte limit of one message; ask for less (a narrower query, fewer rows, a smaller max_bytes).`,
        },
      })}\n`;
    }
    return new Promise((resolve) => {
      if (this.stdout.write(line)) resolve();
      else this.stdout.once('drain', resolve);
    });
  }

  close(): Promise<void> {
    this.stdin.off('data', this.onData);
    this.stdin.off('error', this.onStreamError);
    if (this.stdin.listenerCount('data') === 0) this.stdin.pause();
    this.pending = [];
    this.oversized = undefined;
    this.onclose?.();
    return Promise.resolve();
  }

  private readonly onStreamError = (error: Error): void => this.onerror?.(error);

  private readonly onData = (chunk: Buffer | string): void => {
    const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    let start = 0;
    while (start < data.length) {
      const newline = data.indexOf(0x0a, start);
      const piece = data.subarray(start, newline === -1 ? data.length : newline);
      this.take(piece);
      if (newline === -1) break;
      this.endLine();
      start = newline + 1;
    }
  };

  /** Keep a piece of the current line, or, once the line is over the limit, only look for its id. */
  private take(piece: Buffer): void {
    if (this.oversized) {
      this.oversized.bytes += piece.length;
      this.oversized.scanner.feed(piece);
    } else if (this.pendingBytes + piece.length > this.max) {
      const scanner = new TopLevelIdScanner();
      for (const kept of this.pending) scanner.feed(kept);
      scanner.feed(piece);
      this.oversized = { bytes: this.pendingBytes + piece.length, scanner };
      this.pending = [];
      this.pendingBytes = 0;
    } else {
      this.pending.push(piece);
      this.pendingBytes += piece.length;
    }
  }

  private endLine(): void {
    if (this.oversized) {
      const { bytes, scanner } = this.oversized;
      this.oversized = undefined;
      const mib = (n: number) => `${Math.round((n / 1024 / 1024) * 10) / 10} MiB`;
      this.options.log.warn(`refused a message of ${mib(bytes)} (over the ${mib(this.max)} limit)`);
      this.reply(
        scanner.id ?? null,
        ErrorCode.InvalidRequest,
        `Invalid Request: the message is ${mib(bytes)}, over this server's limit of ${mib(this.max)} per message, so it was not read. Send smaller arguments (large content belongs in a file under an allowed folder).`,
      );
      return;
    }
    const line = Buffer.concat(this.pending).toString('utf8').replace(/\r$/, '');
    this.pending = [];
    this.pendingBytes = 0;
    if (line.trim() !== '') this.handleLine(line);
  }

  private handleLine(line: string): void {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      this.options.log.warn(
        `answered a line that is not JSON with a parse error: ${(err as Error).message.slice(0, 120)}`,
      );
      this.reply(
        null,
        ErrorCode.ParseError,
        'Parse error: the line received is not valid JSON. Send one JSON-RPC message per line.',
      );
      return;
    }
    const parsed = JSONRPCMessageSchema.safeParse(value);
    if (!parsed.success) {
      const record =
        value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
      // A malformed response (no method) is not answered: JSON-RPC never replies to a response.
      if (!('method' in record) && ('result' in record || 'error' in record)) {
        this.options.log.warn('ignored a response that is not a valid JSON-RPC response');
        return;
      }
      const id = typeof record.id === 'string' || typeof record.id === 'number' ? record.id : null;
      this.options.log.warn('answered a JSON value that is not a JSON-RPC message with Invalid Request');
      this.reply(
        id,
        ErrorCode.InvalidRequest,
        Array.isArray(value)
          ? 'Invalid Request: batches are not supported; send one JSON-RPC message per line.'
          : 'Invalid Request: the value is not a JSON-RPC 2.0 message (it needs "jsonrpc": "2.0" and a "method", or a "result" or "error" with an "id").',
      );
      return;
    }
    const message = parsed.data;
    if ('method' in message && 'id' in message && this.options.screen) {
      const problem = this.options.screen(message);
      if (problem !== undefined) {
        this.reply(message.id, ErrorCode.InvalidParams, problem);
        return;
      }
    }
    this.onmessage?.(message);
  }

  private reply(id: RequestId | null, code: number, message: string): void {
    void this.send({ jsonrpc: '2.0', id, error: { code, message } }).catch(() => {});
  }
}

/**
 * Finds the top-level `"id"` of a JSON object streamed in pieces, without keeping the object: how an oversized
 * message's id is recovered (the SDK writes `id` last, after the params that made it too big).
 */
export class TopLevelIdScanner {
  id: RequestId | undefined;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private text: number[] = [];
  private key: string | undefined;
  private afterColon = false;
  private scalar = '';

  feed(bytes: Uint8Array): void {
    for (const byte of bytes) this.step(byte);
  }

  private step(b: number): void {
    const topLevel = this.depth === 1;
    if (this.inString) {
      if (this.escaped) this.escaped = false;
      else if (b === 0x5c) this.escaped = true;
      else if (b === 0x22) {
        this.inString = false;
        if (topLevel) this.endString();
        return;
      }
      if (topLevel && this.text.length <= 256) this.text.push(b);
      return;
    }
    switch (b) {
      case 0x22: // "
        this.inString = true;
        this.text = [];
        return;
      case 0x7b: // {
      case 0x5b: // [
        if (topLevel) this.afterColon = false;
        this.depth++;
        return;
      case 0x7d: // }
      case 0x5d: // ]
        this.endScalar();
        this.depth--;
        return;
      case 0x3a: // :
        if (topLevel) this.afterColon = true;
        return;
      case 0x2c: // ,
        this.endScalar();
        if (topLevel) this.afterColon = false;
        return;
      case 0x20:
      case 0x09:
      case 0x0d:
        this.endScalar();
        return;
      default:
        if (topLevel && this.afterColon && this.scalar.length < 32) this.scalar += String.fromCharCode(b);
    }
  }

  private endString(): void {
    if (this.text.length > 256) return;
    let value: string;
    try {
      value = JSON.parse(`"${Buffer.from(this.text).toString('utf8')}"`) as string;
    } catch {
      return;
    }
    if (!this.afterColon) this.key = value;
    else {
      if (this.key === 'id') this.id = value;
      this.afterColon = false;
    }
  }

  private endScalar(): void {
    if (this.depth !== 1 || !this.scalar) return;
    if (this.key === 'id' && /^-?\d{1,15}$/.test(this.scalar)) this.id = Number(this.scalar);
    this.scalar = '';
    this.afterColon = false;
  }
}
