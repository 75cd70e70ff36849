import {
  AuthError,
  SecretKeyError,
  UserInputError,
  errorText,
  isSwitchyardError,
  type AzureToken,
  type CliContext,
  type CliDefinition,
} from '@switchyard/core';
import { DEFAULT_GRAPH_URL } from './auth.js';
import { covers, isPersonalTenant } from './scopes.js';
import { NAME, VERSION, buildMs365, ms365ForCommand } from './server.js';

const SETUP_HINT =
  'Register an app in Entra ID (App registrations → New registration), turn on "Allow public client flows" under Authentication, add the delegated Microsoft Graph permissions, then set MS365_CLIENT_ID to its Application (client) id';

function expiry(token: AzureToken): string {
  if (!token.expiresOn) return 'unknown';
  const minutes = Math.round((token.expiresOn.getTime() - Date.now()) / 60_000);
  return `${token.expiresOn.toISOString().slice(0, 16).replace('T', ' ')}Z (in ${minutes} min)`;
}

const shortScopes = (scopes: string[]) =>
  scopes
    .map((s) => s.replace(/^https:\/\/graph\.microsoft\.com\//i, ''))
    .filter((s) => !['openid', 'profile', 'offline_access', 'email'].includes(s.toLowerCase()));

async function login(ctx: CliContext): Promise<number> {
  const m = ms365ForCommand(ctx);
  const { clientId, tenantId } = await m.auth.settings();
  if (!clientId)
    throw new UserInputError('MS365_CLIENT_ID is not set, so there is no app to sign in with', {
      hint: SETUP_HINT,
    });
  if (m.auth.usesSuppliedToken) {
    process.stderr.write('Note: MS365_ACCESS_TOKEN is set and wins over this sign-in until you unset it.\n');
  }
  const personal = isPersonalTenant(tenantId);
  const scopes = m.plan(personal).all;
  process.stderr.write(`Signing in to ${tenantId} (profile ${ctx.profile}) for ${scopes.join(' ')}\n`);
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  let token: AzureToken;
  try {
    token = await (
      await m.auth.azure()
    ).deviceCode({
      scopes,
      signal: abort.signal,
      // The prompt goes to the terminal (stderr); stdout stays clean for scripts.
      onPrompt: (p) => process.stderr.write(`\n${p.message}\n\n`),
    });
  } finally {
    process.removeListener('SIGINT', stop);
  }
  await m.auth.saveSettings({ clientId, tenantId });
  const granted = shortScopes(token.scopes);
  const missing = scopes.filter((s) => !covers(granted, s));
  ctx.print(
    `Signed in as ${token.account?.username ?? 'unknown'} (profile ${ctx.profile}, tenant ${tenantId}).`,
  );
  ctx.print(`Granted: ${granted.join(' ')}`);
  if (missing.length) ctx.print(`Not granted: ${missing.join(' ')}; the tools that need them will say so.`);
  ctx.print(`Access token valid until ${expiry(token)}; it is refreshed silently from now on.`);
  ctx.print(`Token cache: ${await ctx.secrets.describe()}.`);
  return 0;
}

async function logout(ctx: CliContext): Promise<number> {
  const m = ms365ForCommand(ctx);
  let accounts = 0;
  try {
    accounts = await (await m.auth.azure()).signOut();
  } catch (err) {
    if (!(err instanceof AuthError)) throw err;
  }
  // Everything this profile stored (token cache, settings, unfinished upload sessions), readable or not:
  // no key is needed to remove it, so this is also the way out when the store's key was lost.
  await ctx.secrets.clear(m.auth.service);
  ctx.print(
    accounts > 0
      ? `Signed out of profile ${ctx.profile}: removed ${accounts} account(s) and the token cache.`
      : `Profile ${ctx.profile} had no sign-in; removed what it stored.`,
  );
  return 0;
}

async function status(ctx: CliContext): Promise<number> {
  const m = ms365ForCommand(ctx);
  const auth = m.auth;
  let settings: { clientId: string | undefined; tenantId: string };
  try {
    settings = await auth.settings();
  } catch (err) {
    // The stored settings cannot be read (the store's key is lost): say what was lost and what to run.
    if (!(err instanceof SecretKeyError)) throw err;
    ctx.print(`${NAME} ${VERSION}, profile ${ctx.profile}`);
    ctx.print(`Signed in: no. ${errorText(err)}`);
    return 1;
  }
  const { clientId, tenantId } = settings;
  const supplied = auth.usesSuppliedToken;
  const personal = supplied
    ? isPersonalTenant(auth.suppliedToken().account?.tenantId)
    : isPersonalTenant(tenantId);
  const needed = m.plan(personal).all;
  const out = (line: string) => ctx.print(line);
  out(`${NAME} ${VERSION}, profile ${ctx.profile}`);
  out(
    `App: ${clientId ? `client id ${clientId}` : 'no client id (MS365_CLIENT_ID not set)'}, tenant ${tenantId}, authority ${auth.authorityHost}`,
  );
  out(`Graph: ${auth.graphUrl}${auth.graphUrl === DEFAULT_GRAPH_URL ? '' : ' (MS365_GRAPH_URL)'}`);
  out(`Scopes the served tools need: ${needed.join(' ')}`);
  out(m.files.describe());

  let ok = true;
  try {
    const token = await auth.token(['User.Read']);
    const granted = shortScopes(token.scopes);
    const missing = needed.filter((s) => !covers(granted, s));
    out(
      `Signed in: ${token.account?.username ?? 'unknown account'}${supplied ? ' (MS365_ACCESS_TOKEN)' : ''}${personal ? ', a personal Microsoft account' : ''}`,
    );
    out(`Granted scopes: ${granted.join(' ') || 'none listed'}`);
    if (missing.length) {
      out(
        `Missing: ${missing.join(' ')} — run \`${auth.loginCommand}\` again (without --read-only for write scopes).`,
      );
    }
    out(`Access token expires: ${expiry(token)}`);
    try {
      const me = await m.hub
        .forScopes(['User.Read'])
        .get<{ displayName?: string; userPrincipalName?: string }>('/me', {
          query: { $select: 'displayName,userPrincipalName' },
        });
      out(`Graph answered: ${me.displayName ?? ''} <${me.userPrincipalName ?? ''}>`);
    } catch (err) {
      ok = false;
      out(`Graph did not answer: ${isSwitchyardError(err) ? errorText(err) : (err as Error).message}`);
    }
  } catch (err) {
    ok = false;
    out(`Signed in: no. ${isSwitchyardError(err) ? errorText(err) : (err as Error).message}`);
  }
  if (!supplied) out(`Token cache: ${await ctx.secrets.describe()}`);
  return ok ? 0 : 1;
}

export const cli: CliDefinition = {
  name: NAME,
  version: VERSION,
  description:
    'Microsoft 365 for MCP hosts: Outlook mail and calendar, OneDrive and SharePoint through Microsoft Graph, with your own delegated sign-in.',
  envPrefix: 'MS365',
  options: [
    {
      flags: '--client-id <id>',
      description: 'client id of your Entra app registration',
      env: 'MS365_CLIENT_ID',
    },
    {
      flags: '--tenant <id>',
      description: 'tenant id or domain; organizations (default) or consumers for personal accounts',
      env: 'MS365_TENANT_ID',
    },
    {
      flags: '--shared-mailboxes',
      description:
        'let mail and calendar tools take a mailbox address (shared mailboxes, delegated calendars); asks for the .Shared scopes',
      env: 'MS365_SHARED_MAILBOXES',
      // mail and calendar tools take a mailbox argument
      shapesOpening: true,
    },
  ],
  createServer: (ctx) => buildMs365(ctx).definition,
  login: {
    description: 'sign in with a device code (scopes follow --toolsets and --read-only)',
    action: login,
  },
  logout: { description: 'forget the sign-in of this profile', action: logout },
  status: {
    description: 'who is signed in, granted scopes, token expiry, whether Graph answers',
    action: status,
  },
  helpText: `Environment:
  MS365_CLIENT_ID       app registration (public client flows on); remembered by login
  MS365_TENANT_ID       tenant id or domain; organizations (default), consumers for personal accounts
  MS365_ACCESS_TOKEN    a Graph access token to use instead of the sign-in
  MS365_GRAPH_URL       Graph endpoint (default ${DEFAULT_GRAPH_URL})
  AZURE_AUTHORITY_HOST  sign-in authority (default https://login.microsoftonline.com)
  MS365_TIMEZONE        default time zone for calendar tools (IANA name)
  MS365_SHARED_MAILBOXES=1  same as --shared-mailboxes
  MS365_DOWNLOAD_DIR    default folder for downloads and uploads (default ~/Downloads/ms365-mcp)
  MS365_ALLOWED_DIRS    more folders tools may read and save files in (like --allow-dir)`,
};
