/**
 * The per-user limits' settings, the token rule's settings, and the push's fairness: which
 * connection is served when, with one person holding many (fakes of the table and of
 * @connections: no network).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBRecord } from 'aws-lambda';
import { marshall } from '@aws-sdk/util-dynamodb';
import { accessTokenSettingsFromEnv } from '../../functions/auth/access-token';
import { DEFAULT_USER_LIMITS, parsePostRateLimit, userLimitsFromFunctionEnv, userLimitsFromSettings } from '../../functions/config/limits';
import type { ConnectionsRepository } from '../../functions/data/connections-repository';
import { buildConnectionItem, buildMessageItem, type ConnectionItem } from '../../functions/data/model';
import { ConfigurationError } from '../../functions/errors';
import { createMessagePushHandler } from '../../functions/message-push/index';
import { connectionOf, type WebSocketRouteEvent } from '../../functions/websocket/route-event';

describe('per-user limit settings', () => {
  it('defaults to 20 messages in 10 s and 10 WebSockets, deployed and local alike', () => {
    expect(userLimitsFromSettings({})).toEqual({ posts: { limit: 20, windowSeconds: 10 }, connectionsPerUser: 10 });
    expect(userLimitsFromFunctionEnv({})).toEqual(DEFAULT_USER_LIMITS);
  });

  it('reads CRUDDUR_POST_RATE_LIMIT as <messages>/<seconds>s and CRUDDUR_WEBSOCKET_CONNECTIONS_PER_USER as a count', () => {
    expect(userLimitsFromSettings({ CRUDDUR_POST_RATE_LIMIT: '60/60s', CRUDDUR_WEBSOCKET_CONNECTIONS_PER_USER: '3' })).toEqual({
      posts: { limit: 60, windowSeconds: 60 },
      connectionsPerUser: 3,
    });
    expect(parsePostRateLimit(' 5 / 30 ', 'X')).toEqual({ limit: 5, windowSeconds: 30 });
  });

  it.each(['20', '0/10s', '20/0s', '20/10m', 'many/10s', '20/7200s'])('refuses CRUDDUR_POST_RATE_LIMIT=%s with a message naming it', (value) => {
    const read = () => userLimitsFromSettings({ CRUDDUR_POST_RATE_LIMIT: value });
    expect(read).toThrow(ConfigurationError);
    expect(read).toThrow(/^CRUDDUR_POST_RATE_LIMIT must be <messages>\/<seconds>s/);
  });

  it.each(['0', '-1', '2.5', 'ten', '5000'])('refuses CRUDDUR_WEBSOCKET_CONNECTIONS_PER_USER=%s', (value) => {
    expect(() => userLimitsFromSettings({ CRUDDUR_WEBSOCKET_CONNECTIONS_PER_USER: value })).toThrow(ConfigurationError);
  });
});

describe('COGNITO_ISSUER_URL', () => {
  const env = { COGNITO_USER_POOL_ID: 'local_pool', COGNITO_CLIENT_ID: 'client' };

  it.each(['http://127.0.0.1:9229/local_pool', 'http://localhost:9229/local_pool', 'http://[::1]:9229/local_pool', 'https://issuer.example.org/pool'])(
    'accepts %s (https, or http on this machine)',
    (issuer) => {
      expect(accessTokenSettingsFromEnv({ ...env, COGNITO_ISSUER_URL: issuer }).issuerUrl).toBe(issuer);
    },
  );

  it.each(['http://cognito.example.org/pool', 'http://10.0.0.5:9229/pool', 'http://127.0.0.1.example.org/pool', 'ftp://127.0.0.1/pool', 'not a url'])(
    'refuses %s: the signing keys would travel where anyone could swap them',
    (issuer) => {
      const read = () => accessTokenSettingsFromEnv({ ...env, COGNITO_ISSUER_URL: issuer });
      expect(read).toThrow(ConfigurationError);
      expect(read).toThrow(/^COGNITO_ISSUER_URL must be https/);
    },
  );
});

describe("the connection's token expiry", () => {
  const event = (authorizer: Record<string, unknown>) => ({ requestContext: { connectionId: 'C0nnection0Id=', authorizer } }) as unknown as WebSocketRouteEvent;

  it('reads exp as API Gateway may pass it, a number or a string, and leaves it out when absent or malformed', () => {
    expect(connectionOf(event({ sub: 's', exp: 1800000000 })).tokenExpiresAt).toBe(1800000000);
    expect(connectionOf(event({ sub: 's', exp: '1800000000' })).tokenExpiresAt).toBe(1800000000);
    expect(connectionOf(event({ sub: 's' })).tokenExpiresAt).toBeUndefined();
    expect(connectionOf(event({ sub: 's', exp: 'soon' })).tokenExpiresAt).toBeUndefined();
  });

  it("expires the item with the token, or at API Gateway's two-hour limit (and a margin) when that comes first", () => {
    const connectedAt = '2026-12-04T12:00:00.000Z';
    const at = Date.parse(connectedAt) / 1000;
    expect(buildConnectionItem({ userUuid: 'u', connectionId: 'c', connectedAt, tokenExpiresAt: at + 600 }).expires_at).toBe(at + 600);
    expect(buildConnectionItem({ userUuid: 'u', connectionId: 'c', connectedAt, tokenExpiresAt: at + 86_400 }).expires_at).toBe(at + 7800);
    expect(buildConnectionItem({ userUuid: 'u', connectionId: 'c', connectedAt }).expires_at).toBe(at + 7800);
  });
});

describe('message-push fairness', () => {
  const GROUP_A = '11111111-1111-4111-8111-111111111111';
  const GROUP_B = '22222222-2222-4222-8222-222222222222';
  const members: Record<string, string[]> = { [GROUP_A]: ['many', 'friend'], [GROUP_B]: ['other', 'friend2'] };

  function record(groupUuid: string, text: string, sequence: number): DynamoDBRecord {
    const item = buildMessageItem({
      groupUuid,
      sender: { user_uuid: members[groupUuid]![0]!, display_name: 'Sender', handle: 'sender' },
      text,
      createdAt: new Date(Date.UTC(2026, 11, 4, 12, 0, sequence)).toISOString() as never,
      messageUuid: `00000000-0000-4000-8000-${String(sequence).padStart(12, '0')}`,
    });
    const image = marshall(item);
    return { eventName: 'INSERT', dynamodb: { Keys: { pk: image.pk!, sk: image.sk! }, NewImage: image, SequenceNumber: String(sequence) } } as DynamoDBRecord;
  }

  it("serves another person's only connection in the first round of posts, however many one person holds, and keeps each connection's frames in order", async () => {
    // Prepare: "many" holds 40 connections; "other" one. Two messages to many's group, then one to other's.
    const connections: Record<string, ConnectionItem[]> = {
      many: Array.from({ length: 40 }, (_, index) =>
        buildConnectionItem({ userUuid: 'many', connectionId: `many-${index}`, connectedAt: new Date().toISOString() }),
      ),
      friend: [],
      other: [buildConnectionItem({ userUuid: 'other', connectionId: 'other-0', connectedAt: new Date().toISOString() })],
      friend2: [],
    };
    const repository = {
      membersOf: async (group: string) => members[group],
      connectionsOf: async (user: string) => connections[user] ?? [],
      removeConnection: async () => undefined,
    } as unknown as ConnectionsRepository;
    const posts: { connectionId: string; message: string }[] = [];
    const handler = createMessagePushHandler({
      connections: () => repository,
      post: () => async (connectionId, data) => {
        posts.push({ connectionId, message: (JSON.parse(data) as { message: string }).message });
        await new Promise((resolve) => setTimeout(resolve, 1));
        return 'sent';
      },
      logger: new Logger({ logLevel: 'SILENT' }),
    });

    // Act
    const result = await handler({ Records: [record(GROUP_A, 'first', 1), record(GROUP_A, 'second', 2), record(GROUP_B, 'to other', 3)] }, {} as never);

    // Assess: 81 posts; other's is among the first two (connections take turns by person); many's each get first then second.
    expect(result).toEqual({ batchItemFailures: [] });
    expect(posts).toHaveLength(81);
    expect(posts.findIndex((post) => post.connectionId === 'other-0')).toBeLessThan(2);
    for (let index = 0; index < 40; index += 1) {
      expect(posts.filter((post) => post.connectionId === `many-${index}`).map((post) => post.message)).toEqual(['first', 'second']);
    }
  });
});

describe('business metrics', () => {
  it('writes one embedded-metric-format line per push invocation with the pushes sent, gone and failed', async () => {
    // Prepare: metrics on (the suite turns them off), a fresh module instance reading that setting.
    const written: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    const saved = { disabled: process.env.POWERTOOLS_METRICS_DISABLED, namespace: process.env.POWERTOOLS_METRICS_NAMESPACE };
    process.env.POWERTOOLS_METRICS_DISABLED = 'false';
    process.env.POWERTOOLS_METRICS_NAMESPACE = 'Cruddur/test';
    try {
      let push: typeof createMessagePushHandler = createMessagePushHandler;
      jest.isolateModules(() => {
        push = (require('../../functions/message-push/index') as { createMessagePushHandler: typeof createMessagePushHandler }).createMessagePushHandler;
      });
      const outcomes = ['sent', 'sent', 'gone', 'failed'] as const;
      const handler = push({
        connections: () =>
          ({
            membersOf: async () => ['u1', 'u2'],
            connectionsOf: async (user: string) =>
              [0, 1].map((index) => buildConnectionItem({ userUuid: user, connectionId: `${user}-${index}`, connectedAt: new Date().toISOString() })),
            removeConnection: async () => undefined,
          }) as unknown as ConnectionsRepository,
        post: () => {
          let call = 0;
          return async () => outcomes[call++ % outcomes.length]!;
        },
        logger: new Logger({ logLevel: 'SILENT' }),
      });
      const item = buildMessageItem({
        groupUuid: '11111111-1111-4111-8111-111111111111',
        messageUuid: '00000000-0000-4000-8000-000000000001',
        sender: { user_uuid: 'u1', display_name: 'U', handle: 'u' },
        text: 'hi',
        createdAt: '2026-12-04T12:00:00.000Z' as never,
      });
      const image = marshall(item);

      // Act
      await handler(
        { Records: [{ eventName: 'INSERT', dynamodb: { Keys: { pk: image.pk!, sk: image.sk! }, NewImage: image, SequenceNumber: '1' } } as DynamoDBRecord] },
        {} as never,
      );
    } finally {
      spy.mockRestore();
      process.env.POWERTOOLS_METRICS_DISABLED = saved.disabled;
      if (saved.namespace === undefined) delete process.env.POWERTOOLS_METRICS_NAMESPACE;
      else process.env.POWERTOOLS_METRICS_NAMESPACE = saved.namespace;
    }

    // Assess
    const lines = written
      .join('')
      .split('\n')
      .filter((line) => line.includes('"_aws"'));
    expect(lines).toHaveLength(1);
    const emf = JSON.parse(lines[0]!) as Record<string, unknown> & { _aws: { CloudWatchMetrics: { Namespace: string; Metrics: { Name: string }[] }[] } };
    expect(emf._aws.CloudWatchMetrics[0]!.Namespace).toBe('Cruddur/test');
    expect({ sent: emf.PushesSent, gone: emf.PushesGone, failed: emf.PushesFailed, service: emf.service }).toEqual({
      sent: 2,
      gone: 1,
      failed: 1,
      service: 'cruddur-messaging',
    });
  });
});
