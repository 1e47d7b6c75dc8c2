/**
 * Wall time and peak memory of a command and every process it starts (cdktf runs npx, which
 * runs tsx, which runs node...). `/usr/bin/time -v` is not everywhere and sees one process,
 * so the tree is found through /proc (Linux) and polled while it runs.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface TreeRun {
  wallMs: number;
  /** The largest sum of VmRSS over the tree seen at one poll: the tree's peak footprint. */
  peakTreeRssMiB: number;
  /** The largest VmHWM (a process's own peak RSS) of any one process of the tree. */
  peakProcessRssMiB: number;
  /** How many distinct processes the tree had. */
  processes: number;
  exitCode: number | null;
  output: string;
}

// Scanning /proc costs a few milliseconds of CPU; a node process's memory grows slower than that.
const POLL_MS = 50;

/** The children of every process, from /proc/<pid>/stat (field 4 is the parent's pid). */
function childrenByParent(): Map<number, number[]> {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // The command name (field 2) may hold spaces and parentheses: parse after its last ')'.
    const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const list = children.get(parent) ?? [];
    list.push(Number(entry));
    children.set(parent, list);
  }
  return children;
}

function treeOf(root: number): number[] {
  const children = childrenByParent();
  const tree = [root];
  for (let index = 0; index < tree.length; index += 1) tree.push(...(children.get(tree[index]!) ?? []));
  return tree;
}

/** VmRSS and VmHWM of a process in KiB, or undefined when it is gone. */
function memoryOf(pid: number): { rss: number; hwm: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    return { rss: field('VmRSS'), hwm: field('VmHWM') };
  } catch {
    return undefined;
  }
}

/** Runs `command args` in `cwd` with `env` and measures the whole process tree. */
export function measureTree(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number }): Promise<TreeRun> {
  const began = process.hrtime.bigint();
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let peakTree = 0;
  let peakProcess = 0;
  const seen = new Set<number>();
  const poll = () => {
    if (child.pid === undefined) return;
    let sum = 0;
    for (const pid of treeOf(child.pid)) {
      const memory = memoryOf(pid);
      if (memory === undefined) continue;
      seen.add(pid);
      sum += memory.rss;
      peakProcess = Math.max(peakProcess, memory.hwm);
    }
    peakTree = Math.max(peakTree, sum);
  };
  const timer = setInterval(poll, POLL_MS);
  const killer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
  poll();
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (exitCode) => {
      clearInterval(timer);
      clearTimeout(killer);
      resolve({
        wallMs: Number(process.hrtime.bigint() - began) / 1e6,
        peakTreeRssMiB: peakTree / 1024,
        peakProcessRssMiB: peakProcess / 1024,
        processes: seen.size,
        exitCode,
        output,
      });
    });
  });
}
