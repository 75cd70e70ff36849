// The worked example of docs/adding-a-server.md: a server for a small notes API, in one file so the guide can
// show it whole. A real server spreads the same parts over src/ (toolsets.ts, <system>-client.ts,
// tools/<area>.ts, server.ts, cli.ts, index.ts). core/test/docs-example.test.ts type-checks this file and checks
// that the guide quotes it unchanged.
import {
  AuthError,
  commandHint,
  cursorArg,
  defineTool,
  defineToolset,
  fenceUntrusted,
  formatTable,
  HttpClient,
  listFooter,
  NotFoundError,
  positionOffset,
  runCli,
  z,
  type CliContext,
  type ServerDefinition,
} from '@switchyard/core';

// ---- toolsets: data that --toolsets selects and switchyard://toolsets publishes
const TOOLSETS = [defineToolset({ id: 'notes', description: 'Find and read notes.' })];

// ---- the upstream client: core's HttpClient does timeouts, retries, 429s and the upstream's error text
interface Note {
  id: string;
  title: string;
  body: string;
}

function notesClient(ctx: CliContext) {
  const http = new HttpClient({
    service: 'Notes',
    baseUrl: ctx.env.NOTES_URL ?? 'https://notes.example.com/api',
    auth: async () => {
      const key =
        ctx.env.NOTES_API_KEY ?? (await ctx.secrets.get(`switchyard/notes/${ctx.profile}`, 'api-key'));
      if (!key)
        throw new AuthError('No Notes API key is stored', { hint: `Run ${commandHint('notes-mcp login')}` });
      return { authorization: `Bearer ${key}` };
    },
  });
  return {
    list: (skip: number, top: number, signal: AbortSignal) =>
      http.get<{ items: Note[]; total: number }>('/notes', { query: { skip, top }, signal }),
    get: (id: string, signal: AbortSignal) =>
      http.get<Note | undefined>(`/notes/${encodeURIComponent(id)}`, { signal }),
  };
}

// ---- tools: a handler parses, calls one domain function, shapes the answer
function noteTools(notes: ReturnType<typeof notesClient>) {
  return [
    defineTool({
      name: 'notes_list_notes',
      title: 'List notes',
      description:
        'Lists notes (id, title) newest first, 50 at a time with next_cursor. Start here to find a note.',
      toolset: 'notes',
      input: {
        top: z.number().int().min(1).max(200).default(50).describe('Notes per page (1-200).'),
        cursor: cursorArg,
      },
      output: { returned: z.number(), total: z.number() },
      annotations: { readOnlyHint: true, openWorldHint: true },
      handler: async (args, { signal, nextCursor }) => {
        const skip = positionOffset(args.cursor);
        const page = await notes.list(skip, args.top, signal);
        const more = skip + page.items.length < page.total;
        const table = formatTable(
          ['id', 'title'],
          page.items.map((n) => [n.id, n.title]),
        );
        const footer = listFooter({
          shown: page.items.length,
          total: page.total,
          noun: 'note',
          truncated: more,
          cursor: more ? nextCursor?.(String(skip + page.items.length)) : undefined,
        });
        // Titles are typed by people: fenced, so that none reads as an instruction.
        return {
          text: `${footer}\n${fenceUntrusted(table.text, 'Notes')}`,
          data: { returned: page.items.length, total: page.total },
        };
      },
    }),
    defineTool({
      name: 'notes_get_note',
      title: 'Read a note',
      description: 'Reads one note by id (from notes_list_notes): its title and body.',
      toolset: 'notes',
      input: { id: z.string().min(1).max(100).describe('The note id.') },
      annotations: { readOnlyHint: true, openWorldHint: true },
      handler: async ({ id }, { signal }) => {
        const note = await notes.get(id, signal);
        if (!note)
          throw new NotFoundError(`No note has id '${id}'`, { hint: 'Call notes_list_notes for the ids' });
        return { text: fenceUntrusted(`${note.title}\n\n${note.body}`, `Note ${id}`) };
      },
    }),
  ];
}

// ---- the server and its command line (src/server.ts, src/cli.ts; src/index.ts is `await runCli(cli)`)
function createServer(ctx: CliContext): ServerDefinition {
  return {
    name: 'notes-mcp',
    version: ctx.version,
    instructions: 'Notes of the signed-in user: list them to find an id, then read one.',
    toolsets: TOOLSETS,
    tools: noteTools(notesClient(ctx)),
  };
}

export const cli = {
  name: 'notes-mcp',
  version: '0.1.0',
  description: 'MCP server for the Notes API',
  envPrefix: 'NOTES',
  createServer,
  login: {
    description: 'store a Notes API key in the OS keychain',
    action: async (ctx: CliContext) => {
      const key = await ctx.ask('Notes API key: ', { hidden: true });
      await ctx.secrets.set(`switchyard/notes/${ctx.profile}`, 'api-key', key);
      ctx.print('Stored.');
    },
  },
  logout: {
    description: 'forget the stored key',
    action: async (ctx: CliContext) => {
      await ctx.secrets.delete(`switchyard/notes/${ctx.profile}`, 'api-key');
    },
  },
  status: {
    description: 'say whether a key is stored',
    action: async (ctx: CliContext) => {
      const stored = await ctx.secrets.get(`switchyard/notes/${ctx.profile}`, 'api-key');
      ctx.print(stored ? 'A Notes API key is stored.' : 'No key: run notes-mcp login.');
    },
  },
};

if (process.argv[1]?.endsWith('notes-mcp.js')) await runCli(cli);
