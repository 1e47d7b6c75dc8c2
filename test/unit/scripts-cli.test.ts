import { describeError, runScript } from '../../scripts/lib/cli';
import { describeConnectionFailure } from '../../scripts/lib/targets';
import { localPorts } from '../../local/services/registry';
import { conversationTimeline } from '../../scripts/ddb/seed';
import { SEED_CONVERSATIONS } from '../../scripts/lib/seed-conversations';

const refused = (port: number) => Object.assign(new Error(`connect ECONNREFUSED 127.0.0.1:${port}`), { code: 'ECONNREFUSED', port });

describe('describeConnectionFailure', () => {
  const env = localPorts({ DYNAMODB_PORT: '8000', POSTGRES_PORT: '5433', COGNITO_PORT: '9229' });

  it('names the local service and what to do', () => {
    expect(describeConnectionFailure(refused(8000), env)).toBe('DynamoDB Local is not running at http://localhost:8000: start it with npm start');
    expect(describeConnectionFailure(refused(5433), env)).toBe('PostgreSQL is not running at postgresql://127.0.0.1:5433/postgres: start it with npm start');
  });

  it('finds the refusal inside an AggregateError (localhost resolving to ::1 and 127.0.0.1)', () => {
    // Prepare
    const error = Object.assign(new AggregateError([refused(9229), refused(9229)], ''), { code: 'ECONNREFUSED' });

    // Act / Assess
    expect(describeConnectionFailure(error, env)).toMatch(/^Cognito \(cognito-local\) is not running at http:\/\/localhost:9229/);
  });

  it('leaves other errors alone', () => {
    expect(describeConnectionFailure(new Error('boom'), env)).toBeUndefined();
    expect(describeError(new Error('boom'))).toBe('Error: boom');
  });
});

describe('runScript', () => {
  const spec = { name: 'demo', summary: 'A demo.', options: { limit: { type: 'string' } } } as const;

  it('prints help and exits 0 without running the script', async () => {
    // Prepare
    const lines: string[] = [];
    const main = jest.fn();

    // Act
    const code = await runScript(spec, ['--help'], main, { log: (line) => lines.push(line), error: (line) => lines.push(line) });

    // Assess
    expect(code).toBe(0);
    expect(main).not.toHaveBeenCalled();
    expect(lines.join('\n')).toContain('--prod');
  });

  it('exits 2 on an unknown option and 1 on a failure, with one clear line', async () => {
    // Prepare
    const errors: string[] = [];
    const out = { log: () => {}, error: (line: string) => errors.push(line) };

    // Act
    const usage = await runScript(spec, ['--nope'], async () => {}, out);
    const failure = await runScript(spec, [], async () => Promise.reject(refused(1)), out);

    // Assess
    expect(usage).toBe(2);
    expect(failure).toBe(1);
    expect(errors[1]).toBe('demo: Nothing is listening on port 1 (connection refused)');
  });

  it('passes --prod through', async () => {
    // Prepare
    let seen: boolean | undefined;

    // Act
    await runScript(spec, ['--prod'], async ({ prod }) => void (seen = prod), { log: () => {}, error: () => {} });

    // Assess
    expect(seen).toBe(true);
  });
});

describe('seed conversations', () => {
  const now = Date.UTC(2026, 10, 24, 12);

  it('has at least 50 alternating messages between andrewbrown and bayko, spread over the days before now', () => {
    // Prepare
    const conversation = SEED_CONVERSATIONS.find((c) => c.handles.join() === 'andrewbrown,bayko')!;

    // Act
    const timeline = conversationTimeline(conversation, now);

    // Assess
    expect(timeline.length).toBeGreaterThanOrEqual(50);
    for (const [index, message] of timeline.entries()) expect(message.speaker).toBe(index % 2);
    const times = timeline.map((message) => Date.parse(message.createdAt));
    for (const [index, time] of times.slice(1).entries()) expect(time).toBeGreaterThan(times[index]!);
    expect(Math.max(...times)).toBeLessThan(now);
    expect(now - Math.min(...times)).toBeGreaterThan(7 * 24 * 3_600_000);
  });

  it('fits each conversation in one transaction', () => {
    for (const conversation of SEED_CONVERSATIONS) expect(conversation.lines.length + 4).toBeLessThanOrEqual(100);
  });
});
