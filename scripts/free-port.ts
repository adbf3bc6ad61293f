// A TCP port free on loopback right now, for a server started next (the benchmark's servers,
// the tests' real servers). Another process could take it in between; on a test machine
// that is a risk worth the simplicity.
import { createServer } from 'node:net';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
