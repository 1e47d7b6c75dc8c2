/**
 * A short `npm run soak -- --faults` on the suite's services, so the soak stays honest in
 * CI: a few users for about 6 s with DynamoDB faults, clients retrying with an
 * Idempotency-Key (each person's first answer, and every fifth, lost on purpose: the retry
 * path runs on every run, at any speed), a fixed seed, the stream consumer killed and
 * restarted, poison records (reported at once, never dead-lettered), a WebSocket listener
 * per person checked to get every message of theirs once (and read receipts and typing frames only
 * of their conversations), people marking conversations read, every unread count recounted from
 * the table; zero violations. (The checker's own test, which shows it does
 * report each kind of violation, is test/unit/soak-check.test.ts.)
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..');

jest.setTimeout(600_000);

describe('npm run soak', () => {
  it('holds every invariant under faults, a consumer crash and poison records', async () => {
    // Act: as a child process, as npm runs it (the runtime loads the functions with import(),
    // which Jest's module system does not offer); the suite's services through their ports.
    // --retry-cap: the consumer's retries are proven, not its production backoff waited out.
    const flags = '--reuse-services --duration 6 --users 4 --think 0.5 --retries --retry-cap 100 --seed 20261204';
    const args = `${flags} --fault-rates throttle=0.1,conflict=0.1,timeout=0.05,delay=50`.split(' ');
    const env = { ...process.env };
    delete env.TABLE_NAME;
    const soak = await run(process.execPath, ['--import', 'tsx', 'bench/soak/cli.ts', ...args], { cwd: ROOT, env }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
    );

    // Assess
    const output = soak.stdout;
    expect({ code: soak.code, stderr: soak.stderr, violations: output.match(/^Violations: .*$/m)?.[0] }).toEqual({
      code: 0,
      stderr: '',
      violations: 'Violations: none',
    });
    // The run did what it claims: messages accepted, faults injected on both sides, a crash, dead letters.
    const accepted = Number(/accepted (\d+)/.exec(output.slice(output.indexOf('\nSoak:')))?.[1]);
    expect(accepted).toBeGreaterThan(5);
    expect(output).toMatch(/faults {5}API: [^;]*[1-9]/);
    expect(output).toMatch(/consumer killed with SIGKILL halfway and restarted/);
    // Clients retried with an Idempotency-Key, and each of the 4 lost (at least) their first answer: still each message once.
    expect(output).toMatch(/seed 20261204 /);
    expect(Number(/retries +Idempotency-Key on every POST: (\d+) first attempts' answers lost/.exec(output)?.[1])).toBeGreaterThanOrEqual(4);
    expect(output).toMatch(/resuming .* from the checkpoint/);
    // The two orphan poison records are reported at once as never applicable, not retried into the dead letters.
    expect(output).toMatch(/dead letters 0$/m);
    expect(output).toMatch(/reported as never applicable 2$/m);
    // Every person had a WebSocket open throughout: each stored message reached both members once (else push-* violations above).
    expect(Number(/pushes +(\d+) frames to 4 listeners/.exec(output)?.[1])).toBeGreaterThan(accepted);
    // Read state was checked: every group's unread counts against its messages and markers (else unread-drift above), receipts and typing frames against the members.
    expect(output).toMatch(/read state +\d+ marks; every group's unread counts recounted from its messages and markers/);
  });
});
