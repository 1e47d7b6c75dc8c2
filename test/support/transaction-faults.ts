/** Conflicts on demand for the stream consumer's tests: its transactions on chosen groups fail as DynamoDB's would. */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { keys } from '../../functions/data/model';

/**
 * Makes TransactWriteItems touching a chosen group's item fail as DynamoDB does on a
 * conflict: a TransactionCanceledException, the request never reaching the table.
 */
export function injectTransactionFaults(client: DynamoDBDocumentClient) {
  const faults = new Map<string, number>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'TransactWriteItemsCommand') {
        const input = JSON.stringify(args.input);
        for (const [groupUuid, remaining] of faults) {
          if (remaining > 0 && input.includes(keys.group(groupUuid).pk)) {
            faults.set(groupUuid, remaining - 1);
            throw new TransactionCanceledException({
              message: 'Transaction cancelled (injected by the test)',
              $metadata: { httpStatusCode: 400 },
              CancellationReasons: [{ Code: 'TransactionConflict', Message: 'injected' }],
            });
          }
        }
      }
      return next(args);
    },
    { step: 'build', name: 'testTransactionFaults' },
  );
  return {
    /** The next `times` transactions on this group fail (Infinity: all of them). */
    failGroup(groupUuid: string, times = Infinity) {
      faults.set(groupUuid, times);
    },
    clear: () => faults.clear(),
  };
}
