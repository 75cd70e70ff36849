import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { commandHint } from './command-hint.js';
import { AuthError } from './errors.js';
import { withLock } from './lock.js';
import { openKeychain, type Keychain, type KeychainProbe } from './keychain.js';
import { silentLogger, type Logger } from './log.js';
import { switchyardPaths } from './paths.js';
import { registerSecret } from './redact.js';

/** Values longer than this go to the encrypted file: Windows caps a credential near 2.5 KB of UTF-16. */
export const KEYCHAIN_VALUE_LIMIT = 1000;
const KEYCHAIN_PREFIX = 'switchyard:';

export type SecretSource = 'env' | 'keychain' | 'file';

export interface SecretStoreOptions {
  /** Folder for the encrypted file entries and, without a keychain, the key file. */
  configDir?: string;
  env?: NodeJS.ProcessEnv;
  log?: Logger;
  /** The keychain probe to use instead of the process-wide one (tests). */
  keychain?: Promise<KeychainProbe>;
  /**
   * The commands that replace lost secrets of a service the store cannot name a server for, e.g.
   * "`my-mcp logout`" and "`my-mcp login`". Services named `switchyard/<server>/<profile>` need none.
   */
  recoveryHint?: (service: string) => { logout: string; login: string } | undefined;
  /**
   * The command that stores one account of a service again, when the server's plain `login` does not (the
   * lakehouse's `login --connection NAME`); undefined for the default.
   */
  loginFor?: (service: string, account: string) => string | undefined;
}

/** The stored secrets of one service that the file key can no longer decrypt. */
export interface LostSecrets {
  service: string;
  accounts: string[];
  /** What replaces them: e.g. "`odoo-mcp logout`", then "`odoo-mcp login`". */
  recovery: { logout: string; login: string };
}

/**
 * The key of the encrypted file entries is missing or damaged while entries encrypted with it exist:
 * they cannot be read, and no new key is made until they are removed (the servers' `logout`).
 */
export class SecretKeyError extends AuthError {
  readonly problem: 'missing' | 'damaged';
  readonly lost: LostSecrets[];
  constructor(
    message: string,
    options: { hint: string; problem: 'missing' | 'damaged'; lost: LostSecrets[] },
  ) {
    super(message, { hint: options.hint });
    this.problem = options.problem;
    this.lost = options.lost;
  }
}

/** A key as stored, or what is wrong with it. */
type KeyState = { key: Buffer } | { problem: 'missing' | 'damaged'; where: string };

interface FileEntry {
  v: 1;
  service: string;
  account: string;
  iv: string;
  tag: string;
  data: string;
}

let warnedNoKeychain = false;

/**
 * Secrets by service and account. Small values live in the OS keychain; large ones (token caches) and,
 * when no keychain answers, all of them live in AES-256-GCM encrypted files, one per entry, so that a
 * damaged entry costs only itself and two processes never overwrite each other's entries. The file key
 * lives in the keychain, or in a 0600 key file when there is none (with one warning on stderr).
 */
export class SecretStore {
  readonly configDir: string;
  private readonly log: Logger;
  private readonly env: NodeJS.ProcessEnv;
  private readonly probe: Promise<KeychainProbe>;
  private readonly recoveryHint: SecretStoreOptions['recoveryHint'];
  private readonly loginFor: SecretStoreOptions['loginFor'];
  private key: Promise<Buffer> | undefined;

  constructor(options: SecretStoreOptions = {}) {
    this.env = options.env ?? process.env;
    this.configDir = options.configDir ?? switchyardPaths(this.env).config;
    this.log = options.log ?? silentLogger;
    this.probe = options.keychain ?? openKeychain(this.env);
    this.recoveryHint = options.recoveryHint;
    this.loginFor = options.loginFor;
  }

  /** Where secrets go on this machine, in words, for `status`. */
  async describe(): Promise<string> {
    const probe = await this.probe;
    return probe.keychain
      ? `OS keychain (large values in encrypted files under ${this.secretsDir()})`
      : `encrypted files under ${this.secretsDir()} with the key in ${this.keyFile()} (no OS keychain: ${probe.reason})`;
  }

  async get(service: string, account: string): Promise<string | undefined> {
    const keychain = await this.keychain();
    if (keychain) {
      const value = await keychain.getPassword(KEYCHAIN_PREFIX + service, account);
      if (value !== null) return remember(value);
    }
    const entry = await this.readEntry(service, account);
    return entry === undefined ? undefined : remember(entry);
  }

