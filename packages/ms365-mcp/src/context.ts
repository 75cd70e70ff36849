import {
  defineTool,
  type Caller,
  type LocalFiles,
  type Logger,
  type SecretStore,
  type Confirmation,
  type ToolAnnotations,
  type ToolContext,
  type ToolDefinition,
  type ToolReply,
  type z,
} from '@switchyard/core';
import { Ms365Auth } from './auth.js';
import { GraphHub, type Graph } from './graph-client.js';
import { ScopePlan, type Capability } from './scopes.js';
import { UploadSessions } from './upload.js';
import { defaultZone } from './time.js';

type Shape = z.ZodRawShape;

export interface GraphToolSpec<I extends Shape, O extends Shape | undefined> {
  name: string;
  title: string;
  description: string;
  toolset: 'mail' | 'calendar' | 'files' | 'sharing' | 'sharepoint';
  input: I;
  output?: O;
  annotations: ToolAnnotations;
  /** The byte cap of the whole answer (see core's ToolSpec.maxBytes). */
  maxBytes?: number | ((args: z.output<z.ZodObject<I>>) => number);
  /** What the tool needs from Graph; the scopes follow from it and from what else is served. */
  needs: Capability[];
  /** Whether this call runs as an MCP task for a client that takes them (core's ToolSpec.task). */
  task?: boolean | ((args: z.output<z.ZodObject<I>>) => boolean | Promise<boolean>);
  /** What the user is asked before a send, share or cancel (core's ToolSpec.confirm), with Graph at hand. */
  confirm?: (
    args: z.output<z.ZodObject<I>>,
    ctx: ToolContext,
    graph: Graph,
  ) => Promise<Confirmation | undefined> | Confirmation | undefined;
  handler: (
    args: z.output<z.ZodObject<I>>,
    ctx: ToolContext,
    graph: Graph,
  ) => Promise<ToolReply<O extends Shape ? z.input<z.ZodObject<O>> : Record<string, unknown>>>;
}

export interface Ms365Options {
  env: NodeJS.ProcessEnv;
  profile: string;
  /** Where tools may read and save local files. */
  files: LocalFiles;
  secrets: () => SecretStore;
  log: Logger;
  clientId?: string | undefined;
  tenantId?: string | undefined;
  /** Shared mailboxes and delegated calendars (`--shared-mailboxes`): a `mailbox` argument and the `.Shared` scopes. */
  sharedMailboxes?: boolean | undefined;
}

/** What every tool shares: the sign-in, Graph clients per scope set, local folders, defaults. */
export class Ms365 {
  readonly auth: Ms365Auth;
  readonly hub: GraphHub;
  readonly env: NodeJS.ProcessEnv;
  readonly log: Logger;
  readonly files: LocalFiles;
  readonly uploads: UploadSessions;
  readonly sharedMailboxes: boolean;
  private readonly needs = new Map<string, Capability[]>();
  private served: string[] | undefined;
  private plans = new Map<boolean, ScopePlan>();

  constructor(options: Ms365Options) {
    this.env = options.env;
    this.log = options.log;
    this.auth = new Ms365Auth(options);
    this.hub = new GraphHub(this.auth, options.log);
    this.files = options.files;
    this.uploads = new UploadSessions(options.secrets, this.auth.service);
    this.sharedMailboxes = options.sharedMailboxes ?? false;
  }

  get defaultZone(): string {
    return defaultZone(this.env);
  }

  /** Declare a tool that talks to Graph; its handler gets a client carrying the scopes it needs. */
  tool<I extends Shape, O extends Shape | undefined = undefined>(spec: GraphToolSpec<I, O>): ToolDefinition {
    this.needs.set(spec.name, spec.needs);
    const { needs, handler, annotations, confirm, ...rest } = spec;
    return defineTool<I, O>({
      ...rest,
      annotations: onTheWire(annotations),
      ...(confirm
        ? {
            confirm: async (args, ctx) =>
              confirm(
                args,
                ctx,
                await this.graph(needs, { otherMailbox: mailboxGiven(args), caller: ctx.caller }),
              ) as Confirmation<never> | undefined,
          }
        : {}),
      handler: async (args, ctx) =>
        handler(args, ctx, await this.graph(needs, { otherMailbox: mailboxGiven(args), caller: ctx.caller })),
    });
  }

  /** Which tools this server serves (after modes): the scope plan follows them. */
  serve(names: string[]): void {
    this.served = names;
    this.plans.clear();
  }

  /** The scopes of the served tools, for `login` and `status`. */
  plan(personal: boolean): ScopePlan {
    let plan = this.plans.get(personal);
    if (!plan) {
      const names = this.served ?? [...this.needs.keys()];
      plan = new ScopePlan(
        names.map((n) => this.needs.get(n) ?? []),
        { personal, sharedMailboxes: this.sharedMailboxes },
      );
      this.plans.set(personal, plan);
    }
    return plan;
  }

  async graph(
    needs: Capability[],
    options: { otherMailbox?: boolean; caller?: Caller | undefined } = {},
  ): Promise<Graph> {
    // A user signed in over HTTP: that user's work account, through the on-behalf-of exchange.
    if (options.caller) return this.hub.forCaller(options.caller, this.plan(false).scopesFor(needs, options));
    const personal = this.auth.usesSuppliedToken ? false : await this.auth.personalTenant();
    return this.hub.forScopes(this.plan(personal).scopesFor(needs, options));
  }
}

/**
 * The annotations as tools/list carries them: hints equal to the MCP defaults (destructiveHint true, idempotentHint
 * false, openWorldHint true; modelcontextprotocol.io/specification, ToolAnnotations) are left out, which means the
 * same to a client and keeps tools/list under 16 KB with shared mailboxes on. readOnlyHint always stays.
 */
export function onTheWire(a: ToolAnnotations): ToolAnnotations {
  const out: ToolAnnotations = { readOnlyHint: a.readOnlyHint };
  if (a.destructiveHint === false) out.destructiveHint = false;
  if (a.idempotentHint === true) out.idempotentHint = true;
  if (a.openWorldHint === false) out.openWorldHint = false;
  return out;
}

/** Whether a call names a mailbox (a shared mailbox or a delegator's calendar), which needs the `.Shared` scopes. */
function mailboxGiven(args: Record<string, unknown>): boolean {
  return typeof args.mailbox === 'string' && args.mailbox.trim() !== '';
}
