/**
 * What every benchmark shares: its shape, the services it runs against, and the way its
 * figures are printed and stored. A benchmark is `bench/<name>.ts` exporting `benchmark`;
 * `bench/run.ts` runs them (`npm run bench [-- <name>...]`).
 *
 * Absolute times on a shared machine drift, so each benchmark measures its baseline in the
 * same run, interleaved where it can, and reports ratios against it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getFreePort } from '../../local/services/process';
import { startLocalServices, type LocalServices } from '../../local/services';

type Cell = string | number;

export interface Table {
  title: string;
  columns: string[];
  rows: Cell[][];
  /** One line under the table: what the baseline is, how to read it. */
  note?: string;
}

/** A target the project set, reported as a figure, never asserted. */
export interface Target {
  name: string;
  /** E.g. `>= 5x baseline records/s`. */
  target: string;
  /** E.g. `7.3x`. */
  actual: string;
  met: boolean;
  /** When missed: by how much, and what limits it. */
  comment?: string;
}

interface BenchResult {
  tables: Table[];
  targets: Target[];
  /** Raw figures for bench/results/<name>.json. */
  figures: Record<string, unknown>;
}

export interface BenchContext {
  /** A progress line on stderr (the tables go to stdout). */
  progress(line: string): void;
  /**
   * The local services (DynamoDB Local in memory, PGlite, cognito-local) on free ports,
   * started on first use and shared by the benchmarks of one run; stopped by the runner.
   */
  services(): Promise<LocalServices>;
  /** A scratch directory for this run, deleted by the runner. */
  scratchDir: string;
}

export interface Benchmark {
  name: string;
  summary: string;
  /** Its figures, or why it could not run here (a missing server, say): then nothing is written. */
  run(context: BenchContext): Promise<BenchResult | { skipped: string }>;
}

/** The lazily started services of one run, and how to stop them. */
export function sharedServices(scratchDir: string, progress: (line: string) => void) {
  let started: Promise<LocalServices> | undefined;
  return {
    get: () =>
      (started ??= (async () => {
        const ports = { dynamodb: await getFreePort(), postgres: await getFreePort(), cognito: await getFreePort() };
        return startLocalServices({ ports, scratchDir: path.join(scratchDir, 'cognito'), onProgress: progress });
      })()),
    async stop() {
      if (started) await (await started.catch(() => undefined))?.stop();
    },
  };
}

export function createScratchDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cruddur-bench-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function formatTable(table: Table): string {
  const cells = [table.columns, ...table.rows.map((row) => row.map(String))];
  const widths = table.columns.map((_, column) => Math.max(...cells.map((row) => String(row[column] ?? '').length)));
  const line = (row: Cell[]) =>
    row
      .map((cell, column) => (typeof cell === 'number' ? String(cell).padStart(widths[column]!) : String(cell).padEnd(widths[column]!)))
      .join('  ')
      .trimEnd();
  return [
    table.title,
    line(table.columns),
    widths.map((width) => '-'.repeat(width)).join('  '),
    ...table.rows.map(line),
    ...(table.note ? [`(${table.note})`] : []),
  ].join('\n');
}

export function formatTargets(name: string, targets: Target[]): string {
  if (targets.length === 0) return '';
  return formatTable({
    title: `${name}: targets`,
    columns: ['target', 'wanted', 'measured', 'met'],
    rows: targets.map((target) => [target.name, target.target, target.actual, target.met ? 'yes' : `NO${target.comment ? `: ${target.comment}` : ''}`]),
  });
}
