import {
  X509Certificate,
  constants,
  createHash,
  createSign,
  generateKeyPairSync,
  randomBytes,
  randomUUID,
  verify,
  type KeyObject,
} from 'node:crypto';
import { FakeService, type FakeRequest, type FakeReply } from './fake-service.js';

export interface FakeApp {
  clientId: string;
  /** For client credentials with a secret. */
  clientSecret?: string;
  /** PEM certificate whose key signs client assertions. */
  certificatePem?: string;
  /** App roles granted to the service principal (the `roles` claim of app tokens). */
  roles?: string[];
}

export interface FakeUser {
  username: string;
  name: string;
  oid: string;
  tenantId: string;
  /** Scopes this user has consented to; a request for others fails with AADSTS65001. Default: all. */
  consented?: string[];
}

export interface IssuedToken {
  token: string;
  kind: 'app' | 'user';
  clientId: string;
  audience: string;
  scopes: string[];
  username: string | undefined;
  oid: string;
  tenantId: string;
  expiresAt: number;
}

interface DeviceCode {
  deviceCode: string;
  userCode: string;
  clientId: string;
  scopes: string[];
  approvedBy: string | undefined;
  declined: boolean;
  expiresAt: number;
  polls: number;
}

interface RefreshToken {
  clientId: string;
  username: string;
  scopes: string[];
  valid: boolean;
}

const OIDC = ['openid', 'profile', 'offline_access'];

/**
 * A local Azure AD authority good enough for msal-node to run its real flows: OpenID metadata, client
 * credentials (secret, or a certificate-signed assertion that is verified), device code with polling,
 * and refresh tokens that rotate on every use (an old one is refused, as the real service may do).
 * Fakes of Power BI and Graph ask it whether a bearer token is valid.
 */
export class FakeAuthority {
  readonly service: FakeService;
  readonly apps = new Map<string, FakeApp>();
  readonly users = new Map<string, FakeUser>();
  readonly issued = new Map<string, IssuedToken>();
  readonly deviceCodes = new Map<string, DeviceCode>();
  private readonly refreshTokens = new Map<string, RefreshToken>();
  /** Lifetime of issued access tokens. */
  accessTokenSeconds = 3600;
  /** Approve each device code as this user on its first poll (`undefined`: wait for `approve`). */
  autoApproveAs: string | undefined;
  /** Every on-behalf-of exchange asked for: which app, for whom, which scopes, and whether it was granted. */
  readonly oboRequests: Array<{
    clientId: string;
    username: string | undefined;
    scopes: string[];
    granted: boolean;
  }> = [];
  /** The key that signs tokens for APIs (`mintForApi`), published at the tenant's `jwks_uri`. */
  private readonly signing = signingKey();

  private constructor(service: FakeService) {
    this.service = service;
  }

  static async start(): Promise<FakeAuthority> {
    const service = await FakeService.start('fake Azure AD');
    const authority = new FakeAuthority(service);
    authority.install();
    return authority;
  }

  /** The value for `AZURE_AUTHORITY_HOST`. */
  get host(): string {
    return this.service.url;
  }

  addApp(app: FakeApp): this {
    this.apps.set(app.clientId, app);
    return this;
  }

  addUser(user: Partial<FakeUser> & { username: string }): FakeUser {
    const full: FakeUser = {
      name: user.username.split('@')[0]!,
      oid: randomUUID(),
      tenantId: '11111111-2222-3333-4444-555555555555',
      ...user,
    };
    this.users.set(full.username, full);
    return full;
  }

  /** Complete a pending device-code sign-in as a user. */
  approve(userCode: string, username: string): void {
    const code = [...this.deviceCodes.values()].find((c) => c.userCode === userCode);
    if (!code) throw new Error(`no device code ${userCode}`);
    code.approvedBy = username;
  }

  /** The claims behind an `Authorization: Bearer` header, or why it is not valid. */
  check(
    authorization: string | undefined,
  ): { ok: true; token: IssuedToken } | { ok: false; reason: 'missing' | 'unknown' | 'expired' } {
    const token = /^Bearer\s+(.+)$/i.exec(authorization ?? '')?.[1];
    if (!token) return { ok: false, reason: 'missing' };
    const issued = this.issued.get(token);
    if (!issued) return { ok: false, reason: 'unknown' };
    if (issued.expiresAt <= Date.now()) return { ok: false, reason: 'expired' };
    return { ok: true, token: issued };
  }

