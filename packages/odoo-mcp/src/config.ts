/**
 * Where the connection comes from: flags and env first (ODOO_URL, ODOO_DB, ODOO_USERNAME, ODOO_API_KEY),
 * then what `odoo-mcp login` stored for the profile (the API key in the keychain, the rest beside it).
 */
import { AuthError, commandHint, UserInputError, type CliContext, type SecretSource } from '@switchyard/core';
import { parseDate } from './dates.js';
import type { OdooSettings } from './odoo-client.js';
import type { Protocol } from './transport.js';

export const serviceName = (profile: string) => `switchyard/odoo/${profile}`;
export const KEY_ACCOUNT = 'api_key';
export const CONNECTION_ACCOUNT = 'connection';

export interface StoredConnection {
  url: string;
  db?: string | undefined;
  username?: string | undefined;
  keyExpires?: string | undefined;
}

export interface ResolvedSettings extends OdooSettings {
  urlSource: 'flag or ODOO_URL' | 'login';
  keySource: SecretSource;
}

export function loginCommand(profile: string): string {
  return commandHint(`odoo-mcp login${profile === 'default' ? '' : ` --profile ${profile}`}`);
}

/** "https://acme.odoo.com/odoo/action-123" → "https://acme.odoo.com"; other paths (a proxy prefix) stay. */
export function normalizeUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new UserInputError(`'${raw}' is not a URL; give the Odoo address, e.g. https://acme.odoo.com`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UserInputError(
      `'${raw}' is not an http(s) address; give the Odoo address, e.g. https://acme.odoo.com`,
    );
  }
  const path = url.pathname.replace(/\/(web|odoo)(\/.*)?$/, '').replace(/\/+$/, '');
  return `${url.origin}${path}`;
}

export async function readStored(ctx: CliContext): Promise<StoredConnection | undefined> {
  const raw = await ctx.secrets.get(serviceName(ctx.profile), CONNECTION_ACCOUNT);
  if (!raw) return undefined;
  try {
    const parsed = JSON.parse(raw) as StoredConnection;
    return typeof parsed.url === 'string' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

export function protocolOption(ctx: CliContext): Protocol | undefined {
  const value = ctx.options.protocol as string | undefined;
  return value === 'json2' || value === 'jsonrpc' ? value : undefined;
}

/** The settings for a connection, or a clear error saying what is missing. */
export async function resolveSettings(ctx: CliContext): Promise<ResolvedSettings> {
  const stored = await readStored(ctx);
  const flagUrl = ctx.options.url as string | undefined;
  const url = flagUrl ? normalizeUrl(flagUrl) : stored?.url;
  if (!url) {
    throw new UserInputError(
      'No Odoo address is configured: ODOO_URL is not set and nothing was stored by login',
      {
        hint: `Set ODOO_URL (e.g. https://acme.odoo.com) and ODOO_API_KEY, or run \`${loginCommand(ctx.profile)} --url <address>\``,
      },
    );
  }
  // What login stored belongs to the address it was stored for.
  const same = stored && stored.url === url ? stored : undefined;
  const key = await ctx.secrets.resolve(serviceName(ctx.profile), KEY_ACCOUNT, 'ODOO_API_KEY');
  if (!key) {
    throw new AuthError(`No Odoo API key is configured for profile '${ctx.profile}'`, {
      hint: `Run \`${loginCommand(ctx.profile)}\`, or set ODOO_API_KEY (Odoo: Preferences → Account Security → New API Key)`,
    });
  }
  const envExpiry = ctx.env.ODOO_API_KEY_EXPIRES;
  const keyExpires =
    key.source === 'env'
      ? envExpiry
        ? parseDate(envExpiry, 'ODOO_API_KEY_EXPIRES')
        : undefined
      : same?.keyExpires;
  if (keyExpires) {
    const days = Math.floor((Date.parse(`${keyExpires}T00:00:00Z`) - Date.now()) / 86_400_000);
    if (days < 0)
      ctx.log.warn(
        `the Odoo API key expired on ${keyExpires}; run ${loginCommand(ctx.profile)} with a new key`,
      );
    else if (days < 14) ctx.log.warn(`the Odoo API key expires on ${keyExpires} (in ${days} days)`);
  }
  if (url.startsWith('http:') && !/^http:\/\/(localhost|127\.0\.0\.1|\[::1\])([:/]|$)/.test(url)) {
    ctx.log.warn(`ODOO_URL uses plain http: the API key travels unencrypted to ${new URL(url).host}`);
  }
  return {
    url,
    db: (ctx.options.db as string | undefined) || same?.db,
    username: (ctx.options.username as string | undefined) || same?.username,
    apiKey: key.value,
    keySource: key.source,
    keyExpires,
    protocol: protocolOption(ctx),
    urlSource: flagUrl ? 'flag or ODOO_URL' : 'login',
  };
}
