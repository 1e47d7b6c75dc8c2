/**
 * Child-process entry of the embedded PostgreSQL: PGlite runs Postgres in WASM on the
 * thread that calls it, so it gets a process of its own rather than stalling the caller's
 * event loop. Usage: postgres-server.ts <port> [dataDir]; prints `ready` when listening.
 */
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { holdsDatabase, pgliteSnapshot } from './pglite-snapshot';
import { LOCAL_HOST } from './process';

async function main(): Promise<void> {
  const [portArg, dataDirArg] = process.argv.slice(2);
  const dataDir = dataDirArg || undefined;
  // A new database starts from the cached initdb result instead of running initdb again.
  const db = await PGlite.create({ dataDir, ...(holdsDatabase(dataDir) ? {} : { loadDataDir: await pgliteSnapshot() }) });
  // PGlite is single-connection; the socket server multiplexes client connections onto it
  // query by query, which suits the short statements of this project.
  const server = new PGLiteSocketServer({ db, port: Number(portArg), host: LOCAL_HOST, maxConnections: 32 });
  await server.start();
  const shutdown = async () => {
    await server.stop();
    await db.close(); // flushes the data directory
    process.exit(0);
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  // Exit with the parent: an orphaned database would hold the port and the data directory.
  process.stdin.on('end', shutdown);
  process.stdin.resume();
  process.stdout.write('ready\n');
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