  /** Make every refresh token unusable (a password change, an admin revocation). */
  revokeRefreshTokens(): void {
    for (const rt of this.refreshTokens.values()) rt.valid = false;
  }

  /** Issue a token directly, as if from an earlier sign-in (for `*_ACCESS_TOKEN` tests). */
  mint(options: {
    username?: string;
    clientId?: string;
    scopes?: string[];
    audience?: string;
    seconds?: number;
  }): string {
    const user = options.username ? this.users.get(options.username) : undefined;
    return this.issue({
      kind: user ? 'user' : 'app',
      clientId: options.clientId ?? 'supplied',
      audience: options.audience ?? 'https://analysis.windows.net/powerbi/api',
      scopes: options.scopes ?? [],
      username: user?.username,
      oid: user?.oid ?? randomUUID(),
      tenantId: user?.tenantId ?? 'tenant',
      seconds: options.seconds ?? this.accessTokenSeconds,
    });
  }

  /**
   * An access token for a web API registered in the tenant (a server acting as an OAuth resource server), signed
   * with the key in the tenant's JWKS, with the claims Entra ID puts in one (learn.microsoft.com/entra/
   * identity-platform/access-token-claims-reference): v2.0 tokens carry the API's client id as `aud` and
   * `https://login.microsoftonline.com/{tid}/v2.0` as `iss`; v1.0 tokens the app id URI and `https://sts.windows.net/{tid}/`.
   * Overrides make the broken tokens a resource server must refuse (expired, other tenant, other key).
   */
  mintForApi(options: {
    username: string;
    audience: string;
    scopes: string[];
    clientId?: string;
    version?: '1.0' | '2.0';
    seconds?: number;
    claims?: Record<string, unknown>;
    /** Sign with another key than the one published (a forged token). */
    forged?: boolean;
  }): string {
    const user = this.users.get(options.username);
    if (!user) throw new Error(`no user ${options.username}`);
    const now = Math.floor(Date.now() / 1000);
    const v1 = options.version === '1.0';
    const claims: Record<string, unknown> = {
      aud: options.audience,
      iss: v1 ? `https://sts.windows.net/${user.tenantId}/` : `${this.host}/${user.tenantId}/v2.0`,
      iat: now,
      nbf: now,
      exp: now + (options.seconds ?? this.accessTokenSeconds),
      [v1 ? 'appid' : 'azp']: options.clientId ?? 'backend-app',
      name: user.name,
      oid: user.oid,
      preferred_username: user.username,
      scp: options.scopes.join(' '),
      sub: createHash('sha256').update(`${user.oid}|${options.audience}`).digest('base64url'),
      tid: user.tenantId,
      uti: randomBytes(16).toString('base64url'),
      ver: v1 ? '1.0' : '2.0',
      ...options.claims,
    };
    return signJwt(claims, options.forged ? signingKey() : this.signing);
  }

  close(): Promise<void> {
    return this.service.close();
  }

  private install(): void {
    const s = this.service;
    s.route('GET', '/:tenant/v2.0/.well-known/openid-configuration', (req) => ({
      body: this.metadata(req.params.tenant!),
    }));
    s.route('GET', '/common/discovery/instance', () => ({
      body: {
        tenant_discovery_endpoint: `${this.host}/common/v2.0/.well-known/openid-configuration`,
        'api-version': '1.1',
        metadata: [
          {
            preferred_network: new URL(this.host).host,
            preferred_cache: new URL(this.host).host,
            aliases: [new URL(this.host).host],
          },
        ],
      },
    }));
    // The tenant's signing keys, at the metadata's jwks_uri: what a resource server checks token signatures with
    // (learn.microsoft.com/entra/identity-platform/access-tokens#validate-tokens).
    s.route('GET', '/:tenant/discovery/v2.0/keys', () => ({ body: { keys: [this.signing.jwk] } }));
    s.route('POST', '/:tenant/oauth2/v2.0/devicecode', (req) => this.deviceCode(form(req)));
    s.route('POST', '/:tenant/oauth2/v2.0/token', (req) => this.token(form(req), req.params.tenant!));
  }

  private metadata(tenant: string): Record<string, unknown> {
    const base = `${this.host}/${tenant}`;
    return {
      issuer: `${base}/v2.0`,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      token_endpoint: `${base}/oauth2/v2.0/token`,
      device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      jwks_uri: `${base}/discovery/v2.0/keys`,
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      tenant_region_scope: 'EU',
      cloud_instance_name: 'localhost',
    };
  }

