import { createRequire } from 'node:module';

/** The keytar-compatible surface of `@napi-rs/keyring` that core uses. */
export interface Keychain {
  getPassword(service: string, account: string): Promise<string | null>;
  setPassword(service: string, account: string, password: string): Promise<void>;
  deletePassword(service: string, account: string): Promise<boolean>;
  findCredentials(service: string): Promise<Array<{ account: string; password: string }>>;
}

export type KeychainProbe =
  { keychain: Keychain; reason?: undefined } | { keychain: undefined; reason: string };

const require = createRequire(import.meta.url);
let probed: Promise<KeychainProbe> | undefined;

/**
 * Find out once per process whether an OS keychain answers. On Linux only the Secret Service counts:
 * the kernel keyring that keyring-rs falls back to forgets everything at logout, which would orphan
 * the encrypted file's key. `SWITCHYARD_KEYCHAIN=off` skips the keychain (containers, CI without dbus).
 */
export function openKeychain(env: NodeJS.ProcessEnv = process.env): Promise<KeychainProbe> {
  return (probed ??= probe(env));
}

/** Forget the probe result (tests switch environments within one process). */
export function resetKeychainProbe(): void {
  probed = undefined;
}

async function probe(env: NodeJS.ProcessEnv): Promise<KeychainProbe> {
  if (['off', '0', 'false', 'no'].includes((env.SWITCHYARD_KEYCHAIN ?? '').toLowerCase())) {
    return { keychain: undefined, reason: 'SWITCHYARD_KEYCHAIN is off' };
  }
  let keyring: typeof import('@napi-rs/keyring');
  let keytar: Keychain;
  try {
    keyring = require('@napi-rs/keyring') as typeof import('@napi-rs/keyring');
    keytar = require('@napi-rs/keyring/keytar.js') as Keychain;
  } catch (err) {
    return { keychain: undefined, reason: `the keyring module did not load (${(err as Error).message})` };
  }
  try {
    const entry = new keyring.AsyncEntry(
      'switchyard',
      'availability-probe',
      process.platform === 'linux' ? { linux: { store: 'secret-service' } } : undefined,
    );
    await entry.getPassword(AbortSignal.timeout(5000));
    return { keychain: retryingWhenServiceGone(keytar) };
  } catch (err) {
    const message = (err as Error).message ?? String(err);
    return { keychain: undefined, reason: message.split('\n')[0]!.slice(0, 200) };
  }
}

/** A Secret Service that went away (the daemon crashed or is restarting), as D-Bus reports it. */
const SERVICE_GONE =
  /ServiceUnknown|NameHasNoOwner|NoReply|Disconnected|not provided by any \.service files|connection (was )?closed/i;

/**
 * The keychain with each call tried again, up to `delaysMs.length` times, when the Secret Service vanished under
 * it: gnome-keyring-daemon can abort on a race between clients' first requests (GNOME gnome-keyring #190/#196),
 * and its supervisor (systemd for a user, .ci/run in CI) starts it again within moments. Other errors and the
 * last failure pass through unchanged.
 */
export function retryingWhenServiceGone(keychain: Keychain, delaysMs: number[] = [250, 500, 1000]): Keychain {
  const retried =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      for (let attempt = 0; ; attempt++) {
        try {
          return await call(...args);
        } catch (err) {
          const delay = delaysMs[attempt];
          if (delay === undefined || !SERVICE_GONE.test((err as Error)?.message ?? String(err))) throw err;
          await new Promise((r) => setTimeout(r, delay));
        }
      }
    };
  return {
    getPassword: retried((service: string, account: string) => keychain.getPassword(service, account)),
    setPassword: retried((service: string, account: string, password: string) =>
      keychain.setPassword(service, account, password),
    ),
    deletePassword: retried((service: string, account: string) => keychain.deletePassword(service, account)),
    findCredentials: retried((service: string) => keychain.findCredentials(service)),
  };
}
