/**
 * `npm test`: the static checks (`npm run check`) and Jest at once rather than one after the
 * other. Jest leaves part of the machine idle while its services start and its tests wait on
 * them; the checks (about 11 CPU-seconds) fill it instead of adding their 8 s in front.
 * Jest's output comes as it runs, the checks' after it; the exit code is the first failure's.
 * Arguments go to Jest (`npm test -- --selectProjects unit`).
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

const jestBin = createRequire(import.meta.url).resolve('jest/bin/jest');

/** Resolves with the exit code of `child` (1 when a signal ended it). */
const exitOf = (child) => new Promise((resolve) => child.on('close', (code) => resolve(code ?? 1)));

const check = spawn(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', '-s', 'check'], { stdio: ['ignore', 'pipe', 'pipe'] });
let checkOutput = '';
check.stdout.on('data', (chunk) => (checkOutput += chunk));
check.stderr.on('data', (chunk) => (checkOutput += chunk));

const jest = spawn(process.execPath, [jestBin, ...process.argv.slice(2)], { stdio: 'inherit' });

const [jestCode, checkCode] = await Promise.all([exitOf(jest), exitOf(check)]);
process.stdout.write(checkOutput);
if (checkCode !== 0) process.stderr.write(`\nnpm run check failed (exit ${checkCode}): see its output above\n`);
process.exit(jestCode || checkCode);
