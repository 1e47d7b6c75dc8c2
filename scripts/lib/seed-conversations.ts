/**
 * Seed conversations. The lines alternate speakers, starting with the first handle.
 * Written for this project (the original's seed quoted a TV show).
 */
export interface SeedConversation {
  handles: [string, string];
  /** Hours between two consecutive messages, so the conversation spreads over days. */
  spacingHours: number;
  lines: string[];
}

export const SEED_CONVERSATIONS: readonly SeedConversation[] = [
  {
    handles: ['andrewbrown', 'bayko'],
    spacingHours: 9,
    lines: [
      'Hey Bayko, got a minute to talk about the messaging backend for Cruddur?',
      'Sure. Is this the DynamoDB week already?',
      'It is. One table for message groups and messages, the way the bootcamp does it.',
      'One table for everything? How do we tell a group from a message?',
      'By the key. Messages live under MSG# and the group id, groups under GRP# and the owner.',
      'So listing my conversations is a single query on my own partition.',
      'Exactly, newest first, and the sort key starts with the timestamp.',
      'What happens when two messages land in the same millisecond?',
      'The sort key ends with the message uuid, so they cannot collide.',
      'Nice. The old code would have overwritten one of them.',
      'It did, quietly. That one is on the list of defects we fix.',
      'And the group list shows the last message. Who keeps that current?',
      'A Lambda on the table stream. Every new message moves both summaries.',
      'Both? So each person has their own copy of the group?',
      'Yes, one per participant, each showing the other person.',
      'What if the stream hands the Lambda ten records at once?',
      'It handles all of them. The original only looked at the first record.',
      'Ouch. A new conversation writes several items in one go, right?',
      'Right, and only the message record matters to the summaries.',
      'Does the move happen in one step, or delete then put?',
      'One transaction, conditioned on the last message key. Never half done.',
      'So replaying a batch changes nothing.',
      'Nothing at all. And an older message can never replace a newer one.',
      'How do we stop two people creating two groups for the same pair?',
      'A pair item written with attribute_not_exists in the same transaction.',
      "Then whoever loses the race just appends to the winner's group?",
      'That is the idea. One group per pair, every message kept.',
      'And strangers reading a conversation by guessing its uuid?',
      'Membership is checked with a consistent read. Non-members get a 404.',
      'Why a 404 and not a 403?',
      'So nobody learns that the group exists at all.',
      'Makes sense. Where do the users come from?',
      'PostgreSQL, same as the rest of Cruddur. We look them up by Cognito sub.',
      'Can I run all of this without an AWS account?',
      'Yes: DynamoDB Local, an embedded Postgres and cognito-local. One command.',
      'npm start, I assume?',
      'npm start. It loads the schemas and seeds this very conversation.',
      'Very meta. What about deploying it?',
      'CDKTF stacks: network, app and lambdas. cdktf deploy does the rest.',
      'Is the VPC endpoint attached to the route tables this time?',
      'It is. The Terraform in the journal forgot that part.',
      'And the Lambdas actually run inside the VPC now?',
      'In private subnets, no NAT, with the DynamoDB gateway endpoint.',
      'How many messages does a page return?',
      'Twenty by default, and a cursor header for the next page.',
      'Older pages first or newer?',
      'You page back in time, but each page reads oldest to newest.',
      'Like scrolling up in a chat. I like it.',
      'That was the goal. Want to try sending a message through the API?',
      'Already did. It showed up in my list within a second.',
      'Then the stream consumer works. Let us ship it.',
      'Shipping it. Talk tomorrow!',
    ],
  },
  {
    handles: ['andrewbrown', 'londo'],
    spacingHours: 20,
    lines: [
      'Londo, the new messaging service is up. Care to test it?',
      'Test it? I shall use it to send my finest proclamations.',
      'Keep them under 1024 characters, please.',
      'Only 1024? My titles alone take half of that.',
      'Then choose your words like an ambassador.',
      'Very well. Consider this message a diplomatic triumph.',
    ],
  },
];
