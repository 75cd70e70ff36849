import {
  AuthError,
  commandHint,
  AzureSignIn,
  authorityHostFor,
  suppliedToken,
  type AzureToken,
  type Logger,
  type SecretStore,
} from '@switchyard/core';
import { isPersonalTenant } from './scopes.js';

export const DEFAULT_GRAPH_URL = 'https://graph.microsoft.com/v1.0';
const SETTINGS_ACCOUNT = 'settings';

/** What `login` remembers so that a host needs no env variables afterwards. Not secret, kept beside the cache. */
export interface StoredSettings {
  clientId: string;
  tenantId: string;
}

export interface AuthOptions {
  env: NodeJS.ProcessEnv;
  profile: string;
  /** Opened on first use: start-up never touches the keychain. */
  secrets: () => SecretStore;
  log: Logger;
  /** `--client-id` / `--tenant` from the command line, when given. */
  clientId?: string | undefined;
  tenantId?: string | undefined;
}

/**
 * The delegated sign-in of one profile: a supplied `MS365_ACCESS_TOKEN`, or the MSAL cache that
 * `ms365-mcp login` filled (in core's SecretStore under `switchyard/ms365/<profile>`), refreshed
 * silently. It never prompts: without a usable sign-in a call fails at once with what to run.
 */
export class Ms365Auth {
  readonly service: string;
  private readonly options: AuthOptions;
  private signIn: Promise<AzureSignIn> | undefined;
  private supplied: AzureToken | undefined;
  private resolved: Promise<{ clientId: string | undefined; tenantId: string }> | undefined;
  /** The account behind the last token handed out (for the personal-account check). */
  lastAccount: { username: string; tenantId: string } | undefined;

  constructor(options: AuthOptions) {
    this.options = options;
    this.service = `switchyard/ms365/${options.profile}`;
  }

  get profile(): string {
    return this.options.profile;
  }

  /** The command that signs in, for hints: includes `--profile` when it is not the default one. */
  get loginCommand(): string {
    return commandHint(
      `ms365-mcp login${this.options.profile === 'default' ? '' : ` --profile ${this.options.profile}`}`,
    );
  }

  get loginHint(): string {
    return `Run \`${this.loginCommand}\` in a terminal`;
  }

  get authorityHost(): string {
    return authorityHostFor('public', this.options.env);
  }

  get graphUrl(): string {
    return (this.options.env.MS365_GRAPH_URL || DEFAULT_GRAPH_URL).replace(/\/+$/, '');
  }

  /** Whether `MS365_ACCESS_TOKEN` is set (it wins over the stored sign-in). */
  get usesSuppliedToken(): boolean {
    return Boolean(this.options.env.MS365_ACCESS_TOKEN);
  }

  async storedSettings(): Promise<StoredSettings | undefined> {
    const raw = await this.options.secrets().get(this.service, SETTINGS_ACCOUNT);
    if (!raw) return undefined;
    try {
      return JSON.parse(raw) as StoredSettings;
    } catch {
      return undefined;
    }
  }

  async saveSettings(settings: StoredSettings): Promise<void> {
    await this.options.secrets().set(this.service, SETTINGS_ACCOUNT, JSON.stringify(settings));
  }

  /** Client and tenant: command line, then env, then what `login` stored (read once per process). */
  settings(): Promise<{ clientId: string | undefined; tenantId: string }> {
    const loading = (this.resolved ??= this.resolveSettings());
    loading.catch(() => (this.resolved = undefined));
    return loading;
  }

  private async resolveSettings(): Promise<{ clientId: string | undefined; tenantId: string }> {
    const { env } = this.options;
    const explicitClient = this.options.clientId || env.MS365_CLIENT_ID;
    const explicitTenant = this.options.tenantId || env.MS365_TENANT_ID;
    const stored = explicitClient && explicitTenant ? undefined : await this.storedSettings();
    return {
      clientId: explicitClient || stored?.clientId,
      tenantId: explicitTenant || stored?.tenantId || 'organizations',
    };
  }

  /** Whether the configured tenant is the personal-account one (`consumers`). */
  async personalTenant(): Promise<boolean> {
    if (this.usesSuppliedToken) return isPersonalTenant(this.suppliedToken().account?.tenantId);
    return isPersonalTenant((await this.settings()).tenantId);
  }

  async azure(): Promise<AzureSignIn> {
    return (this.signIn ??= (async () => {
      const { clientId, tenantId } = await this.settings();
      if (!clientId) {
        throw new AuthError('Not signed in: no app registration is configured (MS365_CLIENT_ID is not set)', {
          hint: `Set MS365_CLIENT_ID to the client id of your Azure app registration and run \`${this.loginCommand}\` in a terminal`,
        });
      }
      return new AzureSignIn({
        clientId,
        tenantId,
        authorityHost: this.authorityHost,
        secrets: this.options.secrets(),
        cacheService: this.service,
        loginHint: this.loginHint,
        log: this.options.log,
      });
    })().catch((err: unknown) => {
      this.signIn = undefined;
      throw err;
    }));
  }

  suppliedToken(): AzureToken {
    return (this.supplied ??= suppliedToken(this.options.env.MS365_ACCESS_TOKEN!));
  }

  /** A token for these scopes, from `MS365_ACCESS_TOKEN` or the cache (refreshed when needed). */
  async token(scopes: string[], forceRefresh = false): Promise<AzureToken> {
    if (this.usesSuppliedToken) {
      const token = this.suppliedToken();
      this.remember(token);
      return token;
    }
    // core's silent() reuses a held token until shortly before expiry, so this stays cheap per call.
    const token = await (await this.azure()).silent({ scopes, forceRefresh });
    this.remember(token);
    return token;
  }

  private remember(token: AzureToken): void {
    if (token.account) {
      this.lastAccount = { username: token.account.username, tenantId: token.account.tenantId };
    }
  }
}
