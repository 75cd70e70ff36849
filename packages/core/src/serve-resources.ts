import { z } from 'zod';
import {
  ProtocolError,
  ProtocolErrorCode,
  UriTemplate,
  type Server,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { errorText, isSwitchyardError } from './errors.js';
import type { Logger } from './log.js';
import { redact, redactSecrets } from './redact.js';
import type { PromptDefinition, ResourceContext, ResourceDefinition } from './resource.js';
import { describeInputIssues } from './input-issues.js';
import { shortId } from './server-errors.js';
import type { Caller } from './tool.js';
import type { ServedModes } from './toolset.js';
import type { ServerDefinition } from './server.js';

/** The URI of the resource where every server publishes its toolsets and their tools. */
export const TOOLSETS_URI = 'switchyard://toolsets';

/**
 * What `switchyard://toolsets` holds: each toolset as data, the tools it declares and those the modes serve. It is
 * published once here rather than in each tool's `_meta`, which would take tools/list past its 16 KB budget.
 */
export interface PublishedToolset {
  id: string;
  description: string;
  default: boolean;
  /** The flag that turns an opt-in toolset on. */
  enabled_by?: string;
  tools: string[];
  served: string[];
}

export function publishedToolsets(def: ServerDefinition, served: ServedModes): PublishedToolset[] {
  const servedNames = new Set(served.tools.map((t) => t.name));
  return def.toolsets.map((set) => {
    const own = def.tools.filter((t) => t.toolset === set.id).map((t) => t.name);
    return {
      id: set.id,
      description: set.description,
      default: set.default,
      ...(set.enabledBy ? { enabled_by: set.enabledBy.flags } : {}),
      tools: own,
      served: own.filter((n) => servedNames.has(n)),
    };
  });
}

export function toolsetsResource(def: ServerDefinition, served: ServedModes): ResourceDefinition {
  const text = JSON.stringify({ toolsets: publishedToolsets(def, served) });
  return {
    name: 'toolsets',
    title: 'Toolsets',
    description: `The toolsets of ${def.name} (what --toolsets selects), the tools of each, and which are served.`,
    uriTemplate: TOOLSETS_URI,
    mimeType: 'application/json',
    read: async () => ({ text }),
  };
}

export function registerResources(
  server: Server,
  resources: ResourceDefinition[],
  log: Logger,
  /** Who asks, on each request: its principal, and over HTTP with per-user sign-in the signed-in user. */
  whoOf: (extra: ServerContext) => { principal: string; caller?: Caller | undefined },
): void {
  const contextOf = (extra: ServerContext): ResourceContext => {
    const { principal, caller } = whoOf(extra);
    return { signal: extra.mcpReq.signal, log, principal, ...(caller ? { caller } : {}) };
  };
  const templates = resources.map((r) => ({ def: r, template: new UriTemplate(r.uriTemplate) }));
  const isTemplate = (r: ResourceDefinition) => UriTemplate.isTemplate(r.uriTemplate);
  const toProtocolError = (err: unknown): ProtocolError => {
    if (err instanceof ProtocolError) return err;
    if (isSwitchyardError(err)) {
      const code =
        err.kind === 'not_found' || err.kind === 'user_input'
          ? ProtocolErrorCode.InvalidParams
          : ProtocolErrorCode.InternalError;
      return new ProtocolError(code, redact(errorText(err)));
    }
    const id = shortId();
    log.error(
      `unexpected error ${id} reading a resource: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
    );
    return new ProtocolError(
      ProtocolErrorCode.InternalError,
      `Reading the resource failed unexpectedly (id ${id}); see the server's log`,
    );
  };

  server.setRequestHandler('resources/list', async (_request, extra) => {
    const ctx = contextOf(extra);
    const listed = [];
    for (const r of resources) {
      if (!isTemplate(r)) {
        listed.push({
          uri: r.uriTemplate,
          name: r.name,
          description: r.description,
          ...(r.mimeType ? { mimeType: r.mimeType } : {}),
        });
      } else if (r.list) {
        try {
          listed.push(...(await r.list(ctx)).map((item) => ({ mimeType: r.mimeType, ...item })));
        } catch (err) {
          // Listing is a convenience: a server without credentials still answers, just with fewer entries.
          log.info(`could not enumerate ${r.name}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    }
    return { resources: listed };
  });

  server.setRequestHandler('resources/templates/list', () => ({
    resourceTemplates: resources.filter(isTemplate).map((r) => ({
      uriTemplate: r.uriTemplate,
      name: r.name,
      ...(r.title ? { title: r.title } : {}),
      description: r.description,
      ...(r.mimeType ? { mimeType: r.mimeType } : {}),
    })),
  }));

  server.setRequestHandler('resources/read', async (request, extra) => {
    const uri = request.params.uri;
    for (const { def, template } of templates) {
      const match = isTemplate(def) ? template.match(uri) : def.uriTemplate === uri ? {} : null;
      if (!match) continue;
      const params = Object.fromEntries(
        Object.entries(match).map(([k, v]) => [k, decodeURIComponent(Array.isArray(v) ? v.join(',') : v)]),
      );
      try {
        const content = await def.read(params, contextOf(extra));
        return {
          contents: [
            {
              uri,
              mimeType: content.mimeType ?? def.mimeType ?? 'text/plain',
              text: redactSecrets(content.text),
            },
          ],
        };
      } catch (err) {
        throw toProtocolError(err);
      }
    }
    // SEP-2164: an unknown resource is -32602 with the URI asked for in `data`.
    throw new ProtocolError(
      ProtocolErrorCode.InvalidParams,
      `No resource matches '${uri}'; see resources/templates/list`,
      { uri },
    );
  });

  if (resources.some((r) => r.complete)) {
    server.setRequestHandler('completion/complete', async (request, extra) => {
      const ref = request.params.ref;
      const def = ref.type === 'ref/resource' ? resources.find((r) => r.uriTemplate === ref.uri) : undefined;
      const complete = def?.complete?.[request.params.argument.name];
      const values = complete
        ? await complete(request.params.argument.value, contextOf(extra)).catch(() => [])
        : [];
      return {
        completion: { values: values.slice(0, 100), total: values.length, hasMore: values.length > 100 },
      };
    });
  }
}

export function registerPrompts(server: Server, prompts: PromptDefinition[]): void {
  const byName = new Map(prompts.map((p) => [p.name, p]));
  server.setRequestHandler('prompts/list', () => ({
    prompts: prompts.map((p) => ({
      name: p.name,
      title: p.title,
      description: p.description,
      arguments: Object.entries(p.args).map(([name, schema]) => ({
        name,
        description: schema.description ?? name,
        required: !schema.safeParse(undefined).success,
      })),
    })),
  }));
  server.setRequestHandler('prompts/get', (request) => {
    const prompt = byName.get(request.params.name);
    if (!prompt)
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown prompt '${request.params.name}'`);
    const promptArgs = request.params.arguments ?? {};
    const parsed = z.object(prompt.args).safeParse(promptArgs);
    if (!parsed.success)
      throw new ProtocolError(
        ProtocolErrorCode.InvalidParams,
        describeInputIssues(prompt.name, parsed.error, promptArgs),
      );
    const built = prompt.build(parsed.data);
    const messages = typeof built === 'string' ? [{ role: 'user' as const, text: built }] : built;
    return {
      description: prompt.description,
      messages: messages.map((m) => ({ role: m.role, content: { type: 'text' as const, text: m.text } })),
    };
  });
}
