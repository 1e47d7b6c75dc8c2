/**
 * The cold-start benchmark's floor: a bundle that makes a function's unavoidable DynamoDB
 * requests and nothing else. Bundled by `bundleFunction` exactly as the catalog's functions
 * are, it creates the plain DynamoDB client at module scope, as they do; the event is the
 * plan: steps one after another, the requests of a step at once (`bench/cold-start.ts` writes
 * each function's).
 */
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  type DeleteItemCommandInput,
  type GetItemCommandInput,
  type PutItemCommandInput,
  type QueryCommandInput,
  type TransactWriteItemsCommandInput,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';

/** One request; `conditionFails`: its condition is meant to fail, as the function's does (the answer is an error it expects). */
export type FloorRequest = (
  | { GetItem: GetItemCommandInput }
  | { Query: QueryCommandInput }
  | { PutItem: PutItemCommandInput }
  | { DeleteItem: DeleteItemCommandInput }
  | { UpdateItem: UpdateItemCommandInput }
  | { TransactWriteItems: TransactWriteItemsCommandInput }
) & { conditionFails?: true };

const client = new DynamoDBClient({});

function sendRequest(request: FloorRequest): Promise<unknown> {
  if ('GetItem' in request) return client.send(new GetItemCommand(request.GetItem));
  if ('Query' in request) return client.send(new QueryCommand(request.Query));
  if ('PutItem' in request) return client.send(new PutItemCommand(request.PutItem));
  if ('DeleteItem' in request) return client.send(new DeleteItemCommand(request.DeleteItem));
  if ('UpdateItem' in request) return client.send(new UpdateItemCommand(request.UpdateItem));
  return client.send(new TransactWriteItemsCommand(request.TransactWriteItems));
}

async function send(request: FloorRequest): Promise<unknown> {
  try {
    return await sendRequest(request);
  } catch (error) {
    if (request.conditionFails && error instanceof ConditionalCheckFailedException) return undefined;
    throw error;
  }
}

export const handler = async (event: { plan: FloorRequest[][] }): Promise<{ statusCode: number }> => {
  for (const step of event.plan) await Promise.all(step.map(send));
  return { statusCode: 200 };
};
