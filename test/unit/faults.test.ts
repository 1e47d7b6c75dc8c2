/**
 * Fault injection (local/faults.ts): the rates' syntax, the guarantee that it
 * never acts outside a loopback endpoint, and the errors it injects, which
 * must look to the SDK and to the code like DynamoDB's own. No request leaves the process:
 * every fault here is injected before sending.
 */
import { localClientConfig } from '../../local/aws';
import { DynamoDBClient, ListTablesCommand, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, TransactWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConfigurationError } from '../../functions/errors';
import { FaultsRefusedError, installFaults, installLocalFaults, isLoopbackEndpoint, parseFaultRates } from '../../local/faults';
import { isRetryableTransactionCancellation } from '../../functions/data/retry';

const localClient = () => new DynamoDBClient({ ...localClientConfig('http://127.0.0.1:9'), maxAttempts: 1 });

describe('fault rates', () => {
  it('parses rates and the delay', () => {
    // Act & Assess
    expect(parseFaultRates('throttle=0.05, conflict=0.1,timeout=0.02,delay=500')).toEqual({ throttle: 0.05, conflict: 0.1, timeout: 0.02, delayMs: 500 });
    expect(parseFaultRates('timeout=1')).toEqual({ throttle: 0, conflict: 0, timeout: 1, delayMs: 300 });
  });

  it.each(['throttle', 'throttle=abc', 'throttle=2', 'crash=0.1', 'delay=-1', 'throttle=0.6,conflict=0.6'])('refuses %p', (spec) => {
    // Act & Assess
    expect(() => parseFaultRates(spec)).toThrow(ConfigurationError);
  });
});

describe('where faults may be injected', () => {
  it.each([
    ['http://127.0.0.1:8000', true],
    ['http://localhost:8000', true],
    ['http://[::1]:8000', true],
    ['https://dynamodb.us-east-1.amazonaws.com', false],
    ['http://10.0.0.5:8000', false],
    ['http://127.0.0.1.evil.example:8000', false],
    [undefined, false],
  ])('%p is loopback: %p', (endpoint, expected) => {
    // Act & Assess
    expect(isLoopbackEndpoint(endpoint)).toBe(expected);
  });

  it('refuses to install faults on a client of AWS or of another machine', () => {
    // Prepare
    const rates = parseFaultRates('throttle=1');

    // Act & Assess
    expect(() => installLocalFaults(localClient(), undefined, rates)).toThrow(FaultsRefusedError);
    expect(() => installLocalFaults(localClient(), 'https://dynamodb.eu-west-1.amazonaws.com', rates)).toThrow(FaultsRefusedError);
    expect(() => installLocalFaults(localClient(), 'http://10.0.0.5:8000', rates)).toThrow(FaultsRefusedError);
    expect(() => installLocalFaults(localClient(), 'http://127.0.0.1:8000', rates)).not.toThrow();
  });
});

describe('injected faults', () => {
  it('throttles with the exceptions the SDK retries as throttling', async () => {
    // Prepare
    const client = localClient();
    installFaults(client, parseFaultRates('throttle=1'));
    const documents = DynamoDBDocumentClient.from(client);

    // Act
    const error = await documents.send(new GetCommand({ TableName: 't', Key: { pk: 'a', sk: 'b' } })).catch((caught: unknown) => caught);

    // Assess
    expect(['ProvisionedThroughputExceededException', 'ThrottlingException']).toContain((error as Error).name);
  });

  it('cancels a transaction with a TransactionConflict reason the repository retries', async () => {
    // Prepare
    const client = localClient();
    installFaults(client, parseFaultRates('conflict=1'));
    const documents = DynamoDBDocumentClient.from(client);
    const put = (pk: string) => ({ Put: { TableName: 't', Item: { pk, sk: 'x' } } });

    // Act
    const error = await documents.send(new TransactWriteCommand({ TransactItems: [put('a'), put('b'), put('c')] })).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(TransactionCanceledException);
    const codes = (error as TransactionCanceledException).CancellationReasons?.map((reason) => reason.Code);
    expect(codes).toHaveLength(3);
    expect(codes?.filter((code) => code === 'TransactionConflict')).toHaveLength(1);
    expect(isRetryableTransactionCancellation(error)).toBe(true);
  });

  it('times out before sending, as the SDK names a socket timeout', async () => {
    // Prepare: the first roll picks the timeout, the second "before sending".
    const client = localClient();
    const rolls = [0, 0.1];
    installFaults(client, { throttle: 0, conflict: 0, timeout: 1, delayMs: 5 }, () => rolls.shift() ?? 0.9);

    // Act
    const error = await client.send(new ListTablesCommand({})).catch((caught: unknown) => caught);

    // Assess
    expect((error as Error).name).toBe('TimeoutError');
  });
});
