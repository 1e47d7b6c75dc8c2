/**
 * A real PostgreSQL server for the scale benchmark: PGlite (what `npm start` embeds) serves
 * one connection at a time and has no connection limit to run out of, and the limit is what
 * the benchmark is about. The server binaries come from the operating system (Debian and
 * Ubuntu: `apt-get install postgresql`; macOS: `brew install postgresql@15`); the cluster is
 * made in a directory of its own, listens on loopback only, and is deleted afterwards.
 *
 * `initdb` refuses to run as root, so as root (a container, a CI runner) the server runs as
 * the `postgres` user the Debian package creates, through `runuser`.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { getFreePort, LOCAL_HOST, stopChild } from '../../local/services/process';

export interface RealPostgres {
  /** The application's connection string: an ordinary role, which the reserved slots exclude. */
  appUrl: string;
  /** A superuser's, for counting connections (it may use the reserved slots). */
  adminUrl: string;
  maxConnections: number;
  reservedConnections: number;
  version: string;
  stop(): Promise<void>;
}

/** Where the server binaries are, or why there are none. */
export function findPostgresBinaries(): { dir: string } | { missing: string } {
  const candidates: string[] = [];
  try {
    candidates.push(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  } catch {
    // no pg_config on the PATH: look where Debian puts the versions
  }
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    for (const version of readdirSync(debian).sort((a, b) => Number(b) - Number(a))) candidates.push(path.join(debian, version, 'bin'));
  }
  const dir = candidates.find((candidate) => existsSync(path.join(candidate, 'initdb')) && existsSync(path.join(candidate, 'postgres')));
  return dir
    ? { dir }
    : {
        missing:
          'no PostgreSQL server binaries (initdb, postgres): install them (Debian/Ubuntu: apt-get install postgresql; macOS: brew install postgresql@15)',
      };
}

/** As root, a command runs as the `postgres` user; otherwise as ourselves. */
function asServerUser(command: string, args: string[]): [string, string[]] {
  if (process.getuid?.() !== 0) return [command, args];
  return ['runuser', ['-u', 'postgres', '--', command, ...args]];
}

function serverUserIds(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    return {
      uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()),
      gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim()),
    };
  } catch {
    throw new Error('running as root, and there is no postgres user to run the server as (initdb refuses root): run the benchmark as an ordinary user');
  }
}

/**
 * Starts a server with `maxConnections` slots, `reservedConnections` of them for superusers,
 * with a role `app` (no superuser, like RDS's master user) owning a database `app`.
 */
export async function startRealPostgres(options: { binDir: string; maxConnections: number; reservedConnections: number }): Promise<RealPostgres> {
  // A directory of its own under the system's temp directory: the server's user must reach it.
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cruddur-bench-postgres-'));
  const ids = serverUserIds();
  if (ids) chownSync(dataDir, ids.uid, ids.gid);
  const [initdb, initdbArgs] = asServerUser(path.join(options.binDir, 'initdb'), ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
  try {
    execFileSync(initdb, initdbArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${String((error as { stderr?: unknown }).stderr ?? (error as Error).message).trim()}`);
  }

  const port = await getFreePort();
  const [server, serverArgs] = asServerUser(path.join(options.binDir, 'postgres'), [
    '-D',
    dataDir,
    '-p',
    String(port),
    '-k',
    dataDir,
    '-c',
    `listen_addresses=${LOCAL_HOST}`,
    '-c',
    `max_connections=${options.maxConnections}`,
    '-c',
    `superuser_reserved_connections=${options.reservedConnections}`,
    '-c',
    'fsync=off',
    '-c',
    'shared_buffers=32MB',
  ]);
  const child: ChildProcess = spawn(server, serverArgs, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  let exited = false;
  child.on('exit', () => (exited = true));
  // pg_ctl reaches the server through runuser too (a signal to runuser may not be passed on).
  const stop = async () => {
    const [pgCtl, pgCtlArgs] = asServerUser(path.join(options.binDir, 'pg_ctl'), ['stop', '-D', dataDir, '-m', 'immediate', '-s']);
    try {
      execFileSync(pgCtl, pgCtlArgs, { stdio: 'ignore', timeout: 15_000 });
    } catch {
      // not running, or not stopping: the signal below ends it
    }
    await stopChild(child, 5_000);
    rmSync(dataDir, { recursive: true, force: true });
  };

  const adminUrl = `postgresql://postgres@${LOCAL_HOST}:${port}/postgres`;
  const appUrl = `postgresql://app:app@${LOCAL_HOST}:${port}/app`;
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (exited) throw new Error(`PostgreSQL exited while starting:\n${output.trim().slice(-800)}`);
      const client = new pg.Client({ connectionString: adminUrl });
      try {
        await client.connect();
        await client.query("CREATE ROLE app LOGIN PASSWORD 'app'");
        await client.query('CREATE DATABASE app OWNER app');
        const version = (await client.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version;
        await client.end();
        return { appUrl, adminUrl, maxConnections: options.maxConnections, reservedConnections: options.reservedConnections, version, stop };
      } catch (error) {
        await client.end().catch(() => {});
        if (Date.now() > deadline)
          throw new Error(`PostgreSQL did not accept connections within 30 s: ${(error as Error).message}\n${output.trim().slice(-800)}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }
}
