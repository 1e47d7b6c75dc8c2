/** The names of the functions' business metrics (observability/metrics.ts), apart so the infrastructure reads them without loading Powertools. */
/** The metrics the functions emit, by what they count. */
export const BUSINESS_METRICS = {
  messagesCreated: 'MessagesCreated',
  postsRateLimited: 'PostsRateLimited',
  pushesSent: 'PushesSent',
  pushesGone: 'PushesGone',
  pushesFailed: 'PushesFailed',
  summariesMoved: 'SummariesMoved',
} as const;
