/**
 * A PostgreSQL data directory made once per PGlite version and reused: PGlite's initdb runs
 * in WASM and takes seconds (about 4.5 s here), loading the snapshot of its result under one.
 * Every fresh database (a new `.data/`, the tests' in-memory ones) starts from it.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { REPOSITORY_ROOT } from '../paths';

/** Where build tools cache (`node_modules/.cache`): gone with `node_modules`, never committed. */
export const CACHE_DIR = path.join(REPOSITORY_ROOT, 'node_modules', '.cache', 'cruddur');

/** The installed PGlite's version (its package.json is not among its exports, so it is found from its entry). */
function pgliteVersion(): string {
  let dir = path.dirname(require.resolve('@electric-sql/pglite'));
  while (!existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version;
}

/** The snapshot's file; its name carries the PGlite version, so an upgrade makes a new one. */
function snapshotFile(cacheDir = CACHE_DIR): string {
  return path.join(cacheDir, `pglite-${pgliteVersion()}-datadir.tar`);
}

/**
 * The snapshot, made on first use. Concurrent first uses (test workers) each make one and the
 * last rename wins: every copy is a complete, equivalent data directory.
 */
export async function pgliteSnapshot(cacheDir = CACHE_DIR): Promise<Blob> {
  const file = snapshotFile(cacheDir);
  if (!existsSync(file)) {
    const seed = await PGlite.create();
    const dump = await seed.dumpDataDir('none');
    await seed.close();
    mkdirSync(cacheDir, { recursive: true });
    const partial = `${file}.${process.pid}.partial`;
    writeFileSync(partial, Buffer.from(await dump.arrayBuffer()));
    renameSync(partial, file);
  }
  return new Blob([readFileSync(file)]);
}

/** True when `dataDir` already holds a database (PGlite writes PG_VERSION at its root). */
export function holdsDatabase(dataDir: string | undefined): boolean {
  return dataDir !== undefined && existsSync(path.join(dataDir, 'PG_VERSION'));
}
