// One throw-away certificate for the whole run: every local HTTPS fake serves it, and NODE_EXTRA_CA_CERTS
// (set here, before the workers start) makes the test workers and every spawned server trust it.
// The run's temporary folders live under one root (SWITCHYARD_TEST_TMP, and TMPDIR for everything the run
// spawns), removed when the run ends.
import { setupTestCertificate, useTempRoot } from '@switchyard/testkit';

export default async function setup(): Promise<() => void> {
  const removeTempRoot = useTempRoot();
  await setupTestCertificate();
  return removeTempRoot;
}