  private deviceCode(params: URLSearchParams): FakeReply {
    const clientId = params.get('client_id') ?? '';
    if (!this.apps.has(clientId))
      return oauthError(
        400,
        'unauthorized_client',
        `AADSTS700016: Application with identifier '${clientId}' was not found in the directory.`,
      );
    const userCode = randomBytes(4).toString('hex').toUpperCase();
    const code: DeviceCode = {
      deviceCode: randomBytes(24).toString('base64url'),
      userCode,
      clientId,
      scopes: (params.get('scope') ?? '').split(' ').filter(Boolean),
      approvedBy: undefined,
      declined: false,
      expiresAt: Date.now() + 900_000,
      polls: 0,
    };
    this.deviceCodes.set(code.deviceCode, code);
    const verificationUri = `${this.host}/devicelogin`;
    return {
      body: {
        device_code: code.deviceCode,
        user_code: userCode,
        verification_uri: verificationUri,
        expires_in: 900,
        interval: 1,
        message: `To sign in, use a web browser to open the page ${verificationUri} and enter the code ${userCode} to authenticate.`,
      },
    };
  }

  private token(params: URLSearchParams, tenant: string): FakeReply {
    const grant = params.get('grant_type');
    const clientId = params.get('client_id') ?? '';
    const app = this.apps.get(clientId);
    if (!app)
      return oauthError(
        400,
        'unauthorized_client',
        `AADSTS700016: Application with identifier '${clientId}' was not found in the directory '${tenant}'.`,
      );
    const scopes = (params.get('scope') ?? '').split(' ').filter(Boolean);
    if (grant === 'client_credentials') {
      const refused = clientRefused(params, app);
      if (refused) return refused;
      const resource = scopes.find((s) => s.endsWith('/.default'))?.replace(/\/\.default$/, '') ?? '';
      const token = this.issue({
        kind: 'app',
        clientId,
        audience: resource,
        scopes: app.roles ?? [],
        username: undefined,
        oid: randomUUID(),
        tenantId: tenant,
        seconds: this.accessTokenSeconds,
      });
      return {
        body: {
          token_type: 'Bearer',
          expires_in: this.accessTokenSeconds,
          ext_expires_in: this.accessTokenSeconds,
          access_token: token,
        },
      };
    }
    if (grant === 'urn:ietf:params:oauth:grant-type:jwt-bearer')
      return this.onBehalfOf(params, app, tenant, scopes);
    if (grant === 'device_code') {
      const code = this.deviceCodes.get(params.get('device_code') ?? '');
      if (!code || code.expiresAt < Date.now())
        return oauthError(
          400,
          'expired_token',
          'AADSTS70020: The provided value for the input parameter device_code is not valid or has expired.',
        );
      code.polls++;
      if (!code.approvedBy && this.autoApproveAs && code.polls >= 1) code.approvedBy = this.autoApproveAs;
      if (code.declined)
        return oauthError(400, 'authorization_declined', 'AADSTS70000: The user declined the sign-in.');
      if (!code.approvedBy)
        return oauthError(
          400,
          'authorization_pending',
          'AADSTS70016: OAuth 2.0 device flow error. Authorization is pending.',
        );
      this.deviceCodes.delete(code.deviceCode);
      return this.userTokens(code.approvedBy, clientId, code.scopes, tenant);
    }
    if (grant === 'refresh_token') {
      const presented = params.get('refresh_token') ?? '';
      const rt = this.refreshTokens.get(presented);
      if (!rt || !rt.valid)
        return oauthError(
          400,
          'invalid_grant',
          'AADSTS70008: The provided authorization code or refresh token has expired due to inactivity or was already used.',
        );
      const reply = this.userTokens(rt.username, clientId, scopes.length ? scopes : rt.scopes, tenant);
      // Rotation: a refresh token works once, when it is redeemed; a refused request (consent) leaves it valid.
      if ((reply.status ?? 200) === 200) rt.valid = false;
      return reply;
    }
    return oauthError(
      400,
      'unsupported_grant_type',
      `AADSTS70003: The grant type '${grant}' is not supported by the fake authority.`,
    );
  }