  /** The env variable first (when named and set), then the store; with where the value came from. */
  async resolve(
    service: string,
    account: string,
    envVar?: string,
  ): Promise<{ value: string; source: SecretSource } | undefined> {
    const fromEnv = envVar ? this.env[envVar] : undefined;
    if (fromEnv) return { value: remember(fromEnv), source: 'env' };
    const keychain = await this.keychain();
    if (keychain) {
      const value = await keychain.getPassword(KEYCHAIN_PREFIX + service, account);
      if (value !== null) return { value: remember(value), source: 'keychain' };
    }
    const entry = await this.readEntry(service, account);
    return entry === undefined ? undefined : { value: remember(entry), source: 'file' };
  }

  async set(service: string, account: string, value: string): Promise<void> {
    remember(value);
    const keychain = await this.keychain();
    if (keychain && value.length <= KEYCHAIN_VALUE_LIMIT) {
      await keychain.setPassword(KEYCHAIN_PREFIX + service, account, value);
      await rm(this.entryPath(service, account), { force: true });
      return;
    }
    await this.writeEntry(service, account, value);
    if (keychain) await keychain.deletePassword(KEYCHAIN_PREFIX + service, account).catch(() => false);
  }

  async delete(service: string, account: string): Promise<boolean> {
    const keychain = await this.keychain();
    const fromKeychain = keychain ? await keychain.deletePassword(KEYCHAIN_PREFIX + service, account) : false;
    const path = this.entryPath(service, account);
    const existed = await stat(path).then(
      () => true,
      () => false,
    );
    await rm(path, { force: true });
    return fromKeychain || existed;
  }

  /**
   * Remove every entry of a service, from the keychain and the encrypted files (damaged files and
   * entries whose key is lost too: no key is needed). Returns the accounts that were removed.
   */
  async clear(service: string): Promise<string[]> {
    const removed = new Set<string>();
    const keychain = await this.keychain();
    if (keychain) {
      for (const c of await keychain.findCredentials(KEYCHAIN_PREFIX + service)) {
        if (await keychain.deletePassword(KEYCHAIN_PREFIX + service, c.account)) removed.add(c.account);
      }
    }
    const dir = this.serviceDir(service);
    for (const file of await readdir(dir).catch(() => [] as string[])) {
      const path = join(dir, file);
      if (file.endsWith('.json')) {
        const entry = await readFile(path, 'utf8')
          .then((raw) => JSON.parse(raw) as Partial<FileEntry>)
          .catch(() => undefined);
        if (entry?.service === service && typeof entry.account === 'string') removed.add(entry.account);
      }
      await rm(path, { force: true });
    }
    await rm(dir, { recursive: true, force: true });
    return [...removed].sort();
  }

  /**
   * Throw the clear {@link SecretKeyError} now, before anything is asked, when the key of the encrypted
   * files is missing or damaged and entries encrypted with it exist. Without a keychain every value
   * needs that key; with one only values above {@link KEYCHAIN_VALUE_LIMIT} (`largeValues`) do.
   */
  async checkKey(options: { largeValues?: boolean; service?: string } = {}): Promise<void> {
    if ((await this.probe).keychain && !options.largeValues) return;
    const state = await this.readKey();
    if ('key' in state) return;
    const lost = await this.lostSecrets();
    if (lost.length > 0) throw this.keyError(state, lost, options.service);
  }

  /** The accounts stored for a service, from both places. */
  async list(service: string): Promise<string[]> {
    const accounts = new Set<string>();
    const keychain = await this.keychain();
    if (keychain) {
      for (const c of await keychain.findCredentials(KEYCHAIN_PREFIX + service)) accounts.add(c.account);
    }
    const dir = this.serviceDir(service);
    const files = await readdir(dir).catch(() => [] as string[]);
    for (const file of files.filter((f) => f.endsWith('.json'))) {
      try {
        const entry = JSON.parse(await readFile(join(dir, file), 'utf8')) as Partial<FileEntry>;
        if (entry.service === service && typeof entry.account === 'string') accounts.add(entry.account);
      } catch {
        this.log.warn(`skipped a damaged secret file ${join(dir, file)}`);
      }
    }
    return [...accounts].sort();
  }

  private async keychain(): Promise<Keychain | undefined> {
    const probe = await this.probe;
    if (probe.keychain) return guarded(probe.keychain);
    if (!warnedNoKeychain) {
      warnedNoKeychain = true;
      this.log.warn(
        `no OS keychain answered (${probe.reason}); secrets are kept in encrypted files whose key is in ${this.keyFile()} (mode 0600). Start a Secret Service (e.g. gnome-keyring) to keep the key in a keychain.`,
      );
    }
    return undefined;
  }

  private secretsDir(): string {
    return join(this.configDir, 'secrets');
  }

  private keyFile(): string {
    return join(this.configDir, 'secret.key');
  }

