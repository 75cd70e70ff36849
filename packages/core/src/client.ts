/**
 * The client side of MCP over stdio and Streamable HTTP, for what drives a server from outside: the test kit, demos and
 * benchmarks. Kept in core so that the SDK is imported in one package only.
 */
import { Client, StreamableHTTPClientTransport, type CallToolResult } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';

export type { Client, CallToolResult };

/** A JSON-RPC answer as it came: a result, or an error. */
export type RawResponse =
  | { kind: 'result'; result: unknown }
  | { kind: 'error'; error: { code: number; message: string; data?: unknown } };

export interface StdioConnection {
  client: Client;
  /**
   * Send one request as written and get its answer as it came, past the SDK's per-era result checks: for shapes
   * the SDK does not model, such as a task handle (`resultType: "task"`) from the MCP tasks extension.
   */
  rawRequest(
    request: { method: string; params?: Record<string, unknown> },
    signal?: AbortSignal,
  ): Promise<RawResponse>;
  /** Everything the server wrote to stderr so far. */
  stderr(): string;
  pid: number | null;
  close(): Promise<void>;
}

export interface ConnectOptions {
  command: string;
  args?: string[];
  env?: Record<string, string>;
  cwd?: string;
  /** Answer the server's sampling requests (declares the `sampling` capability). */
  sampling?: (request: { system?: string; prompt: string; maxTokens: number }) => Promise<string>;
  /**
   * Answer the server's form elicitations, as a host shows them to its user (declares the `elicitation`
   * capability): the message shown, and whether the user accepts, declines or cancels.
   */
  elicit?: (request: { message: string; fields: string[] }) => Promise<{
    action: 'accept' | 'decline' | 'cancel';
    content?: Record<string, string | number | boolean | string[]>;
  }>;
  clientName?: string;
  /**
   * The protocol era to speak: `legacy` opens with `initialize` (MCP 2025-11-25 and earlier, what hosts send
   * today; the default), `modern` pins MCP 2026-07-28 (`server/discover`, then the per-request `_meta` envelope).
   */
  era?: 'legacy' | 'modern';
  /** How long `initialize` may take (the SDK's default is 60 s; a cold `npx` install can take longer). */
  timeoutMs?: number;
}

/** Spawn a server and connect an MCP client to it over stdio; stderr is collected, not inherited. */
export async function connectStdio(options: ConnectOptions): Promise<StdioConnection> {
  const transport = new StdioClientTransport({
    command: options.command,
    args: options.args ?? [],
    env: options.env ?? (process.env as Record<string, string>),
    ...(options.cwd ? { cwd: options.cwd } : {}),
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const client = new Client(
    { name: options.clientName ?? 'switchyard-client', version: '1.0.0' },
    {
      capabilities: {
        ...(options.sampling ? { sampling: {} } : {}),
        ...(options.elicit ? { elicitation: { form: {} } } : {}),
      },
      ...(options.era === 'modern' ? { versionNegotiation: { mode: { pin: '2026-07-28' } } } : {}),
    },
  );
  if (options.sampling) {
    const answer = options.sampling;
    client.setRequestHandler('sampling/createMessage', async (request) => {
      const content = request.params.messages[0]?.content;
      const part = Array.isArray(content) ? content[0] : content;
      const prompt = part && part.type === 'text' ? part.text : '';
      const text = await answer({
        prompt,
        maxTokens: request.params.maxTokens,
        ...(request.params.systemPrompt ? { system: request.params.systemPrompt } : {}),
      });
      return { role: 'assistant', model: 'test-sampler', content: { type: 'text', text } };
    });
  }
  if (options.elicit) answerElicitations(client, options.elicit);
  try {
    await client.connect(transport, options.timeoutMs ? { timeout: options.timeoutMs } : undefined);
  } catch (err) {
    await transport.close().catch(() => {});
    throw new Error(`The server did not start: ${(err as Error).message}\n${stderr}`, { cause: err });
  }
  // Raw requests share the transport: their ids are ours, and their answers are taken before the SDK sees them.
  const pending = new Map<string, (response: RawResponse) => void>();
  const sdkOnMessage = transport.onmessage;
  transport.onmessage = (message) => {
    const m = message as { id?: unknown; result?: unknown; error?: RawResponse & { kind: 'error' } };
    const settle = typeof m.id === 'string' ? pending.get(m.id) : undefined;
    if (!settle) return sdkOnMessage?.(message);
    pending.delete(m.id as string);
    settle(
      'error' in m && m.error
        ? { kind: 'error', error: m.error as never }
        : { kind: 'result', result: m.result },
    );
  };
  let rawId = 0;
  const rawRequest: StdioConnection['rawRequest'] = (request, signal) =>
    new Promise<RawResponse>((resolve, reject) => {
      const id = `raw-${++rawId}`;
      pending.set(id, resolve);
      signal?.addEventListener('abort', () => {
        pending.delete(id);
        reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      });
      transport
        .send({ jsonrpc: '2.0', id, method: request.method, params: request.params ?? {} })
        .catch((err) => {
          pending.delete(id);
          reject(err);
        });
    });
  return {
    client,
    rawRequest,
    stderr: () => stderr,
    pid: transport.pid,
    close: async () => {
      await client.close().catch(() => {});
    },
  };
}

/** Answer a server's form elicitations (2025: `elicitation/create`; 2026-07-28: the SDK's `input_required` round). */
function answerElicitations(client: Client, answer: NonNullable<ConnectOptions['elicit']>): void {
  client.setRequestHandler('elicitation/create', async (request) => {
    const params = request.params as { message: string; requestedSchema?: { properties?: object } };
    return answer({
      message: params.message,
      fields: Object.keys(params.requestedSchema?.properties ?? {}),
    });
  });
}

export interface HttpConnectOptions {
  /** The server's endpoint, e.g. `http://127.0.0.1:8080/mcp`. */
  url: string;
  /** Sent with every request, e.g. `{ Authorization: 'Bearer <key>' }`. */
  headers?: Record<string, string>;
  /** The protocol era to speak, as for {@link connectStdio}. */
  era?: 'legacy' | 'modern';
  clientName?: string;
  /** Answer form elicitations, as for {@link connectStdio}. */
  elicit?: ConnectOptions['elicit'];
}

/** Connect an MCP client to a server over Streamable HTTP. */
export async function connectHttp(
  options: HttpConnectOptions,
): Promise<{ client: Client; close(): Promise<void> }> {
  const transport = new StreamableHTTPClientTransport(new URL(options.url), {
    ...(options.headers ? { requestInit: { headers: options.headers } } : {}),
  });
  const client = new Client(
    { name: options.clientName ?? 'switchyard-client', version: '1.0.0' },
    {
      capabilities: options.elicit ? { elicitation: { form: {} } } : {},
      ...(options.era === 'modern' ? { versionNegotiation: { mode: { pin: '2026-07-28' } } } : {}),
    },
  );
  if (options.elicit) answerElicitations(client, options.elicit);
  await client.connect(transport);
  return { client, close: async () => void (await client.close().catch(() => {})) };
}

/** The text of a tool result, all text parts joined. */
export function resultText(result: CallToolResult | { content?: unknown }): string {
  const content = (result as CallToolResult).content ?? [];
  return content
    .filter((c): c is { type: 'text'; text: string } => c.type === 'text')
    .map((c) => c.text)
    .join('\n');
}
