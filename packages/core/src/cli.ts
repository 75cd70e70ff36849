import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { Command, Option } from 'commander';
import { errorText, isSwitchyardError, UserInputError } from './errors.js';
import { createLogger, LOG_LEVELS, parseLogLevel, type Logger } from './log.js';
import { splitDirList } from './local-files.js';
import { switchyardPaths, type SwitchyardPaths } from './paths.js';
import { redact, redactWrites, registerSecret } from './redact.js';
import { SecretStore } from './secret-store.js';
import { openingDataOf, serveStdio, type ServerDefinition } from './server.js';
import { handoff } from './handoff.js';
import { optionKey } from './opening.js';
import { AuditLog } from './audit.js';
import { commandHint } from './command-hint.js';
import { parseListen, serveHttp } from './serve-http.js';
import { oauthFromEnv, onBehalfOfFromEnv } from './oauth.js';
import { parseList, type ModeOptions, type ToolsetDefinition } from './toolset.js';

export interface CliOption {
  /** Commander flags, e.g. `--cloud <name>` or `--allow-writes`. */
  flags: string;
  description: string;
  /** Environment variable read when the flag is absent. */
  env?: string;
  /** A second variable read when `env` is unset too (the `SWITCHYARD_` form of a shared option). */
  fallbackEnv?: string;
  choices?: string[];
  default?: string | boolean;
  /**
   * Its value changes what the opening says (instructions, tool schemas): a start that sets it, by flag or env, is
   * left to the full server instead of the quick start (quick-start.ts), which answers from build-time data.
   */
  shapesOpening?: boolean;
  /**
   * A list of folders: the flag may repeat, each value may hold several (comma- or path-delimiter-separated),
   * and both env variables add to it. The option's value is then a string array.
   */
  list?: boolean;
}

export interface CliContext {
  /** The CLI's name, e.g. `powerbi-mcp`. */
  name: string;
  version: string;
  /** The server's env prefix, e.g. `POWERBI`. */
  envPrefix: string;
  /** Every option (global and the command's own), camelCased, with env fallbacks applied. */
  options: Record<string, unknown>;
  profile: string;
  modes: ModeOptions;
  log: Logger;
  env: NodeJS.ProcessEnv;
  paths: SwitchyardPaths;
  /** The secret store, opened on first use. */
  readonly secrets: SecretStore;
  /** Write a line to the terminal. Only for commands: while serving, stdout belongs to MCP. */
  print(text: string): void;
  /** Ask on the terminal; `hidden` does not echo (for secrets). Reads a line from stdin when it is not a TTY. */
  ask(question: string, options?: { hidden?: boolean }): Promise<string>;
}

export interface CliCommand {
  description: string;
  options?: CliOption[];
  /** Returns the exit code (0 when omitted). */
  action(ctx: CliContext): Promise<number | void>;
}

export interface CliDefinition {
  /** The bin name, e.g. `powerbi-mcp`. */
  name: string;
  version: string;
  description: string;
  /** Prefix of this server's env variables, e.g. `POWERBI` for `POWERBI_READ_ONLY`. */
  envPrefix: string;
  options?: CliOption[];
  /**
   * The toolsets whose switch the command line must know: core adds the `enabledBy` flag of each opt-in toolset
   * (with its env variable) and hands the switched-on ones to the modes.
   */
  toolsets?: readonly ToolsetDefinition[];
  createServer(ctx: CliContext): Promise<ServerDefinition> | ServerDefinition;
  login: CliCommand;
  logout: CliCommand;
  status: CliCommand;
  commands?: Record<string, CliCommand>;
  /** Extra help text (environment variables, examples). */
  helpText?: string;
  /**
   * The command that stores one account of this server's secrets again, when plain `login` does not (e.g.
   * `lakehouse-mcp login --connection sales`): named in the hint when the secret store's key was lost.
   */
  loginFor?: (service: string, account: string) => string | undefined;
}

const TRUE = new Set(['1', 'true', 'yes', 'on']);

