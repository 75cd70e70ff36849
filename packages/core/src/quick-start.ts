import { readFileSync } from 'node:fs';
import { offerHandoff } from './handoff.js';
import { createLogger, parseLogLevel, type Logger } from './log.js';
import {
  CACHE_HINTS,
  OPENING_FILE,
  optionKey,
  TOOLS_LIST_FILE,
  renderInstructions,
  serverCapabilities,
  type OpeningData,
  type OpeningOption,
} from './opening.js';
import {
  parseList,
  resolveModes,
  type ModeOptions,
  type ServedModes,
  type ToolsetDefinition,
} from './toolset.js';
import type { ToolDefinition } from './tool.js';

/**
 * The quick start: what a server's bin runs first (scripts/bundle.mjs builds it into `dist/start.js`). A host starts
 * every configured server at once and waits for each one's tools; loading a server's code (its SDK, schemas and
 * clients) takes most of a start. So the quick start answers the opening — `initialize` or `server/discover`, and
 * the lists a host reads first (and `resources/list` where no resource enumerates the upstream) — from the data the build wrote beside the bundle (`opening.json`,
 * `tools-list.json`), with the modes applied by core's own `resolveModes`, and loads the server only when a message
 * needs it (a tool call, a resource, anything it does not answer exactly as the server would). The server then reads
 * the whole session from its first byte (handoff.ts) and is in the state it would have been in had it answered
 * everything itself; the answers already given are not given twice.
 *
 * It stands aside, and the server starts as before, whenever it cannot be sure of the answers: an option or command
 * it does not know, an option that changes the opening (`shapesOpening`), modes the server would refuse, no data
 * beside the bundle, or `SWITCHYARD_QUICK_START=off`.
 */
export function quickStart(dir: URL, loadServer: () => Promise<unknown>): void {
  const plan = planOf(dir, process.argv.slice(2), process.env);
  if (!plan) {
    void run(loadServer);
    return;
  }
  new QuickSession(plan, loadServer).start();
}

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const OFF = new Set(['0', 'false', 'no', 'off']);

/** The longest line the quick start reads itself: an opening is a few hundred bytes; a longer line goes to the server. */
const MAX_LINE_BYTES = 1024 * 1024;

interface Plan {
  data: OpeningData;
  log: Logger;
  served: ServedModes;
  tools: unknown[];
  instructions: string | undefined;
}

