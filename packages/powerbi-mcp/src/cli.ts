import {
  AuthError,
  errorText,
  isSwitchyardError,
  packageVersion,
  registerSecret,
  UserInputError,
  type CliContext,
  type CliDefinition,
} from '@switchyard/core';
import {
  ACCOUNTS,
  CLOUD_NAMES,
  delegatedScopes,
  endpointsFor,
  parseCloud,
  PowerBiAuth,
  readCertificate,
  secretService,
  type Credential,
  type StoredSignIn,
} from './auth.js';
import { PowerBiClient } from './powerbi-client.js';
import { createPowerBiServer, SERVER_NAME } from './server.js';

const version = packageVersion(import.meta.url);

function authFor(ctx: CliContext, options: { storedOnly?: boolean } = {}): PowerBiAuth {
  return new PowerBiAuth({
    cliName: ctx.name,
    env: options.storedOnly ? withoutEnvCredentials(ctx.env) : ctx.env,
    profile: ctx.profile,
    cloud: parseCloud(ctx.options.cloud),
    secrets: () => ctx.secrets,
    log: ctx.log,
  });
}

const ENV_CREDENTIALS = ['POWERBI_ACCESS_TOKEN', 'POWERBI_CLIENT_SECRET', 'POWERBI_CLIENT_CERTIFICATE'];

function withoutEnvCredentials(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const copy = { ...env };
  for (const key of ENV_CREDENTIALS) delete copy[key];
  return copy;
}

function describeFailure(err: unknown): string {
  return isSwitchyardError(err) ? errorText(err) : err instanceof Error ? err.message : String(err);
}

function howSignedIn(c: Credential): string {
  switch (c.method) {
    case 'supplied_token':
      return `${c.identity}, with a supplied token (${c.source})`;
    case 'service_principal':
      return `${c.identity} in tenant ${c.tenantId}, with client credentials from ${c.source}`;
    case 'device_code':
      return `${c.identity} (tenant ${c.tenantId}, app ${c.clientId}), by device code${c.canWrite ? '' : ' with read-only permissions'}; tokens refresh silently from the stored cache`;
    case 'on_behalf_of':
      return `${c.identity} (tenant ${c.tenantId}), signed in over HTTP, through the on-behalf-of exchange`;
  }
}

function until(date: Date | undefined): string {
  if (!date) return 'without an expiry';
  const minutes = Math.round((date.getTime() - Date.now()) / 60_000);
  return minutes <= 0
    ? `expired at ${date.toISOString()}`
    : `valid until ${date.toISOString()} (${minutes} min from now)`;
}

/**
 * What the signed-in identity reaches, and in plain words what is missing when a call fails: the lines
 * `status` prints and `login` ends with.
 */
async function checkReach(ctx: CliContext, client: PowerBiClient): Promise<boolean> {
  let ok = true;
  let workspaces: Array<{ id: string; name: string }> = [];
  try {
    const page = 5000;
    for (let skip = 0; skip < 50_000; skip += page) {
      const batch = await client.listWorkspaces({ top: page, skip });
      workspaces.push(...batch);
      if (batch.length < page) break;
    }
    ctx.print(`Workspaces reachable: ${workspaces.length}`);
  } catch (err) {
    ctx.print(`Workspaces: the call failed. ${describeFailure(err)}`);
    return false;
  }
  const credential = await client.credential();
  if (workspaces.length === 0) {
    ctx.print(
      credential.isServicePrincipal
        ? 'Problem: the service principal is in no workspace. Add it to each workspace it should read (Manage access → Viewer; Contributor to refresh).'
        : 'Problem: this account is a member of no workspace. Ask a workspace admin to add it (Manage access → Viewer or higher).',
    );
    return false;
  }
  workspaces = workspaces.slice(0, 3);
  for (const w of workspaces) {
    let datasets;
    try {
      datasets = await client.listDatasets(w.id);
    } catch (err) {
      ctx.print(`Datasets of '${w.name}': the call failed. ${describeFailure(err)}`);
      ok = false;
      continue;
    }
    const dataset =
      datasets.find((d) => !d.isEffectiveIdentityRequired || !credential.isServicePrincipal) ?? datasets[0];
    if (!dataset) continue;
    try {
      await client.executeQuery(w.id, dataset.id, { query: 'EVALUATE ROW("ok", 1)', includeNulls: true });
      ctx.print(`DAX queries: work (checked on '${dataset.name}' in '${w.name}')`);
    } catch (err) {
      ctx.print(`DAX queries on '${dataset.name}' in '${w.name}' fail. ${describeFailure(err)}`);
      ok = false;
    }
    return ok;
  }
  ctx.print(`DAX queries: not checked (no semantic model in the first ${workspaces.length} workspaces)`);
  return ok;
}

function reachClient(ctx: CliContext, auth: PowerBiAuth): PowerBiClient {
  return new PowerBiClient(auth, ctx.log.child('http'), `${SERVER_NAME}/${version}`);
}

