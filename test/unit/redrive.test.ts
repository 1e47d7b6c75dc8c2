/**
 * `npm run redrive -- <function> --prod`'s AWS path against mocked AWS clients
 * (aws-sdk-client-mock: no AWS account is reachable from here): the on-failure queue's
 * messages, the records fetched back from the stream, the function invoked with them, and a
 * message deleted only once the function accepted all its records. The local path runs for
 * real in test/integration/redrive.test.ts.
 */
import { DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand, TrimmedDataAccessException } from '@aws-sdk/client-dynamodb-streams';
import { InvokeCommand, type InvokeCommandOutput, LambdaClient } from '@aws-sdk/client-lambda';
import { ChangeMessageVisibilityCommand, DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { streamFunctionNamed } from '../../functions/catalog';
import { redriveQueue } from '../../scripts/lib/redrive';

const sqs = mockClient(SQSClient);
const streams = mockClient(DynamoDBStreamsClient);
const lambda = mockClient(LambdaClient);
const STREAM_ARN = 'arn:aws:dynamodb:us-east-1:123456789012:table/cruddur-messages/stream/2026-12-01T00:00:00.000';
const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/cruddur-dev-message-stream-failures';

/** What Lambda sends to the on-failure destination for a failed batch. */
function failureMessage(id: string, start: string, end: string) {
  return {
    MessageId: id,
    ReceiptHandle: `receipt-${id}`,
    Body: JSON.stringify({
      requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 6 },
      version: '1.0',
      timestamp: '2026-12-04T10:00:00.000Z',
      DDBStreamBatchInfo: { shardId: 'shardId-0001', startSequenceNumber: start, endSequenceNumber: end, batchSize: 2, streamArn: STREAM_ARN },
    }),
  };
}

/** A stream record as GetRecords returns it: a message (passes the filter) or a summary (does not). */
function streamRecord(sequence: string, pk: string) {
  return {
    eventID: `event-${sequence}`,
    eventName: 'INSERT' as const,
    eventSource: 'aws:dynamodb',
    awsRegion: 'us-east-1',
    dynamodb: {
      ApproximateCreationDateTime: new Date('2026-12-04T09:59:00Z'),
      Keys: { pk: { S: pk }, sk: { S: `2026-12-04T09:59:00.000Z#${sequence}` } },
      NewImage: { pk: { S: pk }, sk: { S: `2026-12-04T09:59:00.000Z#${sequence}` }, message: { S: `message ${sequence}` } },
      SequenceNumber: sequence,
      StreamViewType: 'NEW_IMAGE' as const,
    },
  };
}

/** A Lambda response payload (the SDK's blob type is a Uint8Array with helpers the code does not use). */
const payload = (value: unknown) => new Uint8Array(Buffer.from(JSON.stringify(value))) as unknown as InvokeCommandOutput['Payload'];
const invokedRecords = () =>
  lambda
    .commandCalls(InvokeCommand)
    .map((call) => JSON.parse(Buffer.from(call.args[0].input.Payload as Uint8Array).toString()) as { Records: { dynamodb: { SequenceNumber: string } }[] });

async function replay(dryRun = false) {
  const lines: string[] = [];
  const report = await redriveQueue({
    sqs: new SQSClient({}),
    streams: new DynamoDBStreamsClient({}),
    lambda: new LambdaClient({}),
    queueUrl: QUEUE_URL,
    functionName: 'cruddur-dev-message-stream',
    fn: streamFunctionNamed('message-stream'),
    dryRun,
    log: (line) => lines.push(line),
  });
  return { report, lines };
}

beforeEach(() => {
  sqs.reset();
  streams.reset();
  lambda.reset();
  sqs.on(ChangeMessageVisibilityCommand).resolves({});
  sqs.on(DeleteMessageCommand).resolves({});
  streams.on(GetShardIteratorCommand).resolves({ ShardIterator: 'iterator-1' });
});

