/**
 * Per-user rate limits in the messages table (`data/model/rate-limit.ts`): a fixed window per
 * user and action, counted by one conditional UpdateItem. A refused request is not counted,
 * so a user who waits out the window gets the full limit again. (A fixed window lets a user
 * send up to twice the limit across a window's edge; a sliding one would cost a read per
 * request.)
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { PostRateLimit } from '../config/limits';
import { keys, RATE_WINDOW_GRACE_SECONDS, rateWindowOf } from './model';

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export function createRateLimitRepository(client: DynamoDBDocumentClient, options: { tableName: string; clock?: () => number }) {
  const clock = options.clock ?? Date.now;
  return {
    /** Counts one `action` of `sub` in the current window, unless the window is full: then says when it ends. */
    async take(sub: string, action: string, rate: PostRateLimit): Promise<RateDecision> {
      const now = clock();
      const window = rateWindowOf(now, rate.windowSeconds);
      try {
        await client.send(
          new UpdateCommand({
            TableName: options.tableName,
            Key: keys.rateWindow(sub, action, window.startSeconds),
            UpdateExpression: 'ADD request_count :one SET expires_at = :expires',
            ConditionExpression: 'attribute_not_exists(request_count) OR request_count < :limit',
            ExpressionAttributeValues: { ':one': 1, ':limit': rate.limit, ':expires': window.endSeconds + RATE_WINDOW_GRACE_SECONDS },
          }),
        );
        return { allowed: true };
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException) && (error as Error).name !== 'ConditionalCheckFailedException') throw error;
        return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(window.endSeconds - now / 1000)) };
      }
    },
  };
}
