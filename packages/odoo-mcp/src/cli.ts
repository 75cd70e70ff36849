import {
  SecretKeyError,
  UserInputError,
  applyModes,
  errorText,
  isSwitchyardError,
  localFilesFor,
  packageVersion,
  registerSecret,
  type CliContext,
  type CliDefinition,
} from '@switchyard/core';
import {
  CONNECTION_ACCOUNT,
  KEY_ACCOUNT,
  loginCommand,
  normalizeUrl,
  protocolOption,
  readStored,
  resolveSettings,
  serviceName,
  type StoredConnection,
} from './config.js';
import { parseDate } from './dates.js';
import { OdooClient, type OdooSession, type OdooSettings } from './odoo-client.js';
import { JSON2_MAJOR } from './version.js';
import { createOdooServer } from './server.js';
import { ODOO_TOOLSETS } from './toolsets.js';

const version = packageVersion(import.meta.url);
const userAgent = `odoo-mcp/${version} (Switchyard; +https://github.com/switchyard/switchyard)`;

const protocolName = (p: string) => (p === 'json2' ? 'JSON-2' : 'JSON-RPC');

function clientFor(ctx: CliContext, settings: () => Promise<OdooSettings>): OdooClient {
  return new OdooClient({ settings, log: ctx.log, userAgent, loginCommand: loginCommand(ctx.profile) });
}

interface UserInfo {
  name: string;
  login: string;
  company: string;
  groups: string[];
}

async function userInfo(client: OdooClient, session: OdooSession): Promise<UserInfo> {
  const fields = await client.fields('res.users');
  const groupsField = 'group_ids' in fields ? 'group_ids' : 'groups_id';
  const [user] = await client.call<Array<Record<string, unknown>>>('res.users', 'read', {
    ids: [session.uid],
    fields: ['name', 'login', 'company_id', groupsField],
  });
  const groupIds = (user?.[groupsField] as number[] | undefined) ?? [];
  const groups =
    groupIds.length > 0
      ? await client
          .call<Array<{ full_name: string }>>('res.groups', 'read', { ids: groupIds, fields: ['full_name'] })
          .then((rows) => rows.map((g) => g.full_name).sort())
          .catch(() => [`${groupIds.length} groups (names not readable)`])
      : [];
  const company = user?.company_id;
  return {
    name: String(user?.name ?? '?'),
    login: String(user?.login ?? '?'),
    company: Array.isArray(company) ? String(company[1]) : '?',
    groups,
  };
}

function expiryText(expires: string | undefined, profile: string): string {
  if (!expires) return `expiry unknown (${loginCommand(profile)} --key-expires YYYY-MM-DD records it)`;
  const days = Math.floor((Date.parse(`${expires}T00:00:00Z`) - Date.now()) / 86_400_000);
  return days < 0 ? `EXPIRED on ${expires}` : `expires ${expires} (in ${days} day${days === 1 ? '' : 's'})`;
}

