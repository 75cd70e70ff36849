import { spawn } from 'node:child_process';
import {
  connectHttp,
  resultText,
  type CallToolResult,
  type Client,
  type HttpConnectOptions,
} from '@switchyard/core/client';
import { isolatedEnv, type IsolatedEnvOptions, type ToolCall } from './spawn.js';

/** A built server bin running `serve --http`, and SDK clients over Streamable HTTP to it. */
export interface HttpServer {
  /** The endpoint the server printed, e.g. `http://127.0.0.1:43117/mcp`. */
  url: string;
  /** `http://127.0.0.1:43117`: for requests below any MCP client (health, refusals). */
  origin: string;
  env: Record<string, string>;
  pid: number;
  stderr(): string;
  /** Connect a client in one era; `key` is sent as `Authorization: Bearer <key>`. */
  connect(options?: {
    era?: 'legacy' | 'modern';
    key?: string;
    headers?: Record<string, string>;
    /** Answer form elicitations (declares the capability). */
    elicit?: HttpConnectOptions['elicit'];
  }): Promise<HttpClient>;
  /** Send a signal and wait for the exit code (killed after `timeoutMs`). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
}

export interface HttpClient {
  client: Client;
  call(name: string, args?: Record<string, unknown>): Promise<ToolCall>;
  close(): Promise<void>;
}

/**
 * Spawn a built server bin with `serve --http 127.0.0.1:0` (plus `args`) and wait for the address it prints on
 * stderr. Fails with the server's stderr when it exits first or prints nothing within `timeoutMs`.
 */
export async function spawnHttpServer(
  bin: string,
  options: IsolatedEnvOptions & { args?: string[]; listen?: string; timeoutMs?: number } = {},
): Promise<HttpServer> {
  const env = isolatedEnv(options);
  const child = spawn(
    process.execPath,
    [bin, 'serve', '--http', options.listen ?? '127.0.0.1:0', ...(options.args ?? [])],
    { env, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(new Error(`the server printed no address within ${options.timeoutMs ?? 20_000} ms:\n${err}`)),
      options.timeoutMs ?? 20_000,
    );
    const look = () => {
      const found = / listening on (http:\/\/\S+)/.exec(err)?.[1];
      if (found) {
        clearTimeout(timer);
        child.stderr.off('data', look);
        resolve(found);
      }
    };
    child.stderr.on('data', look);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code}) before listening:\n${err}`));
    });
  });
  return {
    url,
    origin: new URL(url).origin,
    env,
    pid: child.pid!,
    stderr: () => err,
    async connect(connectOptions = {}) {
      const headers = {
        ...(connectOptions.key ? { Authorization: `Bearer ${connectOptions.key}` } : {}),
        ...connectOptions.headers,
      };
      const { client, close } = await connectHttp({
        url,
        headers,
        ...(connectOptions.era ? { era: connectOptions.era } : {}),
        ...(connectOptions.elicit ? { elicit: connectOptions.elicit } : {}),
      });
      return {
        client,
        close,
        async call(name, args = {}) {
          const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
          return {
            result,
            text: resultText(result),
            isError: result.isError === true,
            structured: result.structuredContent as Record<string, unknown> | undefined,
          };
        },
      };
    },
    async stop(signal = 'SIGTERM', timeoutMs = 20_000) {
      if (child.exitCode !== null) return child.exitCode;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
