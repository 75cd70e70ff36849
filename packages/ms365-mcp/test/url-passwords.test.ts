import { describe, expect, it } from 'vitest';
import { cli, hostEnv, withWorld } from './helpers.js';

// Issue 12: a password inside a configured upstream URL (a proxy's userinfo) reaches no log line, printed line or
// tool result, even at debug level. core's one redaction rule covers every URL; ms365 is where both an authority
// and a Graph URL are configured.
const PASSWORD = 'Pr0xyPassw0rd';

const t = withWorld({
  seed: (world) => {
    world.graph.mailbox('alice@contoso.com').add({ subject: 'Hello Alice' });
  },
  server: false,
});

const withPassword = (url: string, user: string) => url.replace('https://', `https://${user}:${PASSWORD}@`);

describe('a password in MS365_GRAPH_URL or AZURE_AUTHORITY_HOST', () => {
  const env = () => ({
    MS365_GRAPH_URL: withPassword(t.world.graph.url, 'graph-user'),
    AZURE_AUTHORITY_HOST: withPassword(t.world.authority.host, 'authority-user'),
    SWITCHYARD_LOG_LEVEL: 'debug',
  });

  it('appears nowhere in status', async () => {
    const status = await cli(t.world, t.dirs, ['status'], env());
    expect(status.stdout).toContain('Graph: https://graph-user:[redacted]@localhost');
    expect(status.stdout).toContain('authority https://authority-user:[redacted]@localhost');
    expect(status.stdout + status.stderr).not.toContain(PASSWORD);
  });

  it('appears nowhere in tool results or the debug log of the served bin', async () => {
    const server = await t.spawn({ env: hostEnv(t.world, env()) });
    try {
      const calls = [
        await server.call('ms365_list_messages', {}),
        await server.call('ms365_get_message', { id: 'no-such-message' }),
      ];
      // The sign-in fails against a URL carrying userinfo, and the error names that URL.
      expect(calls[0]!.text).toContain('https://authority-user:[redacted]@localhost');
      for (const call of calls) expect(JSON.stringify(call.result)).not.toContain(PASSWORD);
      await expect.poll(() => server.stderr()).toContain('ms365_get_message answered with');
      expect(server.stderr()).toContain('DEBUG');
      expect(server.stderr()).not.toContain(PASSWORD);
    } finally {
      await server.close();
    }
  });
});