export const cli: CliDefinition = {
  name: 'odoo-mcp',
  version,
  description:
    'MCP server for Odoo ERP: sales orders, employees, inventory, invoices and grouped aggregates, over the JSON-2 (Odoo 19+) or JSON-RPC (Odoo 16-18) API. Writes only with --allow-writes.',
  envPrefix: 'ODOO',
  options: [
    {
      flags: '--url <address>',
      description: 'the Odoo address, e.g. https://acme.odoo.com',
      env: 'ODOO_URL',
    },
    { flags: '--db <name>', description: 'the database (when the server hosts several)', env: 'ODOO_DB' },
    {
      flags: '--username <login>',
      description: "the user's login, needed by JSON-RPC (Odoo 16-18)",
      env: 'ODOO_USERNAME',
    },
    {
      flags: '--protocol <name>',
      description: 'force json2 or jsonrpc (default auto: from the server version)',
      env: 'ODOO_PROTOCOL',
      choices: ['auto', 'json2', 'jsonrpc'],
    },
  ],
  // The write toolset is opt-in: core adds its --allow-writes switch (and ODOO_ALLOW_WRITES).
  toolsets: ODOO_TOOLSETS,
  helpText: [
    'Environment:',
    '  ODOO_URL, ODOO_DB, ODOO_USERNAME   where and as whom to connect (or use `login`)',
    '  ODOO_API_KEY                       the API key (Preferences → Account Security); else the keychain',
    "  ODOO_API_KEY_EXPIRES               the key's expiry date (YYYY-MM-DD), for warnings and errors",
    '  ODOO_ALLOW_WRITES=1                same as --allow-writes',
    '',
    'Toolsets: records, business, write (write only with --allow-writes).',
  ].join('\n'),

  createServer(ctx) {
    const client = clientFor(ctx, () => resolveSettings(ctx));
    return createOdooServer({ client, files: localFilesFor(ctx), version });
  },

  login: {
    description: 'store the Odoo address and API key (the key goes to the OS keychain), after checking them',
    options: [
      {
        flags: '--key-expires <date>',
        description: "the API key's expiry date (YYYY-MM-DD) as Odoo showed it, for warnings",
      },
    ],
    async action(ctx) {
      // A lost or damaged key of the encrypted store stops the login before anything is asked.
      await ctx.secrets.checkKey({ service: serviceName(ctx.profile) });
      const stored = await readStored(ctx);
      const rawUrl = (ctx.options.url as string | undefined) ?? stored?.url;
      if (!rawUrl) {
        throw new UserInputError('login needs the Odoo address', {
          hint: 'Pass --url https://acme.odoo.com (or set ODOO_URL)',
        });
      }
      const url = normalizeUrl(rawUrl);
      const same = stored?.url === url ? stored : undefined;
      const keyExpires = ctx.options.keyExpires
        ? parseDate(ctx.options.keyExpires as string, '--key-expires date')
        : undefined;
      const settings: OdooSettings = {
        url,
        db: (ctx.options.db as string | undefined) || same?.db,
        username: (ctx.options.username as string | undefined) || same?.username,
        apiKey: '',
        keyExpires,
        protocol: protocolOption(ctx),
      };
      const client = clientFor(ctx, async () => settings);
      // The version needs no key: know the protocol (and whether a login is needed) before asking for it.
      // A configured protocol needs no probe.
      const server = settings.protocol ? undefined : await client.serverVersion();
      const protocol = settings.protocol ?? (server!.major >= JSON2_MAJOR ? 'json2' : 'jsonrpc');
      if (protocol === 'jsonrpc' && !settings.username) {
        if (!process.stdin.isTTY) {
          throw new UserInputError(
            `${server ? `Odoo ${server.version}` : 'Odoo'} is reached over JSON-RPC, which signs in with a login; nothing was stored`,
            { hint: `Run \`${loginCommand(ctx.profile)} --username <login>\` again` },
          );
        }
        settings.username = (await ctx.ask('Odoo login (user name or email): ')).trim();
      }
      const apiKey = (await ctx.ask('Odoo API key: ', { hidden: true })).trim();
      if (!apiKey) throw new UserInputError('No API key was given; nothing was stored');
      registerSecret(apiKey);
      settings.apiKey = apiKey;
      const session = await client.session();
      const user = await userInfo(client, session);
      const connection: StoredConnection = {
        url,
        ...(session.db ? { db: session.db } : {}),
        ...(settings.username ? { username: settings.username } : {}),
        ...(keyExpires ? { keyExpires } : {}),
      };
      await ctx.secrets.set(serviceName(ctx.profile), KEY_ACCOUNT, apiKey);
      await ctx.secrets.set(serviceName(ctx.profile), CONNECTION_ACCOUNT, JSON.stringify(connection));
      ctx.print(
        `Signed in to Odoo ${session.version.version} at ${new URL(url).host}${session.db ? ` (database ${session.db})` : ''} as ${user.name} (${user.login}) over ${protocolName(session.protocol)}.`,
      );
      ctx.print(`Stored for profile ${ctx.profile}: the API key in ${await ctx.secrets.describe()}.`);
      if (ctx.env.ODOO_API_KEY)
        ctx.print('Note: ODOO_API_KEY is set in this environment and takes precedence.');
      return 0;
    },
  },

  logout: {
    description: 'remove the stored API key and connection of the profile',
    async action(ctx) {
      // Everything the profile stored goes, readable or not: no key is needed to remove it.
      const removed = await ctx.secrets.clear(serviceName(ctx.profile));
      ctx.print(
        removed.length > 0
          ? `Removed the stored Odoo API key and connection of profile ${ctx.profile}.`
          : `Nothing was stored for profile ${ctx.profile}.`,
      );
      if (ctx.env.ODOO_API_KEY) ctx.print('ODOO_API_KEY is still set in this environment.');
      return 0;
    },
  },

  status: {
    description: 'show the server version, protocol, user and groups, and what is misconfigured',
    // Every status ends with where secrets go: it says whether the OS keychain module loaded and answers.
    async action(ctx) {
      const code = await connectionStatus(ctx);
      ctx.print(`Secrets: ${await ctx.secrets.describe()}`);
      return code;
    },
  },
};

async function connectionStatus(ctx: CliContext): Promise<number> {
  const print = ctx.print;
  print(`odoo-mcp ${version}, profile ${ctx.profile}`);
  let settings;
  try {
    settings = await resolveSettings(ctx);
  } catch (err) {
    if (!isSwitchyardError(err)) throw err;
    print(
      `${err instanceof SecretKeyError ? 'Stored secrets unreadable' : 'Not configured'}: ${errorText(err)}`,
    );
    return 1;
  }
  print(
    `Odoo: ${settings.url} (from ${settings.urlSource})${settings.db ? `, database ${settings.db}` : ''}`,
  );
  print(
    `API key: from ${settings.keySource === 'env' ? 'ODOO_API_KEY' : `the ${settings.keySource === 'keychain' ? 'OS keychain' : 'encrypted file store'}`}; ${expiryText(settings.keyExpires, ctx.profile)}`,
  );
  const client = clientFor(ctx, async () => settings);
  try {
    const session = await client.session();
    // A forced protocol connected without a version probe; now that it works, the real version is asked for.
    await client.refineVersion();
    const user = await userInfo(client, session);
    print(
      `Server: Odoo ${session.version.version}; protocol ${protocolName(session.protocol)} (${session.forced ? 'forced' : 'detected'})${session.db ? `; database ${session.db}` : ''}`,
    );
    print(`User: ${user.name} (${user.login}), uid ${session.uid}, company ${user.company}`);
    print(
      `Time zone: ${session.tz}${session.tzFromUser ? " (the user's)" : " (the user has none set; this machine's)"}`,
    );
    print(`Groups (${user.groups.length}): ${user.groups.join('; ') || 'none'}`);
  } catch (err) {
    if (!isSwitchyardError(err)) throw err;
    print(`Connection failed: ${errorText(err)}`);
    return 1;
  }
  // What the server would serve with these modes, as core resolves them.
  const served = applyModes(createOdooServer({ client, files: localFilesFor(ctx), version }), ctx.modes);
  print(
    `Writes: ${served.serves('write') ? 'enabled (--allow-writes)' : 'off (start with --allow-writes to enable)'}`,
  );
  print(
    served.readOnly
      ? 'Attachments: not saved (--read-only serves no tool that writes to local disk)'
      : `Attachments: ${localFilesFor(ctx).describe()}`,
  );
  return 0;
}