/** The version field of the package.json next to a built file (`dist/x.js` → `../package.json`). */
export function packageVersion(moduleUrl: string): string {
  const json = JSON.parse(readFileSync(new URL('../package.json', moduleUrl), 'utf8')) as { version: string };
  return json.version;
}

/**
 * The command line every server shares: serve by default; `login`, `logout`, `status`; `--version`,
 * `--help`, `--profile`, `--log-level` and the modes (`--toolsets`, `--tools`, `--read-only`).
 */
export async function runCli(def: CliDefinition, argv: string[] = process.argv): Promise<void> {
  // Whatever reaches stderr (our logger, a command's own lines, a library's message) is redacted on the way.
  redactWrites(process.stderr);
  const env = process.env;
  const P = def.envPrefix;
  const common: CliOption[] = [
    {
      flags: '--toolsets <list>',
      description: 'serve only these toolsets (comma-separated)',
      env: `${P}_TOOLSETS`,
      fallbackEnv: 'SWITCHYARD_TOOLSETS',
    },
    {
      flags: '--tools <list>',
      description: 'serve these tools too (comma-separated)',
      env: `${P}_TOOLS`,
      fallbackEnv: 'SWITCHYARD_TOOLS',
    },
    {
      flags: '--read-only',
      description: 'serve only tools that change nothing (wins over --tools)',
      env: `${P}_READ_ONLY`,
      fallbackEnv: 'SWITCHYARD_READ_ONLY',
    },
    {
      flags: '--no-confirm',
      description: `do not ask the user (through the host's elicitation) before sending, sharing or deleting (env ${P}_NO_CONFIRM or SWITCHYARD_NO_CONFIRM)`,
    },
    {
      flags: '--profile <name>',
      description: 'keep several accounts side by side',
      env: `${P}_PROFILE`,
      fallbackEnv: 'SWITCHYARD_PROFILE',
    },
    {
      flags: '--allow-dir <dir>',
      description:
        'let tools read and save local files under this folder too (repeatable; comma-separated); the default is ~/Downloads/<server> only',
      env: `${P}_ALLOWED_DIRS`,
      fallbackEnv: 'SWITCHYARD_ALLOWED_DIRS',
      list: true,
    },
    {
      flags: '--http <[host:]port>',
      description:
        'serve MCP over Streamable HTTP at /mcp instead of stdio (host 127.0.0.1 unless named; any other needs SWITCHYARD_HTTP_KEY)',
      env: 'SWITCHYARD_HTTP',
      shapesOpening: true,
    },
    {
      flags: '--audit-log <path>',
      description: 'append one JSON line per tool call to this file (0600, rotated at 10 MB, 3 kept)',
      env: 'SWITCHYARD_AUDIT_LOG',
    },
    {
      flags: '--log-level <level>',
      description: `stderr log level: ${LOG_LEVELS.join(', ')}`,
      env: 'SWITCHYARD_LOG_LEVEL',
      choices: [...LOG_LEVELS],
    },
  ];
  const switches = (def.toolsets ?? []).flatMap((set) =>
    set.enabledBy
      ? [
          {
            id: set.id,
            option: {
              flags: set.enabledBy.flags,
              description: set.enabledBy.description,
              env: set.enabledBy.env,
            },
          },
        ]
      : [],
  );
  const globals: CliOption[] = [...common, ...(def.options ?? []), ...switches.map((s) => s.option)];
  const program = new Command(def.name)
    .description(def.description)
    .version(def.version, '-v, --version')
    .showHelpAfterError()
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) });
  for (const o of globals) program.addOption(toOption(o));
  if (def.helpText) program.addHelpText('after', `\n${def.helpText}`);

  const context = (command: Command, own: CliOption[]): CliContext => {
    const raw = command.optsWithGlobals() as Record<string, unknown>;
    const options = applyEnv(raw, [...globals, ...own], env);
    const level = parseLogLevel(options.logLevel as string | undefined) ?? 'info';
    const log = createLogger({ name: def.name, level });
    let secrets: SecretStore | undefined;
    return {
      name: def.name,
      version: def.version,
      envPrefix: P,
      options,
      profile: (options.profile as string | undefined) || 'default',
      modes: {
        toolsets: parseList(options.toolsets as string | undefined),
        tools: parseList(options.tools as string | undefined),
        readOnly: options.readOnly === true,
        confirm:
          options.confirm !== false &&
          !TRUE.has((env[`${P}_NO_CONFIRM`] || env.SWITCHYARD_NO_CONFIRM || '').toLowerCase()),
        enabled: switches.filter((s) => options[optionKey(s.option.flags)] === true).map((s) => s.id),
        envPrefix: P,
      },
      log,
      env,
      paths: switchyardPaths(env),
      get secrets() {
        return (secrets ??= new SecretStore({
          env,
          log,
          ...(def.loginFor ? { loginFor: def.loginFor } : {}),
        }));
      },
      print: (text) => void process.stdout.write(`${redact(text)}\n`),
      ask,
    };
  };

  const run = async (work: () => Promise<number | void>): Promise<void> => {
    try {
      process.exitCode = (await work()) ?? 0;
    } catch (err) {
      const sentence = describeFailure(err);
      process.stderr.write(`${def.name}: ${sentence}\n`);
      process.exitCode = isSwitchyardError(err) && err.kind === 'user_input' ? 2 : 1;
      // The quick start answered the opening and handed over: the requests it could not answer hear why.
      handoff()?.failed(`${def.name} could not start: ${sentence}`);
    }
  };

  const serve = async (_opts: unknown, command: Command) => {
    await run(async () => {
      const ctx = context(command, []);
      installProcessHandlers(ctx.log);
      const server = await def.createServer(ctx);
      for (const set of server.toolsets) {
        if (set.enabledBy && !switches.some((s) => s.id === set.id))
          throw new Error(
            `Toolset '${set.id}' has a switch the command line does not know: list it in toolsets`,
          );
      }
      const audit = ctx.options.auditLog
        ? new AuditLog({ path: ctx.options.auditLog as string, log: ctx.log })
        : undefined;
      const http = ctx.options.http as string | undefined;
      const running = http
        ? await startHttp(def, ctx, server, http, audit)
        : await serveStdio(server, { modes: ctx.modes, log: ctx.log, ...(audit ? { audit } : {}) });
      const stop = () => void running.close();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      process.once('SIGHUP', stop);
      await running.stopping;
      // A host that went away must not leave the server behind holding files and locks: whatever is still
      // running (a long query, a load) gets a moment to stop, then the process leaves.
      setTimeout(
        () => {
          ctx.log.warn('still busy when asked to stop; leaving without waiting for the work in progress');
          // process.exit() would wait for native work that ignores interruption (a database engine joins its
          // threads at exit); a signal does not.
          process.kill(process.pid, 'SIGKILL');
        },
        ('graceMs' in running ? running.graceMs : undefined) ?? EXIT_GRACE_MS,
      ).unref();
      await running.closed;
      // Give stdout a moment to flush, then leave even if a library holds a handle open.
      setTimeout(() => process.exit(process.exitCode ?? 0), 200).unref();
      return 0;
    });
  };
  program.action(serve);
  program
    .command('serve')
    .description('serve MCP: over stdio (what a host runs), or over HTTP with --http [host:]port')
    .action(serve);
  program
    .command('http-key')
    .description('make a new key for --http, keep it in the keychain and print it once (--remove forgets it)')
    .option('--remove', 'forget the stored key')
    .action(async (_opts: unknown, command: Command) => {
      await run(async () => {
        const ctx = context(command, []);
        const service = httpKeyService(def.name);
        if (command.opts().remove) {
          const removed = await ctx.secrets.delete(service, ctx.profile);
          ctx.print(removed ? 'Forgot the HTTP key.' : 'No HTTP key was stored.');
          return 0;
        }
        const key = randomBytes(32).toString('base64url');
        await ctx.secrets.set(service, ctx.profile, key);
        // Printed once, on purpose, for the backend's configuration: stdout here is the terminal, not MCP.
        process.stdout.write(`${key}\n`);
        process.stderr.write(
          `Stored a new HTTP key for ${def.name} (profile ${ctx.profile}); backends send it as "Authorization: Bearer <key>".\n`,
        );
        return 0;
      });
    });

  // For the build (scripts/tools-list.mjs): the server's opening as data, from which the quick start answers.
  program
    .command('opening-data', { hidden: true })
    .description('print the opening as data, for the build')
    .action(async (_opts: unknown, command: Command) => {
      await run(async () => {
        const server = await def.createServer(context(command, []));
        const data = openingDataOf(server, {
          envPrefix: P,
          options: globals.map((o) => ({
            flags: o.flags,
            ...(o.env ? { env: o.env } : {}),
            ...(o.fallbackEnv ? { fallbackEnv: o.fallbackEnv } : {}),
            ...(o.choices ? { choices: o.choices } : {}),
            ...(o.list ? { list: true } : {}),
            ...(o.shapesOpening ? { shapesOpening: true } : {}),
          })),
          switches: switches.map((s) => ({ id: s.id, flags: s.option.flags })),
        });
        process.stdout.write(`${JSON.stringify(data)}\n`);
        return 0;
      });
    });

  const builtIn: Record<string, CliCommand> = { login: def.login, logout: def.logout, status: def.status };
  for (const [name, cmd] of Object.entries({ ...builtIn, ...def.commands })) {
    const sub = program.command(name).description(cmd.description);
    for (const o of cmd.options ?? []) sub.addOption(toOption(o));
    sub.action(async (_opts: unknown, command: Command) => {
      await run(async () => cmd.action(context(command, cmd.options ?? [])));
    });
  }

  await program.parseAsync(argv);
}

