// One throw-away certificate for the whole run: every local HTTPS fake serves it, and NODE_EXTRA_CA_CERTS
// (set here, before the workers start) makes the test workers and every spawned server trust it.
import { setupTestCertificate } from '@switchyard/testkit';

export default async function setup(): Promise<void> {
  await setupTestCertificate();
}
