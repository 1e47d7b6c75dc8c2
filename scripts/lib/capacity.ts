/**
 * Consumed capacity, reported per request by a client middleware, so scripts and
 * benchmarks see what each access pattern costs without the repository knowing.
 */
import type { ConsumedCapacity, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface CapacityReport {
  command: string;
  consumed: ConsumedCapacity[];
}

/** Adds `ReturnConsumedCapacity: TOTAL` to every request of `client` and passes each result to `report`. */
export function reportConsumedCapacity(client: DynamoDBClient | DynamoDBDocumentClient, report: (entry: CapacityReport) => void): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { ReturnConsumedCapacity?: string };
      input.ReturnConsumedCapacity ??= 'TOTAL';
      const result = await next(args);
      const output = result.output as { ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[] };
      const consumed = output.ConsumedCapacity === undefined ? [] : ([] as ConsumedCapacity[]).concat(output.ConsumedCapacity);
      report({ command: context.commandName ?? 'unknown', consumed });
      return result;
    },
    { step: 'initialize', name: 'reportConsumedCapacity' },
  );
}

/** Total capacity units of a report (read and write together, as DynamoDB reports them). */
export function totalUnits(entry: CapacityReport): number {
  return entry.consumed.reduce((sum, item) => sum + (item.CapacityUnits ?? 0), 0);
}