function envOverrides(ctx: CliContext): string[] {
  return ENV_CREDENTIALS.filter((k) => ctx.env[k]);
}

async function login(ctx: CliContext): Promise<number> {
  const o = ctx.options;
  const cloud = parseCloud(o.cloud) ?? 'public';
  const endpoints = endpointsFor(cloud, ctx.env);
  const auth = authFor(ctx, { storedOnly: true });
  const service = secretService(ctx.profile);
  const clientId = (o.clientId as string | undefined)?.trim();
  if (!clientId) {
    throw new UserInputError('Sign-in needs the application (client) id of an Azure app registration', {
      hint: 'Pass --client-id (or set POWERBI_CLIENT_ID); the README shows how to register the app',
    });
  }
  // A lost or damaged key of the encrypted store stops the sign-in before a secret or a device code is
  // asked for (the token cache and a certificate are large values, kept in encrypted files).
  await ctx.secrets.checkKey({ largeValues: !o.servicePrincipal || Boolean(o.certificate), service });
  let stored: StoredSignIn;
  if (o.servicePrincipal) {
    const tenantId = (o.tenant as string | undefined)?.trim();
    if (!tenantId) {
      throw new UserInputError('A service principal sign-in needs the directory (tenant) id', {
        hint: 'Pass --tenant (or set POWERBI_TENANT_ID)',
      });
    }
    const certificatePath = o.certificate as string | undefined;
    const certificatePem = certificatePath ? await readCertificate(certificatePath) : undefined;
    const clientSecret = certificatePem
      ? undefined
      : await ctx.ask(`Client secret of app ${clientId}: `, { hidden: true });
    if (!certificatePem && !clientSecret) {
      throw new UserInputError('No client secret was given', {
        hint: 'Type the secret when asked, pipe it on stdin, or pass --certificate <pem file>',
      });
    }
    registerSecret(clientSecret);
    await auth.signIn(clientId, tenantId, endpoints).clientCredentials({
      scopes: [`${endpoints.resource}/.default`],
      ...(clientSecret ? { clientSecret } : {}),
      ...(certificatePem ? { certificatePem } : {}),
    });
    stored = {
      method: 'service_principal',
      tenantId,
      clientId,
      cloud,
      credential: certificatePem ? 'certificate' : 'secret',
      savedAt: new Date().toISOString(),
    };
    await ctx.secrets.set(
      service,
      certificatePem ? ACCOUNTS.certificate : ACCOUNTS.secret,
      (certificatePem ?? clientSecret)!,
    );
    await ctx.secrets.delete(service, certificatePem ? ACCOUNTS.secret : ACCOUNTS.certificate);
    await ctx.secrets.delete(service, ACCOUNTS.tokenCache);
    await ctx.secrets.set(service, ACCOUNTS.config, JSON.stringify(stored));
    ctx.print(
      `Signed in as service principal ${clientId} in tenant ${tenantId} (${cloud} cloud); its ${stored.credential} is stored in the ${await ctx.secrets.describe()}.`,
    );
  } else {
    const tenantId = (o.tenant as string | undefined)?.trim() || 'organizations';
    const readOnly = ctx.modes.readOnly === true;
    // A new sign-in replaces the old one: no second account lingers in the cache.
    await ctx.secrets.delete(service, ACCOUNTS.tokenCache);
    const token = await auth.signIn(clientId, tenantId, endpoints).deviceCode({
      scopes: delegatedScopes(endpoints.resource, readOnly),
      onPrompt: (p) => void process.stderr.write(`${p.message}\n`),
    });
    const username = token.account?.username;
    stored = {
      method: 'device_code',
      tenantId: token.account?.tenantId || tenantId,
      clientId,
      cloud,
      ...(username ? { username } : {}),
      readOnly,
      savedAt: new Date().toISOString(),
    };
    await ctx.secrets.delete(service, ACCOUNTS.secret);
    await ctx.secrets.delete(service, ACCOUNTS.certificate);
    await ctx.secrets.set(service, ACCOUNTS.config, JSON.stringify(stored));
    ctx.print(
      `Signed in as ${username ?? 'the user'} (${cloud} cloud, ${readOnly ? 'read-only' : 'read and refresh'}); tokens are cached in the ${await ctx.secrets.describe()} and refresh silently.`,
    );
  }
  await checkReach(ctx, reachClient(ctx, auth));
  const overrides = envOverrides(ctx);
  if (overrides.length > 0) {
    ctx.print(
      `Note: ${overrides.join(' and ')} ${overrides.length > 1 ? 'are' : 'is'} set, and the server uses that before this sign-in.`,
    );
  }
  return 0;
}