/** The secret store's service for a server's `--http` key (one per profile). */
function httpKeyService(name: string): string {
  return `${name}/http`;
}

/**
 * Serve over HTTP: the key from SWITCHYARD_HTTP_KEY, the seeds' MCP_API_KEY, or the secret store; the limits from
 * their env variables. Answers what the stdio path does, so the CLI waits on both the same way.
 */
async function startHttp(
  def: CliDefinition,
  ctx: CliContext,
  server: ServerDefinition,
  listen: string,
  audit: AuditLog | undefined,
): Promise<{ stopping: Promise<void>; closed: Promise<void>; close(): Promise<void>; graceMs: number }> {
  const { host, port } = parseListen(listen);
  const env = ctx.env;
  const fromEnv = env.SWITCHYARD_HTTP_KEY || env.MCP_API_KEY;
  const key = fromEnv
    ? (registerSecret(fromEnv), fromEnv)
    : (await ctx.secrets.resolve(httpKeyService(def.name), ctx.profile))?.value;
  if (key !== undefined && key.length < 16) {
    throw new UserInputError(
      `The HTTP key is ${key.length} characters long; use at least 16 random characters (\`${commandHint(`${def.name} http-key`)}\` makes one)`,
    );
  }
  const number = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value <= 0) {
      throw new UserInputError(`${name}=${raw} is not a positive number`);
    }
    return value;
  };
  const drainMs = number('SWITCHYARD_HTTP_DRAIN_S', 10) * 1000;
  const oauth = oauthFromEnv(env);
  const onBehalfOf = oauth ? onBehalfOfFromEnv(env, oauth, ctx.secrets, ctx.log) : undefined;
  let resolveStopping!: () => void;
  const stopping = new Promise<void>((resolve) => (resolveStopping = resolve));
  const running = await serveHttp(server, {
    host,
    port,
    modes: ctx.modes,
    log: ctx.log,
    ...(key ? { key } : {}),
    ...(oauth ? { oauth } : {}),
    ...(onBehalfOf ? { onBehalfOf } : {}),
    ...(audit ? { audit } : {}),
    maxConcurrent: number('SWITCHYARD_HTTP_MAX_CONCURRENT', 16),
    requestTimeoutMs: number('SWITCHYARD_HTTP_TIMEOUT_S', 300) * 1000,
    drainMs,
    allowedHosts: (env.SWITCHYARD_HTTP_ALLOWED_HOSTS ?? '')
      .split(',')
      .map((h) => h.trim())
      .filter(Boolean),
  });
  // What a supervisor or a test reads to find the port (`:0` picks one), whatever the log level.
  process.stderr.write(`${def.name}: listening on ${running.url}\n`);
  return {
    stopping,
    closed: running.closed,
    close: () => {
      resolveStopping();
      return running.close();
    },
    graceMs: drainMs + EXIT_GRACE_MS,
  };
}