  private serviceDir(service: string): string {
    return join(this.secretsDir(), hash(service, 16));
  }

  private entryPath(service: string, account: string): string {
    return join(this.serviceDir(service), `${hash(account, 32)}.json`);
  }

  private async readEntry(service: string, account: string): Promise<string | undefined> {
    const path = this.entryPath(service, account);
    let raw: string;
    try {
      raw = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const key = await this.fileKey(service);
    try {
      const entry = JSON.parse(raw) as FileEntry;
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(entry.iv, 'base64'));
      decipher.setAAD(aad(service, account));
      decipher.setAuthTag(Buffer.from(entry.tag, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(entry.data, 'base64')), decipher.final()]).toString(
        'utf8',
      );
    } catch {
      throw new AuthError(
        `The stored secret '${account}' of ${service} cannot be read: its file ${path} is damaged or was encrypted with another key`,
        {
          hint: `Run ${this.recovery(service, [account]).logout}, then ${this.recovery(service, [account]).login}, to replace it; other stored secrets are unaffected`,
        },
      );
    }
  }

  private async writeEntry(service: string, account: string, value: string): Promise<void> {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', await this.fileKey(service), iv);
    cipher.setAAD(aad(service, account));
    const data = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
    const entry: FileEntry = {
      v: 1,
      service,
      account,
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      data: data.toString('base64'),
    };
    const path = this.entryPath(service, account);
    await mkdir(this.serviceDir(service), { recursive: true, mode: 0o700 });
    await atomicWrite(path, JSON.stringify(entry));
  }

  /** The file key: loaded, or made when no entry exists that another key encrypted. */
  private fileKey(service: string): Promise<Buffer> {
    const loading = (this.key ??= this.loadOrCreateKey(service));
    loading.catch(() => (this.key = undefined));
    return loading;
  }

  private keyAccount(): string {
    return `file-key:${hash(this.configDir, 16)}`;
  }

  /** The file key from the keychain, else from the key file; missing, or damaged (not 32 bytes of base64). */
  private async readKey(): Promise<KeyState> {
    // No warning about a missing keychain here: checking the key (before a login prompt) stores nothing.
    const probe = await this.probe;
    const keychain = probe.keychain ? guarded(probe.keychain) : undefined;
    if (keychain) {
      const stored = await keychain.getPassword('switchyard', this.keyAccount());
      if (stored !== null) {
        return parseKey(stored) ?? { problem: 'damaged', where: 'the file key in the OS keychain' };
      }
    }
    let text: string;
    try {
      text = await readFile(this.keyFile(), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      return { problem: 'missing', where: keychain ? 'the file key in the OS keychain' : this.keyFile() };
    }
    return parseKey(text) ?? { problem: 'damaged', where: this.keyFile() };
  }

  private async loadOrCreateKey(service: string): Promise<Buffer> {
    const first = await this.readKey();
    if ('key' in first) return first.key;
    await mkdir(this.configDir, { recursive: true, mode: 0o700 });
    // Two processes may both find no key: the lock makes exactly one create it.
    return withLock(
      `${this.keyFile()}.lock`,
      async () => {
        const state = await this.readKey();
        if ('key' in state) return state.key;
        // A new key would orphan every entry the old one encrypted: only make one when there is none.
        const lost = await this.lostSecrets();
        if (lost.length > 0) throw this.keyError(state, lost, service);
        const keychain = await this.keychain();
        const key = randomBytes(32);
        if (state.problem === 'damaged' && state.where === this.keyFile()) {
          // Nothing is overwritten: the damaged key file is kept beside the new one.
          const aside = `${this.keyFile()}.damaged-${Date.now()}`;
          await rename(this.keyFile(), aside);
          this.log.warn(
            `the key file ${this.keyFile()} was damaged and encrypted nothing; it was moved to ${aside}`,
          );
        }
        if (keychain) await keychain.setPassword('switchyard', this.keyAccount(), key.toString('base64'));
        else await atomicWrite(this.keyFile(), key.toString('base64'));
        return key;
      },
      { what: 'The secret store key' },
    );
  }

  /** Every encrypted file entry, by service, with the accounts (names only: nothing is decrypted). */
  private async lostSecrets(): Promise<LostSecrets[]> {
    const byService = new Map<string, Set<string>>();
    const root = this.secretsDir();
    for (const dir of await readdir(root).catch(() => [] as string[])) {
      const files = await readdir(join(root, dir)).catch(() => [] as string[]);
      for (const file of files.filter((f) => f.endsWith('.json'))) {
        const entry = await readFile(join(root, dir, file), 'utf8')
          .then((raw) => JSON.parse(raw) as Partial<FileEntry>)
          .catch(() => undefined);
        // A file that is not an entry (damaged JSON) holds nothing any key could decrypt.
        if (typeof entry?.service !== 'string' || typeof entry.account !== 'string' || !entry.data) continue;
        if (join(root, dir) !== this.serviceDir(entry.service)) continue;
        const accounts = byService.get(entry.service) ?? new Set<string>();
        accounts.add(entry.account);
        byService.set(entry.service, accounts);
      }
    }
    return [...byService.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([service, accounts]) => ({
        service,
        accounts: [...accounts].sort(),
        recovery: this.recovery(service, [...accounts].sort()),
      }));
  }

  /** The commands that replace a service's secrets: `<server> logout`, then `<server> login` (per account). */
  private recovery(service: string, accounts: string[]): { logout: string; login: string } {
    const base = this.defaultRecovery(service);
    const logins = accounts.map((account) => this.loginFor?.(service, account));
    if (logins.length === 0 || logins.some((l) => l === undefined)) return base;
    return { logout: base.logout, login: list([...new Set(logins as string[])]) };
  }

  private defaultRecovery(service: string): { logout: string; login: string } {
    const m = /^switchyard\/([a-z0-9][a-z0-9-]*)\/(.+)$/.exec(service);
    if (m) {
      const profile = m[2] === 'default' ? '' : ` --profile ${m[2]}`;
      return {
        logout: `\`${commandHint(`${m[1]}-mcp logout${profile}`)}\``,
        login: `\`${commandHint(`${m[1]}-mcp login${profile}`)}\``,
      };
    }
    return (
      this.recoveryHint?.(service) ?? {
        logout: `the logout command of the server that stored ${service}`,
        login: 'its login command',
      }
    );
  }

  private keyError(
    state: Exclude<KeyState, { key: Buffer }>,
    lost: LostSecrets[],
    service?: string,
  ): SecretKeyError {
    // The caller's own service first: its recovery is the one the user is about to need.
    const ordered = [
      ...lost.filter((l) => l.service === service),
      ...lost.filter((l) => l.service !== service),
    ];
    const count = ordered.reduce((n, l) => n + l.accounts.length, 0);
    const what = ordered.map((l) => `${l.service} (${l.accounts.join(', ')})`).join('; ');
    const why =
      state.problem === 'missing'
        ? `${state.where === this.keyFile() ? `the key file ${state.where}` : state.where} that encrypts them is missing`
        : `${state.where === this.keyFile() ? `the key file ${state.where}` : state.where} that encrypts them is damaged (not a 32-byte key)`;
    // Every logout first: a new key is made only once none of the lost entries remain.
    const hint = `Run ${list(ordered.map((l) => l.recovery.logout))}, then ${list(ordered.map((l) => l.recovery.login))}, to store them again under a new key (nothing was changed)`;
    return new SecretKeyError(
      `${count} stored secret${count === 1 ? '' : 's'} can no longer be read because ${why}: ${what}`,
      { hint, problem: state.problem, lost: ordered },
    );
  }
}

