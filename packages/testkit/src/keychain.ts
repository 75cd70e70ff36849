import { openKeychain } from '@switchyard/core';

/**
 * Whether the real OS keychain answers here. Tests that need it skip with this reason where it does not,
 * except when `SWITCHYARD_REQUIRE_KEYCHAIN=1` (CI), where a missing keychain is a failure.
 */
export async function keychainStatus(): Promise<{ available: boolean; reason: string }> {
  const probe = await openKeychain({ ...process.env, SWITCHYARD_KEYCHAIN: 'on' });
  if (probe.keychain) return { available: true, reason: '' };
  const reason = `no OS keychain (Secret Service) answers here: ${probe.reason}`;
  if (process.env.SWITCHYARD_REQUIRE_KEYCHAIN === '1') {
    throw new Error(
      `${reason}; SWITCHYARD_REQUIRE_KEYCHAIN=1 demands one (run under dbus-run-session with gnome-keyring unlocked)`,
    );
  }
  process.stderr.write(`skipping keychain tests: ${reason}\n`);
  return { available: false, reason };
}