/** Every status ends with where secrets go: it says whether the OS keychain module loaded and answers. */
async function status(ctx: CliContext): Promise<number> {
  const code = await signInStatus(ctx);
  ctx.print(`Secrets: ${await ctx.secrets.describe()}`);
  return code;
}

async function signInStatus(ctx: CliContext): Promise<number> {
  const auth = authFor(ctx);
  const client = reachClient(ctx, auth);
  ctx.print(`Profile: ${ctx.profile}`);
  let credential: Credential;
  try {
    credential = await client.credential();
  } catch (err) {
    if (err instanceof AuthError) {
      ctx.print(`Signed in: no. ${describeFailure(err)}`);
      return 1;
    }
    throw err;
  }
  const e = credential.endpoints;
  ctx.print(`Signed in: ${howSignedIn(credential)}`);
  ctx.print(`Cloud: ${e.cloud} (API ${e.apiUrl}, authority ${e.authorityHost})`);
  try {
    const token = await credential.token({ forceRefresh: false });
    // Not `Token: …`: a keyword and a colon read as a secret to core's redaction, which would mask the line.
    ctx.print(`Access token ${until(token.expiresOn)}`);
  } catch (err) {
    ctx.print(`No access token. ${describeFailure(err)}`);
    return 1;
  }
  const ok = await checkReach(ctx, client);
  return ok ? 0 : 1;
}

async function logout(ctx: CliContext): Promise<number> {
  const service = secretService(ctx.profile);
  const removed: string[] = [];
  const names: Record<string, string> = {
    [ACCOUNTS.config]: 'the sign-in settings',
    [ACCOUNTS.secret]: 'the client secret',
    [ACCOUNTS.certificate]: 'the certificate',
    [ACCOUNTS.tokenCache]: 'the cached tokens',
  };
  // Everything the profile stored goes, readable or not: no key is needed to remove it.
  const cleared = await ctx.secrets.clear(service);
  const order = Object.values(ACCOUNTS) as string[];
  cleared.sort((a, b) => (order.indexOf(a) >>> 0) - (order.indexOf(b) >>> 0));
  for (const account of cleared) removed.push(names[account] ?? account);
  ctx.print(
    removed.length > 0
      ? `Signed out of profile ${ctx.profile}: removed ${removed.join(', ')}.`
      : `Nothing was stored for profile ${ctx.profile}.`,
  );
  const overrides = envOverrides(ctx);
  if (overrides.length > 0)
    ctx.print(
      `Note: ${overrides.join(' and ')} ${overrides.length > 1 ? 'are' : 'is'} still set in this environment; unset ${overrides.length > 1 ? 'them' : 'it'} to sign out fully.`,
    );
  return 0;
}

export const cli: CliDefinition = {
  name: SERVER_NAME,
  version,
  description:
    'Power BI for MCP hosts: workspaces, semantic models, schemas, DAX queries and refreshes over the REST API.',
  envPrefix: 'POWERBI',
  options: [
    {
      flags: '--cloud <name>',
      description: `Power BI cloud: ${CLOUD_NAMES.join(', ')} (sets the API URL, the Azure AD authority and the token resource)`,
      env: 'POWERBI_CLOUD',
      choices: CLOUD_NAMES,
    },
  ],
  createServer: (ctx) =>
    createPowerBiServer({ auth: authFor(ctx), version: ctx.version, env: ctx.env, log: ctx.log }),
  login: {
    description:
      'sign in: a user by device code (default; --read-only leaves out refresh), or --service-principal with a secret (asked, or piped on stdin) or --certificate',
    options: [
      {
        flags: '--service-principal',
        description: 'sign in as an app (client credentials) instead of a user',
      },
      {
        flags: '--client-id <id>',
        description: 'application (client) id of the app registration',
        env: 'POWERBI_CLIENT_ID',
      },
      {
        flags: '--tenant <id>',
        description: 'directory (tenant) id or domain; default for users: organizations',
        env: 'POWERBI_TENANT_ID',
      },
      {
        flags: '--certificate <pem>',
        description:
          'service principal: a PEM file with the certificate and its private key, instead of a secret',
        env: 'POWERBI_CLIENT_CERTIFICATE',
      },
    ],
    action: login,
  },
  logout: {
    description: 'forget the stored sign-in, secret and cached tokens of the profile',
    action: logout,
  },
  status: {
    description: 'who is signed in and how, token expiry, what is reachable, and what is missing',
    action: status,
  },
  helpText: `Environment:
  POWERBI_TENANT_ID, POWERBI_CLIENT_ID,    service principal from the environment
  POWERBI_CLIENT_SECRET | POWERBI_CLIENT_CERTIFICATE (PEM path)
  POWERBI_ACCESS_TOKEN                     a token you supply (used first)
  POWERBI_API_URL                          default https://api.powerbi.com/v1.0/myorg
  AZURE_AUTHORITY_HOST                     default https://login.microsoftonline.com
  POWERBI_CLOUD                            public, usgov or china`,
};