it('fetches a failed batch back from the stream, invokes the function with the records the filter passes, and deletes the message once all are accepted', async () => {
  // Prepare: one failed batch of 100..102; the stream holds a summary write between the two messages, and a later record.
  sqs
    .on(ReceiveMessageCommand)
    .resolvesOnce({ Messages: [failureMessage('m1', '100', '102')] })
    .resolves({ Messages: [] });
  streams
    .on(GetRecordsCommand)
    .resolves({ Records: [streamRecord('100', 'MSG#g1'), streamRecord('101', 'GRP#u1'), streamRecord('102', 'MSG#g1'), streamRecord('103', 'MSG#g2')] });
  lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: payload({ batchItemFailures: [] }) });

  // Act
  const { report } = await replay();

  // Assess: the two messages of the range (not the summary, not the record after it), the message deleted.
  expect(streams.commandCalls(GetShardIteratorCommand)[0]!.args[0].input).toMatchObject({
    StreamArn: STREAM_ARN,
    ShardId: 'shardId-0001',
    ShardIteratorType: 'AT_SEQUENCE_NUMBER',
    SequenceNumber: '100',
  });
  expect(invokedRecords().map((event) => event.Records.map((record) => record.dynamodb.SequenceNumber))).toEqual([['100', '102']]);
  expect(lambda.commandCalls(InvokeCommand)[0]!.args[0].input).toMatchObject({ FunctionName: 'cruddur-dev-message-stream', InvocationType: 'RequestResponse' });
  expect(invokedRecords()[0]!.Records[0]).toMatchObject({
    eventSourceARN: STREAM_ARN,
    dynamodb: { ApproximateCreationDateTime: Date.parse('2026-12-04T09:59:00Z') / 1000 },
  });
  expect(sqs.commandCalls(DeleteMessageCommand).map((call) => call.args[0].input.ReceiptHandle)).toEqual(['receipt-m1']);
  expect(report).toEqual({ found: 1, replayed: 1, failedAgain: 0, unavailable: 0 });
});

it('keeps the message when the function fails a record again, or fails outright', async () => {
  sqs
    .on(ReceiveMessageCommand)
    .resolvesOnce({ Messages: [failureMessage('m1', '100', '100'), failureMessage('m2', '200', '200')] })
    .resolves({ Messages: [] });
  streams
    .on(GetRecordsCommand)
    .resolvesOnce({ Records: [streamRecord('100', 'MSG#g1')] })
    .resolves({ Records: [streamRecord('200', 'MSG#g2')] });
  lambda
    .on(InvokeCommand)
    .resolvesOnce({ StatusCode: 200, Payload: payload({ batchItemFailures: [{ itemIdentifier: '100' }] }) })
    .resolves({ StatusCode: 200, FunctionError: 'Unhandled', Payload: payload({ errorMessage: 'boom' }) });

  const { report, lines } = await replay();

  expect(sqs.commandCalls(DeleteMessageCommand)).toHaveLength(0);
  expect(sqs.commandCalls(ChangeMessageVisibilityCommand).map((call) => call.args[0].input)).toEqual([
    { QueueUrl: QUEUE_URL, ReceiptHandle: 'receipt-m1', VisibilityTimeout: 0 },
    { QueueUrl: QUEUE_URL, ReceiptHandle: 'receipt-m2', VisibilityTimeout: 0 },
  ]);
  expect(report).toEqual({ found: 2, replayed: 0, failedAgain: 2, unavailable: 0 });
  expect(lines.join('\n')).toMatch(/failed 1 record\(s\) again[\s\S]*the function failed \(Unhandled\)/);
});

it('reports a batch whose records left the stream and keeps its message', async () => {
  sqs
    .on(ReceiveMessageCommand)
    .resolvesOnce({ Messages: [failureMessage('m1', '100', '101')] })
    .resolves({ Messages: [] });
  streams.on(GetShardIteratorCommand).rejects(new TrimmedDataAccessException({ message: 'trimmed', $metadata: {} }));

  const { report, lines } = await replay();

  expect(lambda.commandCalls(InvokeCommand)).toHaveLength(0);
  expect(sqs.commandCalls(DeleteMessageCommand)).toHaveLength(0);
  expect(report).toEqual({ found: 1, replayed: 0, failedAgain: 0, unavailable: 1 });
  expect(lines.join('\n')).toMatch(/kept shardId-0001 100\.\.101: TrimmedDataAccessException: the records left the stream/);
});

it('with --dry-run, lists what it would replay and changes nothing', async () => {
  sqs
    .on(ReceiveMessageCommand)
    .resolvesOnce({ Messages: [failureMessage('m1', '100', '101')] })
    .resolves({ Messages: [] });
  streams.on(GetRecordsCommand).resolves({ Records: [streamRecord('100', 'MSG#g1'), streamRecord('101', 'GRP#u1')] });

  const { report, lines } = await replay(true);

  expect(lambda.commandCalls(InvokeCommand)).toHaveLength(0);
  expect(sqs.commandCalls(DeleteMessageCommand)).toHaveLength(0);
  expect(lines).toEqual(['  would replay shardId-0001 100..101: 2 record(s), 1 through the filter']);
  expect(report.found).toBe(1);
});
