/** Paging through a Query: the one loop over `LastEvaluatedKey` every reader of many items uses. */
import { QueryCommand, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';

/**
 * The items of each page of a Query, one request per page, sent only as the caller reads on:
 * a caller that stops early (found what it looked for) sends no more requests.
 */
export async function* queryPages<T = Record<string, unknown>>(
  client: DynamoDBDocumentClient,
  input: Omit<QueryCommandInput, 'ExclusiveStartKey'>,
): AsyncGenerator<T[]> {
  let startKey: Record<string, unknown> | undefined;
  do {
    // A command per request: commands of lib-dynamodb are not meant to be sent twice.
    const output = await client.send(new QueryCommand({ ...input, ExclusiveStartKey: startKey }));
    yield (output.Items ?? []) as T[];
    startKey = output.LastEvaluatedKey;
  } while (startKey !== undefined);
}
