/**
 * Ports for services: below the ephemeral range, so no client connection on the machine can
 * take one between the check and the service's own listen (an e2e start once failed with
 * EADDRINUSE on a port listen(0) had chosen); never the same twice; one in use is skipped.
 */
import net from 'node:net';
import { getFreePort, LOCAL_HOST } from '../../local/services/process';

function listenOn(port: number): Promise<net.Server> {
  return new Promise((resolve) => {
    const server = net.createServer();
    // Taken by something else already: taken either way, which is what the test needs.
    server.once('error', () => resolve(server));
    server.listen(port, LOCAL_HOST, () => resolve(server));
  });
}

describe('getFreePort', () => {
  it('hands out distinct ports below the ephemeral range, concurrently too', async () => {
    const ports = await Promise.all(Array.from({ length: 20 }, () => getFreePort()));
    expect(new Set(ports).size).toBe(20);
    for (const port of ports) expect(port).toBeGreaterThanOrEqual(20_000);
    for (const port of ports) expect(port).toBeLessThan(32_768);
  });

  it('skips a port something listens on', async () => {
    const before = await getFreePort();
    const taken = await Promise.all([listenOn(before + 1), listenOn(before + 2)]);
    try {
      expect([before, before + 1, before + 2]).not.toContain(await getFreePort());
    } finally {
      for (const server of taken) server.close();
    }
  });
});