/** What the opening says under these arguments and environment, or undefined when only the server can tell. */
function planOf(dir: URL, argv: string[], env: NodeJS.ProcessEnv): Plan | undefined {
  if (OFF.has((env.SWITCHYARD_QUICK_START ?? '').toLowerCase())) return undefined;
  let data: OpeningData;
  let catalog: Record<string, unknown>;
  try {
    data = JSON.parse(readFileSync(new URL(OPENING_FILE, dir), 'utf8')) as OpeningData;
    catalog = JSON.parse(readFileSync(new URL(TOOLS_LIST_FILE, dir), 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (!data.versions || !data.lists) return undefined;
  const options = optionsOf(argv, data.options, env);
  if (!options) return undefined;
  const level = parseLogLevel(options.logLevel as string | undefined) ?? 'info';
  const log = createLogger({ name: data.server.name, level });
  const definitions = data.tools.map(
    (t) =>
      ({ name: t.name, toolset: t.toolset, annotations: { readOnlyHint: t.readOnlyHint } }) as ToolDefinition,
  );
  let served: ServedModes;
  try {
    // The same call, with the same logger, as the server's: the same warnings, once (the server does not repeat
    // them when it takes over).
    served = resolveModes(definitions, data.toolsets as ToolsetDefinition[], modesOf(options, data), log);
  } catch {
    // The server says what is wrong with the modes, and stops, as it always has.
    return undefined;
  }
  const tools = served.tools.map((t) => catalog[t.name]);
  if (tools.some((t) => t === undefined)) return undefined;
  log.info(`${data.server.name} ${data.server.version} serving ${tools.length} tools over stdio`);
  log.debug('quick start: the opening is answered from the build; the server loads when a message needs it');
  return { data, log, served, tools, instructions: renderInstructions(data.instructions, served) };
}

function modesOf(options: Record<string, unknown>, data: OpeningData): ModeOptions {
  return {
    toolsets: parseList(options.toolsets as string | undefined),
    tools: parseList(options.tools as string | undefined),
    readOnly: options.readOnly === true,
    enabled: data.switches.filter((s) => options[optionKey(s.flags)] === true).map((s) => s.id),
    envPrefix: data.envPrefix,
  };
}

/**
 * The options as core's command line reads them (flags, then their env variables), for the grammar a host's
 * configuration uses: `--flag`, `--flag value`, `--flag=value`. Anything else — a command, a short or unknown flag,
 * a value not among the choices, an option that shapes the opening — is the server's to read: undefined.
 */
function optionsOf(
  argv: string[],
  specs: OpeningOption[],
  env: NodeJS.ProcessEnv,
): Record<string, unknown> | undefined {
  const byFlag = new Map<string, OpeningOption>();
  for (const spec of specs) {
    const long = /--([a-z0-9-]+)/i.exec(spec.flags)?.[1];
    if (long) byFlag.set(long, spec);
  }
  const options: Record<string, unknown> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const m = /^--([a-z0-9-]+)(?:=(.*))?$/is.exec(arg);
    if (!m) return undefined;
    const spec = byFlag.get(m[1]!);
    if (!spec || spec.shapesOpening) return undefined;
    const key = optionKey(spec.flags);
    if (/[<[]/.test(spec.flags)) {
      const value = m[2] ?? argv[++i];
      if (value === undefined || (m[2] === undefined && value.startsWith('-'))) return undefined;
      if (spec.choices && !spec.choices.includes(value)) return undefined;
      options[key] = spec.list ? [...((options[key] as string[] | undefined) ?? []), value] : value;
    } else {
      if (m[2] !== undefined) return undefined;
      options[key] = !/^--no-/.test(spec.flags);
    }
  }
  for (const spec of specs) {
    const value = (spec.env && env[spec.env]) || (spec.fallbackEnv && env[spec.fallbackEnv]) || '';
    if (value === '') continue;
    if (spec.shapesOpening) return undefined;
    const key = optionKey(spec.flags);
    if (spec.list || options[key] !== undefined) continue;
    if (!/[<[]/.test(spec.flags)) options[key] = TRUE.has(value.toLowerCase());
    else if (spec.choices && !spec.choices.includes(value)) return undefined;
    else options[key] = value;
  }
  return options;
}

type Id = string | number;

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
type Era = 'legacy' | 'modern';

const ENVELOPE = {
  version: 'io.modelcontextprotocol/protocolVersion',
  capabilities: 'io.modelcontextprotocol/clientCapabilities',
  client: 'io.modelcontextprotocol/clientInfo',
  server: 'io.modelcontextprotocol/serverInfo',
};

/** One stdio session until the server takes it over. */
class QuickSession {
  private readonly chunks: Buffer[] = [];
  private line: Buffer[] = [];
  private lineBytes = 0;
  private readonly answered = new Set<Id>();
  private era: Era | undefined;
  private handedOver = false;
  /** What the message that needs the server is, for the log. */
  private needs = 'a line that is not a request it knows';
  private readonly serverInfo: { name: string; version: string; title?: string };

  constructor(
    private readonly plan: Plan,
    private readonly loadServer: () => Promise<unknown>,
  ) {
    this.serverInfo = plan.data.server;
  }

  start(): void {
    process.stdin.on('data', this.onData);
    process.stdin.on('end', this.onEnd);
    // Asked to stop before the server loaded: nothing to release, so leave as the server would, with 0.
    for (const signal of SIGNALS) process.once(signal, this.onSignal);
    // A host that goes away closes our stdout: writing to it must not crash with EPIPE.
    process.stdout.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(0);
    });
  }

  private readonly onSignal = (): void => process.exit(0);

  private readonly onEnd = (): void => {
    // The host closed the session before anything needed the server: nothing to release.
    process.exitCode = 0;
  };

  private readonly onData = (chunk: Buffer | string): void => {
    const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.chunks.push(data);
    let start = 0;
    while (!this.handedOver && start < data.length) {
      const newline = data.indexOf(0x0a, start);
      const piece = data.subarray(start, newline === -1 ? data.length : newline);
      this.line.push(piece);
      this.lineBytes += piece.length;
      if (newline === -1) {
        if (this.lineBytes > MAX_LINE_BYTES) {
          this.needs = 'a long message';
          this.handOver();
        }
        break;
      }
      const line = Buffer.concat(this.line).toString('utf8').replace(/\r$/, '');
      this.line = [];
      this.lineBytes = 0;
      start = newline + 1;
      if (line.trim() !== '' && !this.tryAnswer(line)) this.handOver();
    }
  };

  private tryAnswer(line: string): boolean {
    try {
      return this.answer(line);
    } catch {
      // Whatever the quick start did not foresee is the server's to answer.
      return false;
    }
  }

  /** Answer a line as the server would, or say it cannot (false). Notifications wait for the server. */
  private answer(line: string): boolean {
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      return false;
    }
    if (!isRecord(message) || message.jsonrpc !== '2.0' || typeof message.method !== 'string') return false;
    if (!('id' in message)) return true;
    this.needs = message.method;
    const id = message.id;
    if (typeof id !== 'string' && (typeof id !== 'number' || !Number.isInteger(id))) return false;
    if (this.answered.has(id)) return false;
    const result = this.resultOf(message.method, message.params);
    if (result === undefined) return false;
    this.answered.add(id);
    process.stdout.write(`${JSON.stringify({ result, jsonrpc: '2.0', id })}\n`);
    return true;
  }

  private resultOf(method: string, params: unknown): unknown {
    const { data, served, tools, instructions } = this.plan;
    const modern = modernEnvelope(params, data.versions!.modern);
    if (modern) {
      if (this.era === 'legacy') return undefined;
      const hints = (m: keyof typeof CACHE_HINTS) => ({
        resultType: 'complete',
        ...CACHE_HINTS[m],
        _meta: { [ENVELOPE.server]: this.serverInfo },
      });
      let result: unknown;
      if (method === 'server/discover') {
        result = {
          supportedVersions: data.versions!.modern,
          capabilities: this.capabilities('modern', served),
          ...(instructions !== undefined ? { instructions } : {}),
          ...hints('server/discover'),
        };
      } else if (method === 'tools/list') result = { tools, ...hints('tools/list') };
      else result = recorded(data.lists!.modern, method);
      if (result !== undefined) this.era = 'modern';
      return result;
    }
    if (this.era === undefined) {
      if (method !== 'initialize' || !isInitialize(params, data.versions!.legacy)) return undefined;
      this.era = 'legacy';
      return {
        protocolVersion: params.protocolVersion,
        capabilities: this.capabilities('legacy', served),
        serverInfo: this.serverInfo,
        ...(instructions !== undefined ? { instructions } : {}),
      };
    }
    if (this.era !== 'legacy' || (params !== undefined && !isEmpty(params))) return undefined;
    if (method === 'tools/list') return { tools };
    if (method === 'ping') return {};
    return recorded(data.lists!.legacy, method);
  }

  private capabilities(era: Era, served: ServedModes): Record<string, object> {
    const { data } = this.plan;
    const taskTools = new Set(data.tools.filter((t) => t.task).map((t) => t.name));
    return serverCapabilities({
      prompts: data.prompts,
      completions: data.completions,
      tasks: era === 'modern' && served.tools.some((t) => taskTools.has(t.name)),
    });
  }

  /** Load the server and give it the session: every byte read so far, and the ids already answered. */
  private handOver(): void {
    if (this.handedOver) return;
    this.handedOver = true;
    this.plan.log.debug(`quick start: ${this.needs} needs the server; loading it`);
    process.stdin.pause();
    process.stdin.off('data', this.onData);
    process.stdin.off('end', this.onEnd);
    for (const signal of SIGNALS) process.off(signal, this.onSignal);
    const received = Buffer.concat(this.chunks);
    offerHandoff({
      received,
      answered: this.answered,
      logged: true,
      failed: (sentence) => this.fail(received, sentence),
    });
    void run(this.loadServer, (sentence) => this.fail(received, sentence));
  }

  /** The server could not start: every request not answered hears why, in one sentence, and the process ends. */
  private fail(received: Buffer, sentence: string): void {
    const pending: Id[] = [];
    for (const line of received.toString('utf8').split('\n')) {
      try {
        const m = JSON.parse(line) as unknown;
        if (
          isRecord(m) &&
          typeof m.method === 'string' &&
          (typeof m.id === 'string' || typeof m.id === 'number')
        )
          if (!this.answered.has(m.id)) pending.push(m.id);
      } catch {
        // not a message: the server would have said so, had it started
      }
    }
    const lines = pending.map(
      (id) => `${JSON.stringify({ jsonrpc: '2.0', id, error: { code: -32603, message: sentence } })}\n`,
    );
    process.stdout.write(lines.join(''), () => process.exit(process.exitCode || 1));
  }
}

/** Load the server's bundle; a bundle that cannot load says why on stderr, as the bin would. */
async function run(loadServer: () => Promise<unknown>, failed?: (sentence: string) => void): Promise<void> {
  try {
    await loadServer();
  } catch (err) {
    process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 1;
    failed?.(`The server could not load its code: ${(err as Error)?.message ?? String(err)}`);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isEmpty(value: unknown): boolean {
  return isRecord(value) && Object.keys(value).length === 0;
}

/** An `initialize` the server answers by echoing its version: the three fields of the spec, and nothing more. */
function isInitialize(
  params: unknown,
  versions: string[],
): params is { protocolVersion: string; capabilities: object; clientInfo: object } {
  if (!isRecord(params)) return false;
  const keys = Object.keys(params);
  return (
    keys.length === 3 &&
    typeof params.protocolVersion === 'string' &&
    versions.includes(params.protocolVersion) &&
    isRecord(params.capabilities) &&
    isImplementation(params.clientInfo)
  );
}

function isImplementation(value: unknown): boolean {
  return isRecord(value) && typeof value.name === 'string' && typeof value.version === 'string';
}

/** Whether the params are exactly a 2026-07-28 request envelope (and nothing else) of a version the server speaks. */
function modernEnvelope(params: unknown, versions: string[]): boolean {
  if (!isRecord(params) || Object.keys(params).length !== 1 || !isRecord(params._meta)) return false;
  const meta = params._meta;
  return (
    Object.keys(meta).length === 3 &&
    typeof meta[ENVELOPE.version] === 'string' &&
    versions.includes(meta[ENVELOPE.version] as string) &&
    isRecord(meta[ENVELOPE.capabilities]) &&
    isImplementation(meta[ENVELOPE.client])
  );
}

function recorded(lists: Record<string, unknown>, method: string): unknown {
  return Object.hasOwn(lists, method) ? lists[method] : undefined;
}
