/**
 * Writes under injected DynamoDB faults, against DynamoDB Local: the cases where the
 * request was applied but its answer was lost (a timeout), so the SDK's retry meets its
 * own write. The message must be reported as written, and stored once.
 */
import { randomUUID } from 'node:crypto';
import { localClientConfig } from '../../local/aws';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { installFaults, injectedFaults, type FaultRates } from '../../local/faults';
import { createMessagesRepository } from '../../functions/data/messages-repository';
import { keys, type Participant } from '../../functions/data/model';
import { createTestTable, endpoints, type TestTable } from '../support/services';

const person = (handle: string): Participant => ({ user_uuid: randomUUID(), display_name: `Person ${handle}`, handle });

/**
 * A repository whose client rolls the given dice (then never faults again). Its SDK retries
 * as many times as the default strategy (3 attempts), without the default's backoff of up to
 * seconds between them: what is tested is which attempt meets what, not how long it waits.
 */
function repositoryWithFaults(table: TestTable, rates: FaultRates, rolls: number[]) {
  const client = new DynamoDBClient({ ...localClientConfig(endpoints().dynamodb), retryStrategy: new ConfiguredRetryStrategy(3, () => 5) });
  // 0.99 is past every rate below: no fault.
  installFaults(client, rates, () => rolls.shift() ?? 0.99);
  return { repository: createMessagesRepository(DynamoDBDocumentClient.from(client), { tableName: table.tableName }), client };
}

async function messagesOf(table: TestTable, groupUuid: string): Promise<string[]> {
  const output = await table.client.send(
    new QueryCommand({
      TableName: table.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.messagePartition(groupUuid) },
      ConsistentRead: true,
    }),
  );
  return (output.Items ?? []).map((item) => String(item.message));
}

describe('writes whose answer was lost', () => {
  let table: TestTable;
  const timeouts: FaultRates = { throttle: 0.2, conflict: 0, timeout: 0.2, delayMs: 10 };
  // Rolls: below 0.2 throttles, 0.2-0.4 times out; the roll after a timeout's is "before" (< 0.5) or "after the write".
  const TIMEOUT_AFTER_WRITE = [0.3, 0.9];
  const THROTTLE = 0.1;

  beforeAll(async () => {
    table = await createTestTable();
  });

  /** Two people with a conversation holding the message "first", written without faults. */
  async function conversation() {
    const [alice, bob] = [person('alice'), person('bob')];
    const { messageGroupUuid } = await createMessagesRepository(table.client, { tableName: table.tableName }).createMessageInNewGroup(alice, bob, 'first');
    return { alice, bob, messageGroupUuid };
  }
  afterAll(() => table.drop());

  it('C: the SDK retry fails its own condition; the message is reported written, once', async () => {
    // Prepare
    const { alice, messageGroupUuid } = await conversation();
    const { repository, client } = repositoryWithFaults(table, timeouts, [...TIMEOUT_AFTER_WRITE]);
    const before = injectedFaults()['timeout-after-write'];

    // Act
    const created = await repository.createMessage(messageGroupUuid, alice, 'answer lost');

    // Assess
    expect(injectedFaults()['timeout-after-write']).toBe(before + 1);
    expect(created.answer.message).toBe('answer lost');
    expect((await messagesOf(table, messageGroupUuid)).sort()).toEqual(['answer lost', 'first']);
    client.destroy();
  });

  it.each(['C', 'D'])('%s with an Idempotency-Key: the SDK retry fails on its own record; the message is reported written, once', async (pattern) => {
    // Prepare
    const { alice, bob, messageGroupUuid } = await conversation();
    const carol = person('carol');
    // D reads the pair first: the lost answer must be the transaction's.
    const { repository, client } = repositoryWithFaults(table, timeouts, pattern === 'C' ? [...TIMEOUT_AFTER_WRITE] : [0.99, ...TIMEOUT_AFTER_WRITE]);
    const claim = { userUuid: alice.user_uuid, key: `key-${pattern}-${messageGroupUuid}`, requestHash: 'h' };
    const before = injectedFaults()['timeout-after-write'];

    // Act
    const created =
      pattern === 'C'
        ? await repository.createMessage(messageGroupUuid, alice, 'keyed, answer lost', claim)
        : await repository.createMessageInNewGroup(alice, carol, 'keyed, answer lost', claim);

    // Assess: the answer was lost once, and the record names this very message.
    expect(injectedFaults()['timeout-after-write']).toBe(before + 1);
    expect(created.answer.message).toBe('keyed, answer lost');
    expect((await messagesOf(table, created.messageGroupUuid)).filter((text) => text === 'keyed, answer lost')).toHaveLength(1);
    expect((await repository.findIdempotencyRecord(alice.user_uuid, claim.key))?.response.uuid).toBe(created.answer.uuid);
    void bob;
    client.destroy();
  });

  it('C: the retries are throttled after the write landed; still reported written, once', async () => {
    // Prepare
    const { bob, messageGroupUuid } = await conversation();
    // The SDK makes 3 attempts: lost answer, throttled, throttled.
    const { repository, client } = repositoryWithFaults(table, timeouts, [...TIMEOUT_AFTER_WRITE, THROTTLE, THROTTLE]);

    // Act
    const created = await repository.createMessage(messageGroupUuid, bob, 'landed anyway');

    // Assess
    expect(created.answer.message).toBe('landed anyway');
    expect((await messagesOf(table, messageGroupUuid)).sort()).toEqual(['first', 'landed anyway']);
    client.destroy();
  });

  it('C: a write that never landed still fails', async () => {
    // Prepare
    const { bob, messageGroupUuid } = await conversation();
    // Throttled whatever the SDK's number of attempts, and so is the read that checks.
    const { repository, client } = repositoryWithFaults(table, timeouts, Array(10).fill(THROTTLE));

    // Act
    const failure = repository.createMessage(messageGroupUuid, bob, 'never written');

    // Assess
    await expect(failure).rejects.toThrow(/throughput exceeded/);
    expect(await messagesOf(table, messageGroupUuid)).toEqual(['first']);
    client.destroy();
  });

  it('D: the transaction committed but its answer was lost; one group, the message once, reported as the group it created', async () => {
    // Prepare
    const [alice, bob] = [person('alice'), person('bob')];
    // The pair lookup first (no fault), then the transaction's lost answer.
    const { repository, client } = repositoryWithFaults(table, timeouts, [0.99, ...TIMEOUT_AFTER_WRITE]);

    // Act
    const created = await repository.createMessageInNewGroup(alice, bob, 'hello once');

    // Assess
    expect(created.groupCreated).toBe(true);
    expect(await repository.findGroupUuidForPair(alice.user_uuid, bob.user_uuid)).toBe(created.messageGroupUuid);
    expect(await messagesOf(table, created.messageGroupUuid)).toEqual(['hello once']);
    client.destroy();
  });
});