  /**
   * The on-behalf-of flow (learn.microsoft.com/entra/identity-platform/v2-oauth2-on-behalf-of-flow): a confidential
   * app presents a user's token for itself (`assertion`, `requested_token_use=on_behalf_of`) with its own
   * credential, and gets a token for a downstream API as that user. The assertion must be signed by this tenant, be
   * in its validity window and be addressed to the presenting app (AADSTS50013 otherwise).
   */
  private onBehalfOf(params: URLSearchParams, app: FakeApp, tenant: string, scopes: string[]): FakeReply {
    const refused = clientRefused(params, app);
    if (refused) return refused;
    if (params.get('requested_token_use') !== 'on_behalf_of')
      return oauthError(
        400,
        'invalid_request',
        "AADSTS900144: The request body must contain the following parameter: 'requested_token_use'.",
      );
    const claims = verifiedJwt(params.get('assertion') ?? '', this.signing.publicKey);
    const user = claims ? [...this.users.values()].find((u) => u.oid === claims.oid) : undefined;
    const record = { clientId: app.clientId, username: user?.username, scopes, granted: false };
    this.oboRequests.push(record);
    if (!claims || !user)
      return oauthError(400, 'invalid_grant', 'AADSTS50013: Assertion failed signature validation.');
    const now = Date.now() / 1000;
    if (
      typeof claims.exp !== 'number' ||
      claims.exp < now ||
      (typeof claims.nbf === 'number' && claims.nbf > now + 300)
    )
      return oauthError(400, 'invalid_grant', 'AADSTS500133: Assertion is not within its valid time range.');
    if (claims.aud !== app.clientId && claims.aud !== `api://${app.clientId}`)
      return oauthError(
        400,
        'invalid_grant',
        'AADSTS50013: Assertion audience does not match the Client app presenting the assertion.',
      );
    const reply = this.userTokens(user.username, app.clientId, scopes, tenant);
    record.granted = (reply.status ?? 200) === 200;
    return reply;
  }

  private userTokens(username: string, clientId: string, requested: string[], tenant: string): FakeReply {
    const user = this.users.get(username);
    if (!user)
      return oauthError(400, 'invalid_grant', `AADSTS50034: The user account ${username} does not exist.`);
    const resourceScopes = requested.filter((s) => !OIDC.includes(s));
    const missing = user.consented
      ? resourceScopes.filter((s) => !user.consented!.includes(s) && !user.consented!.includes(shortScope(s)))
      : [];
    if (missing.length > 0) {
      return oauthError(
        400,
        'invalid_grant',
        `AADSTS65001: The user or administrator has not consented to use the application with ID '${clientId}'. Send an interactive authorization request for this user and resource. Missing: ${missing.join(' ')}`,
        'consent_required',
      );
    }
    const audience = resourceScopes[0]?.includes('/')
      ? resourceScopes[0].slice(0, resourceScopes[0].lastIndexOf('/'))
      : 'https://graph.microsoft.com';
    const accessToken = this.issue({
      kind: 'user',
      clientId,
      audience,
      scopes: resourceScopes.map(shortScope),
      username,
      oid: user.oid,
      tenantId: user.tenantId,
      seconds: this.accessTokenSeconds,
    });
    const refreshToken = randomBytes(32).toString('base64url');
    this.refreshTokens.set(refreshToken, { clientId, username, scopes: requested, valid: true });
    const now = Math.floor(Date.now() / 1000);
    const idToken = unsignedJwt({
      aud: clientId,
      iss: `${this.host}/${user.tenantId}/v2.0`,
      iat: now,
      nbf: now,
      exp: now + 3600,
      name: user.name,
      oid: user.oid,
      preferred_username: user.username,
      sub: createHash('sha256').update(user.oid).digest('base64url'),
      tid: user.tenantId,
      ver: '2.0',
    });
    const clientInfo = Buffer.from(JSON.stringify({ uid: user.oid, utid: user.tenantId })).toString(
      'base64url',
    );
    void tenant;
    return {
      body: {
        token_type: 'Bearer',
        scope: [...resourceScopes, ...requested.filter((s) => OIDC.includes(s))].join(' '),
        expires_in: this.accessTokenSeconds,
        ext_expires_in: this.accessTokenSeconds,
        access_token: accessToken,
        refresh_token: refreshToken,
        id_token: idToken,
        client_info: clientInfo,
      },
    };
  }