function list(items: string[]): string {
  return items.length < 2 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)!}`;
}

/** 32 bytes of base64, or undefined when the text is anything else. */
function parseKey(text: string): { key: Buffer } | undefined {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/]{43}=$/.test(trimmed)) return undefined;
  const key = Buffer.from(trimmed, 'base64');
  return key.length === 32 ? { key } : undefined;
}

/** Keychain calls whose failures (a locked keyring, a dismissed prompt) say what to do. */
function guarded(keychain: Keychain): Keychain {
  const wrap =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        return await fn(...args);
      } catch (err) {
        const reason = ((err as Error).message ?? String(err)).split('\n')[0]!.slice(0, 200);
        throw new AuthError(`The OS keychain did not answer (${reason})`, {
          hint: 'Unlock the keychain (log in to the desktop session), or set SWITCHYARD_KEYCHAIN=off to keep secrets in an encrypted file instead',
        });
      }
    };
  return {
    getPassword: wrap(keychain.getPassword.bind(keychain)),
    setPassword: wrap(keychain.setPassword.bind(keychain)),
    deletePassword: wrap(keychain.deletePassword.bind(keychain)),
    findCredentials: wrap(keychain.findCredentials.bind(keychain)),
  };
}

function remember(value: string): string {
  if (value.length < 4096) registerSecret(value);
  return value;
}

function hash(text: string, length: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

function aad(service: string, account: string): Buffer {
  return Buffer.from(`${service}\n${account}`, 'utf8');
}

/** Write to a temp file in the same folder, then rename over the target: readers never see half a file. */
export async function atomicWrite(path: string, content: string | Uint8Array, mode = 0o600): Promise<void> {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temp, content, { mode });
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}
