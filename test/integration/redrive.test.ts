/**
 * `npm run redrive` end to end against the local services: the summaries consumer meets a
 * table it cannot write (the cause), gives the records up after its retries into the
 * dead-letter file `npm start` keeps; the cause is fixed; `npm run redrive -- message-stream`
 * (a process, as a user runs it, with the real handler) replays them once: the summaries are
 * right, the file is empty, and a second redrive finds nothing. (Its AWS path, on-failure
 * queue and stream, is tested with aws-sdk-client-mock in test/unit/redrive.test.ts.)
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Logger } from '@aws-lambda-powertools/logger';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { MESSAGE_STREAM_SOURCE, streamFunctionNamed } from '../../functions/catalog';
import { createMessagesRepository } from '../../functions/data/messages-repository';
import { keys, type MessageGroupItem, type Participant } from '../../functions/data/model';
import { createMessageStreamHandler } from '../../functions/message-stream/index';
import { localDocumentClient } from '../../local/aws';
import { lambdaContext } from '../../local/lambda';
import { streamFiles } from '../../local/paths';
import { createStreamConsumer, type StreamHandler } from '../../local/streams/consumer';
import { readDeadLetters } from '../../local/streams/dead-letters';
import { createTestTable, endpoints, servicePorts, type TestTable } from '../support/services';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..');

let table: TestTable;
let dataDir: string;

beforeAll(async () => {
  table = await createTestTable();
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'cruddur-redrive-'));
});

afterAll(async () => {
  await table?.drop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** `npm run redrive -- message-stream ...` as a process, pointed at this test's table and data directory. */
async function redrive(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const ports = servicePorts();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TABLE_NAME: table.tableName,
    DYNAMODB_PORT: String(ports.dynamodb),
    POSTGRES_PORT: String(ports.postgres),
    COGNITO_PORT: String(ports.cognito),
    CRUDDUR_DATA_DIR: dataDir,
  };
  delete env.DATABASE_URL;
  return run(process.execPath, ['--import', 'tsx', 'scripts/redrive.ts', 'message-stream', ...args], { cwd: ROOT, env }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );
}

it('replays dead-lettered records once the cause is fixed: applied once, summaries right, the file emptied', async () => {
  // Prepare: a conversation and a second message, whose summaries the consumer will fail to move.
  const repository = createMessagesRepository(table.client, { tableName: table.tableName });
  const alice: Participant = { user_uuid: '00000000-0000-4000-8000-00000000a11c', display_name: 'Alice', handle: 'alice_redrive' };
  const bob: Participant = { user_uuid: '00000000-0000-4000-8000-000000000b0b', display_name: 'Bob', handle: 'bob_redrive' };
  const first = await repository.createMessageInNewGroup(alice, bob, 'hello');
  const group = first.messageGroupUuid;
  const second = await repository.createMessage(group, bob, 'the one that got stuck');

  // The cause: a client that cannot reach the table.
  const broken = localDocumentClient(endpoints().dynamodb);
  broken.middlewareStack.add(
    () => async () => {
      throw Object.assign(new Error('connect ECONNREFUSED (the table is unreachable)'), { name: 'Error' });
    },
    { step: 'initialize', name: 'unreachable' },
  );
  const handler = createMessageStreamHandler({
    summaryMover: (retry) => createMessagesRepository(broken, { tableName: table.tableName, retry }),
    logger: new Logger({ logLevel: 'SILENT' }),
  });
  const fn = streamFunctionNamed('message-stream');
  const files = streamFiles(dataDir, fn.name);
  const consumer = createStreamConsumer({
    dynamodbUrl: endpoints().dynamodb,
    tableName: table.tableName,
    fn,
    source: { ...MESSAGE_STREAM_SOURCE, maximumBatchingWindowInSeconds: 0 },
    handler: ((event: DynamoDBStreamEvent) => handler(event, lambdaContext(fn))) as unknown as StreamHandler,
    ...files,
    retryDelayMs: () => 0,
    log: () => {},
  });
  const deadline = Date.now() + 60_000;
  while (readDeadLetters(files.deadLetterFile).length < 2 && Date.now() < deadline) await consumer.pollOnce();
  await consumer.stop();
  broken.destroy();
  expect(readDeadLetters(files.deadLetterFile).map((letter) => [letter.reason, letter.record?.dynamodb?.NewImage?.message?.S])).toEqual([
    ['retries-exhausted', 'hello'],
    ['retries-exhausted', 'the one that got stuck'],
  ]);

  // Act: a dry run changes nothing; then the replay, then a second one.
  const dry = await redrive('--dry-run');
  const afterDry = readFileSync(files.deadLetterFile, 'utf8');
  const replay = await redrive();
  const again = await redrive();

  // Assess
  expect(dry).toMatchObject({ code: 0, stderr: '' });
  expect(dry.stdout).toMatch(/would replay \d+ \(MSG#/);
  expect(afterDry.trim().split('\n')).toHaveLength(2);
  expect(replay).toMatchObject({ code: 0, stderr: '' });
  expect(replay.stdout).toMatch(/2 dead-lettered record\(s\) found: 2 replayed and removed, 0 failed again, 0 not replayable \(kept\)/);
  expect(readFileSync(files.deadLetterFile, 'utf8')).toBe('');
  expect(again.stdout).toMatch(/0 dead-lettered record\(s\) found/);
  // Applied once, to the newest message: the group points at it, each member has one summary showing it.
  const groupItem = (await table.client.send(new GetCommand({ TableName: table.tableName, Key: keys.group(group), ConsistentRead: true })))
    .Item as MessageGroupItem;
  expect(groupItem.last_message_sk).toBe(second.item.sk);
  for (const member of [alice, bob]) {
    const summaries = await table.client.send(
      new QueryCommand({
        TableName: table.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': keys.groupSummaryPartition(member.user_uuid) },
        ConsistentRead: true,
      }),
    );
    expect((summaries.Items ?? []).map((item) => item.message)).toEqual(['the one that got stuck']);
  }
}, 120_000);

it('answers a usage error for a function that is not a stream function', async () => {
  const answer = await run(process.execPath, ['--import', 'tsx', 'scripts/redrive.ts', 'create-message'], { cwd: ROOT }).catch(
    (error: { code: number; stderr: string }) => error,
  );
  expect(answer).toMatchObject({ code: 2, stderr: expect.stringMatching(/name a stream function: message-stream, message-push/) });
});