/** How long a server may take to release its resources once asked to stop (stdin closed, SIGTERM). */
const EXIT_GRACE_MS = 1500;

function toOption(o: CliOption): Option {
  const option = new Option(o.flags, o.env ? `${o.description} (env ${o.env})` : o.description);
  if (o.choices) option.choices(o.choices);
  if (o.list)
    option.argParser((value: string, previous: string[] | undefined) => [
      ...(previous ?? []),
      ...splitDirList(value),
    ]);
  if (o.default !== undefined) option.default(o.default);
  return option;
}

function applyEnv(
  raw: Record<string, unknown>,
  specs: CliOption[],
  env: NodeJS.ProcessEnv,
): Record<string, unknown> {
  const options = { ...raw };
  for (const spec of specs) {
    const key = optionKey(spec.flags);
    if (spec.list) {
      // Folders add up: the flags, then the server's variable, then the shared one.
      const all = [
        ...((options[key] as string[] | undefined) ?? []),
        ...splitDirList(spec.env ? env[spec.env] : undefined),
        ...splitDirList(spec.fallbackEnv ? env[spec.fallbackEnv] : undefined),
      ];
      options[key] = all.filter((d, i) => all.indexOf(d) === i);
      continue;
    }
    const fromFlag = options[key];
    const isDefault = spec.default !== undefined && fromFlag === spec.default;
    if (fromFlag !== undefined && !isDefault) continue;
    const value = (spec.env && env[spec.env]) || (spec.fallbackEnv && env[spec.fallbackEnv]) || undefined;
    if (value === undefined || value === '') continue;
    const takesValue = /[<[]/.test(spec.flags);
    if (!takesValue) options[key] = TRUE.has(value.toLowerCase());
    else {
      if (spec.choices && !spec.choices.includes(value)) {
        throw new UserInputError(`${spec.env}=${value} is not one of ${spec.choices.join(', ')}`);
      }
      options[key] = value;
    }
  }
  return options;
}

/** The one line a CLI prints when a command fails: the error's sentence, or an id whose stack goes to stderr. */
export function describeFailure(err: unknown): string {
  if (isSwitchyardError(err)) return redact(errorText(err));
  const id = randomBytes(4).toString('hex');
  process.stderr.write(
    redact(`unexpected error ${id}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`),
  );
  return `failed with an unexpected error (id ${id}); the details are above.`;
}

let handlersInstalled = false;
function installProcessHandlers(log: Logger): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('unhandledRejection', (reason) => {
    const id = randomBytes(4).toString('hex');
    log.error(
      `unhandled rejection ${id} (the server keeps running): ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`,
    );
  });
  process.on('uncaughtException', (err) => {
    log.error(`uncaught exception, shutting down: ${err.stack ?? err.message}`);
    process.exit(1);
  });
  // A host that goes away closes our stdout: writing to it must not crash with EPIPE.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
  });
}

/** Ask a question on the terminal (stderr), optionally without echo; reads stdin when it is a pipe. */
export async function ask(question: string, options: { hidden?: boolean } = {}): Promise<string> {
  let muted = false;
  const output = new Writable({
    write(chunk: Buffer, _enc, done) {
      if (!muted) process.stderr.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: Boolean(process.stdin.isTTY) });
  try {
    return await new Promise<string>((resolve, reject) => {
      // Piped input is not echoed: end the prompt's line so later messages start on their own.
      rl.question(process.stdin.isTTY ? question : `${question}\n`, (answer) => resolve(answer.trim()));
      muted = options.hidden === true && Boolean(process.stdin.isTTY);
      rl.once('close', () => reject(new UserInputError('No answer was given on the terminal')));
    });
  } finally {
    if (muted) process.stderr.write('\n');
    rl.close();
  }
}