  private issue(t: Omit<IssuedToken, 'token' | 'expiresAt'> & { seconds: number }): string {
    const now = Math.floor(Date.now() / 1000);
    const claims: Record<string, unknown> = {
      aud: t.audience,
      iss: `${this.host}/${t.tenantId}/`,
      iat: now,
      exp: now + t.seconds,
      tid: t.tenantId,
      oid: t.oid,
      appid: t.clientId,
      jti: randomUUID(),
    };
    if (t.kind === 'user') {
      claims.upn = t.username;
      claims.scp = t.scopes.join(' ');
    } else {
      claims.roles = t.scopes;
    }
    const token = unsignedJwt(claims);
    this.issued.set(token, {
      token,
      kind: t.kind,
      clientId: t.clientId,
      audience: t.audience,
      scopes: t.scopes,
      username: t.username,
      oid: t.oid,
      tenantId: t.tenantId,
      expiresAt: (now + t.seconds) * 1000,
    });
    return token;
  }
}

/**
 * A confidential client's own credential on the token endpoint (client_secret, or a certificate-signed
 * client_assertion: learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow): the refusal, or
 * undefined when it checks out.
 */
function clientRefused(params: URLSearchParams, app: FakeApp): FakeReply | undefined {
  const secret = params.get('client_secret');
  const assertion = params.get('client_assertion');
  const ok = secret
    ? secret === app.clientSecret
    : assertion
      ? verifyAssertion(assertion, app.certificatePem)
      : false;
  if (ok) return undefined;
  return oauthError(
    401,
    'invalid_client',
    'AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.',
  );
}

/** `https://graph.microsoft.com/Mail.Read` → `Mail.Read`. */
function shortScope(scope: string): string {
  return scope.includes('/') ? scope.slice(scope.lastIndexOf('/') + 1) : scope;
}

function form(req: FakeRequest): URLSearchParams {
  return new URLSearchParams(req.text());
}

function oauthError(status: number, error: string, description: string, suberror?: string): FakeReply {
  const codes = /AADSTS(\d+)/.exec(description);
  return {
    status,
    body: {
      error,
      error_description: `${description}\r\nTrace ID: ${randomUUID()}\r\nCorrelation ID: ${randomUUID()}\r\nTimestamp: ${new Date().toISOString()}`,
      error_codes: codes ? [Number(codes[1])] : [],
      timestamp: new Date().toISOString(),
      trace_id: randomUUID(),
      correlation_id: randomUUID(),
      ...(suberror ? { suberror } : {}),
    },
  };
}

interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  jwk: Record<string, unknown>;
}

/** An RSA key pair as Entra ID publishes its keys: a JWK with `kid`, `use: sig` (RS256). */
function signingKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomBytes(12).toString('base64url');
  return {
    kid,
    privateKey,
    publicKey,
    jwk: { ...publicKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256' },
  };
}

function signJwt(claims: Record<string, unknown>, key: SigningKey): string {
  const header = Buffer.from(JSON.stringify({ typ: 'JWT', alg: 'RS256', kid: key.kid })).toString(
    'base64url',
  );
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const signature = createSign('sha256')
    .update(`${header}.${payload}`)
    .sign(key.privateKey)
    .toString('base64url');
  return `${header}.${payload}.${signature}`;
}

/** The claims of an RS256 token signed by `key`, or undefined. */
function verifiedJwt(token: string, key: KeyObject): Record<string, unknown> | undefined {
  const [h, p, sig] = token.split('.');
  if (!h || !p || !sig) return undefined;
  try {
    const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { alg?: string };
    if (header.alg !== 'RS256') return undefined;
    if (!verify('sha256', Buffer.from(`${h}.${p}`), key, Buffer.from(sig, 'base64url'))) return undefined;
    return JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

function unsignedJwt(claims: Record<string, unknown>): string {
  const header = Buffer.from(JSON.stringify({ typ: 'JWT', alg: 'RS256', kid: 'fake' })).toString('base64url');
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${header}.${payload}.${randomBytes(32).toString('base64url')}`;
}

/** Check a client assertion's signature against the app's registered certificate (RS256 or PS256). */
function verifyAssertion(assertion: string, certificatePem: string | undefined): boolean {
  if (!certificatePem) return false;
  const [h, p, sig] = assertion.split('.');
  if (!h || !p || !sig) return false;
  const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { alg?: string };
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as { exp?: number };
  if (!claims.exp || claims.exp * 1000 < Date.now()) return false;
  const key = new X509Certificate(certificatePem).publicKey;
  const data = Buffer.from(`${h}.${p}`);
  const signature = Buffer.from(sig, 'base64url');
  if (header.alg === 'PS256') {
    return verify(
      'sha256',
      data,
      { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST },
      signature,
    );
  }
  if (header.alg === 'RS256') return verify('sha256', data, key, signature);
  return false;
}
