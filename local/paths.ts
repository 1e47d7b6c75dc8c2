/**
 * Where the local runtime keeps its state: one data directory (`.data/`, or the one
 * `CRUDDUR_DATA_DIR` names, so tests never touch a developer's data) holding the services'
 * data, each stream consumer's checkpoint and dead letters, and a lock naming the running
 * `npm start`, which `npm start -- --fresh` and `npm run reset` respect.
 */
import { existsSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { getOptionalStringFromEnv } from '../functions/config/environment';

/** The repository's root: catalog entries, `events/` and `.data/` are relative to it. */
export const REPOSITORY_ROOT = path.resolve(__dirname, '..');

const DEFAULT_DATA_DIR = path.join(REPOSITORY_ROOT, '.data');

/** The data directory: `CRUDDUR_DATA_DIR` (resolved against the working directory) or `.data/`. */
export function localDataDir(env: NodeJS.ProcessEnv): string {
  const configured = getOptionalStringFromEnv('CRUDDUR_DATA_DIR', '', env);
  return configured ? path.resolve(configured) : DEFAULT_DATA_DIR;
}

/** The stream consumer's files of one stream function, named after it. */
export function streamFiles(dataDir: string, functionName: string) {
  return {
    /** Per shard, the last sequence number the consumer fully processed. */
    checkpointFile: path.join(dataDir, `stream-${functionName}.checkpoint.json`),
    /** Records given up on (retries exhausted, too old), one JSON object a line. */
    deadLetterFile: path.join(dataDir, `stream-${functionName}.dead-letters.jsonl`),
  };
}

/** The pid of the `npm start` using the directory. */
const lockFileOf = (dataDir: string) => path.join(dataDir, 'npm-start.pid');

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else, which still means "running".
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid of a live `npm start` holding `dataDir`, or undefined (a stale lock is ignored). */
function runningStartPid(dataDir: string): number | undefined {
  const lockFile = lockFileOf(dataDir);
  if (!existsSync(lockFile)) return undefined;
  const pid = Number(readFileSync(lockFile, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid) ? pid : undefined;
}

/** Thrown when another `npm start` uses the data directory. */
export class DataDirInUseError extends Error {
  constructor(dataDir: string, pid: number, doing: string) {
    super(`npm start (pid ${pid}) is using ${dataDir}; stop it (Ctrl-C) before you ${doing}, or set CRUDDUR_DATA_DIR to another directory`);
    this.name = 'DataDirInUseError';
  }
}

/** @throws DataDirInUseError when a live `npm start` holds `dataDir`. */
export function assertDataDirFree(dataDir: string, doing: string): void {
  const pid = runningStartPid(dataDir);
  if (pid !== undefined) throw new DataDirInUseError(dataDir, pid, doing);
}

/**
 * Takes the directory for this process: two DynamoDB Locals or PGlites on one directory
 * would corrupt it. Returns the release function.
 */
export function lockDataDir(dataDir: string): () => void {
  assertDataDirFree(dataDir, 'start another one');
  mkdirSync(dataDir, { recursive: true });
  const lockFile = lockFileOf(dataDir);
  writeFileSync(lockFile, `${process.pid}\n`);
  return () => {
    try {
      if (readFileSync(lockFile, 'utf8').trim() === String(process.pid)) rmSync(lockFile, { force: true });
    } catch {
      // Already gone (e.g. the directory was deleted): nothing to release.
    }
  };
}

/** Deletes the data directory. @throws DataDirInUseError while `npm start` uses it. */
export function wipeDataDir(dataDir: string): boolean {
  assertDataDirFree(dataDir, 'delete its data');
  const existed = existsSync(dataDir);
  rmSync(dataDir, { recursive: true, force: true });
  return existed;
}
