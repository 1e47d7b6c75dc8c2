/**
 * `npm run bench -- push`: real-time delivery latency, from the moment `POST /api/messages`
 * answers to the moment the recipient's WebSocket receives the push, through the local
 * runtime (gateway, create-message, DynamoDB Local's stream, the local event source mapping,
 * message-push, the management endpoint, the WebSocket API), with 1 and then 50 people
 * connected. The baseline, measured in the same run: the same write's record seen by a
 * plain reader of the table's stream polling as often as the consumer does (the stream's own
 * floor, before any function runs).
 *
 * Then typing: a typing frame from one person's WebSocket to the other member's, through the
 * typing route (ws-typing: two conditional writes, a Query and a post), against the same
 * socket's round trip for a frame no route takes (API Gateway's "Forbidden" answer: the
 * WebSocket transport alone), interleaved.
 *
 * Then fairness: one person's push alone, against the same push right after a message to
 * someone holding {@link CROWD} connections (the per-user cap raised for it), interleaved: the
 * push function serves connections taking turns by person, so the crowd must not delay the
 * other person by more than {@link TARGET_FAIRNESS}x.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import WebSocket from 'ws';
import { TYPING_INTERVAL_MS, streamFunctionNamed } from '../functions/catalog';
import { buildMessageItem, nowIso } from '../functions/data/model';
import { createPgPool } from '../functions/clients/postgres-pool';
import { localDocumentClient } from '../local/aws';
import { startLocalRuntime } from '../local/runtime';
import { openStreamTail } from '../local/streams/shard-reader';
import { createCognitoClient, ensureLocalPool } from '../scripts/lib/cognito';
import { ensureTable } from '../scripts/lib/table';
import { applyUsersSchema } from '../scripts/lib/users-schema';
import { createSoakUsers, type SoakUser } from './soak/users';
import type { Benchmark, Target } from './lib/harness';
import { seededRandom } from './lib/random';
import { percentile, round } from './lib/stats';

const CONNECTED = [1, 50] as const;
const MESSAGES = 60;
/** Between two messages: a steady trickle, so each latency is the path's, not a queue's. */
const GAP_MS = 60;
/** The consumer's pause between polls of the stream (local/streams/consumer.ts default). */
const POLL_MS = 250;
/** The target: delivered "within a second", at the 99th percentile. */
const TARGET_P99_MS = 1000;
/** The connections one person holds in the fairness case (the issue's 300-tab flood). */
const CROWD = 300;
const FAIRNESS_ROUNDS = 15;
const TARGET_FAIRNESS = 2;
const FAIRNESS_SEED = 20261204;
/** Typing frames measured, each more than the route's one-per-second apart (TYPING_INTERVAL_MS). */
const TYPING_FRAMES = 15;
const TYPING_GAP_MS = TYPING_INTERVAL_MS + 50;
/** The target: a typing frame reaches the other person within this, at the 99th percentile. */
const TARGET_TYPING_P99_MS = 250;

/** The next text frame on `socket` that `accept` takes, and when it came; undefined after `timeoutMs`. */
function nextFrame(socket: WebSocket, accept: (frame: Record<string, unknown>) => boolean, timeoutMs = 5000): Promise<number | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      socket.off('message', onMessage);
      resolve(undefined);
    }, timeoutMs);
    const onMessage = (data: WebSocket.RawData) => {
      if (!accept(JSON.parse(data.toString()) as Record<string, unknown>)) return;
      clearTimeout(timer);
      socket.off('message', onMessage);
      resolve(performance.now());
    };
    socket.on('message', onMessage);
  });
}

interface Listener {
  user: SoakUser;
  socket: WebSocket;
  /** When each pushed message uuid arrived. */
  arrivals: Map<string, number>;
}

async function listen(wsUrl: string, user: SoakUser): Promise<Listener> {
  const socket = new WebSocket(`${wsUrl}?token=${encodeURIComponent(user.accessToken)}`);
  const arrivals = new Map<string, number>();
  socket.on('message', (data) => arrivals.set((JSON.parse(data.toString()) as { uuid: string }).uuid, performance.now()));
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  return { user, socket, arrivals };
}

export const benchmark: Benchmark = {
  name: 'push',
  summary:
    "delivery latency of a new message to the recipient's WebSocket (write accepted -> frame received) with 1 and 50 people connected, vs a plain stream reader",
  async run(context) {
    const services = await context.services();
    const tableName = `cruddur-messages-push-${randomUUID().slice(0, 8)}`;
    const db = localDocumentClient(services.dynamodb.url);
    await ensureTable(db as unknown as DynamoDBClient, tableName);
    const pg = createPgPool(services.postgres.url, 2);
    await applyUsersSchema(pg);
    const cognito = createCognitoClient(services.cognito.url);
    const pool = await ensureLocalPool(cognito, `push-bench-${randomUUID().slice(0, 8)}`);
    context.progress('push: creating 51 people and signing them in...');
    const users = await createSoakUsers({ count: Math.max(...CONNECTED) + 1, pool: pg, cognito, localPool: pool, progress: () => undefined });
    const runtime = await startLocalRuntime({
      port: 0,
      targets: {
        dynamodbUrl: services.dynamodb.url,
        databaseUrl: services.postgres.url,
        tableName,
        cognitoUrl: services.cognito.url,
        // This measures delivery, not the limits: one sender writes faster than a person may, and the crowd holds more than ten tabs.
        limits: { posts: { limit: 100_000, windowSeconds: 60 }, connectionsPerUser: CROWD + 10 },
      },
      pool,
      dataDir: path.join(context.scratchDir, 'push'),
      logLevel: 'CRITICAL',
      streamFunctions: [streamFunctionNamed('message-push')],
      log: () => undefined,
    });
    const wsUrl = `${runtime.gateway.url.replace(/^http/, 'ws')}/ws`;
    const tail = await openStreamTail(db, tableName);
    const figures: Record<string, { p50: number; p99: number; max: number; delivered: number; sent: number }> = {};
    /** A POST of `from`'s, and when it was answered. */
    const send = async (from: SoakUser, body: Record<string, unknown>) => {
      const response = await fetch(`${runtime.gateway.url}/api/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${from.accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const accepted = performance.now();
      if (response.status !== 200) throw new Error(`POST answered ${response.status}: ${await response.text()}`);
      return { accepted, ...((await response.json()) as { uuid: string; message_group_uuid: string }) };
    };
    const stats = (values: number[], sent: number) => ({
      p50: percentile(values, 50),
      p99: percentile(values, 99),
      max: Math.max(...values),
      delivered: values.length,
      sent,
    });
    try {
      // The stream's floor: a message item written straight to the table, seen by a reader polling every POLL_MS.
      const floor: number[] = [];
      await tail.readNew();
      for (let n = 0; n < 20; n += 1) {
        const item = buildMessageItem({
          groupUuid: randomUUID(),
          messageUuid: randomUUID(),
          sender: { user_uuid: randomUUID(), display_name: 'Floor', handle: 'floor' },
          text: 'floor',
          createdAt: nowIso(),
        });
        await db.send(new PutCommand({ TableName: tableName, Item: item }));
        const written = performance.now();
        for (;;) {
          if ((await tail.readNew()).some((record) => record.dynamodb?.NewImage?.message_uuid?.S === item.message_uuid)) break;
          await sleep(POLL_MS);
        }
        floor.push(performance.now() - written);
      }
      figures.floor = stats(floor, floor.length);
      context.progress(`push: stream floor p50 ${round(figures.floor.p50)} ms`);

      for (const connected of CONNECTED) {
        // Everyone connected; the last person (never connected) writes to each connected one in turn.
        const sender = users[users.length - 1]!;
        const listeners = await Promise.all(users.slice(0, connected).map((user) => listen(wsUrl, user)));
        const groups = new Map<string, string>();
        const latencies: number[] = [];
        const pending: { listener: Listener; uuid: string; accepted: number }[] = [];
        for (let n = 0; n < MESSAGES; n += 1) {
          const listener = listeners[n % listeners.length]!;
          const group = groups.get(listener.user.handle);
          const body = group ? { message: `push ${n}`, message_group_uuid: group } : { message: `push ${n}`, handle: listener.user.handle };
          const created = await send(sender, body);
          groups.set(listener.user.handle, created.message_group_uuid);
          pending.push({ listener, uuid: created.uuid, accepted: created.accepted });
          await sleep(GAP_MS);
        }
        const deadline = Date.now() + 10_000;
        while (pending.some(({ listener, uuid }) => !listener.arrivals.has(uuid)) && Date.now() < deadline) await sleep(20);
        for (const { listener, uuid, accepted } of pending) {
          const arrived = listener.arrivals.get(uuid);
          if (arrived !== undefined) latencies.push(arrived - accepted);
        }
        for (const listener of listeners) listener.socket.terminate();
        figures[`connected${connected}`] = stats(latencies, MESSAGES);
        context.progress(
          `push: ${connected} connected: p50 ${round(figures[`connected${connected}`]!.p50)} ms, p99 ${round(figures[`connected${connected}`]!.p99)} ms, ${latencies.length}/${MESSAGES} delivered`,
        );
        await sleep(500);
      }

      // Typing: one person types to another (a conversation of theirs), against the socket's own round trip.
      context.progress(`push: typing: ${TYPING_FRAMES} frames, ${TYPING_GAP_MS} ms apart, against the WebSocket round trip`);
      {
        const [typist, reader] = [users[users.length - 2]!, users[2]!];
        const group = (await send(typist, { message: 'typing bench', handle: reader.handle })).message_group_uuid;
        const [from, to] = await Promise.all([listen(wsUrl, typist), listen(wsUrl, reader)]);
        const typing: number[] = [];
        const roundTrip: number[] = [];
        for (let n = 0; n < TYPING_FRAMES; n += 1) {
          const refused = nextFrame(from.socket, (frame) => frame.message === 'Forbidden');
          const sentRefused = performance.now();
          from.socket.send(JSON.stringify({ action: 'nothing-routes-this' }));
          const refusedAt = await refused;
          if (refusedAt !== undefined) roundTrip.push(refusedAt - sentRefused);
          const arrived = nextFrame(to.socket, (frame) => frame.type === 'typing' && frame.message_group_uuid === group);
          const sent = performance.now();
          from.socket.send(JSON.stringify({ action: 'typing', message_group_uuid: group }));
          const arrivedAt = await arrived;
          if (arrivedAt !== undefined) typing.push(arrivedAt - sent);
          await sleep(Math.max(0, TYPING_GAP_MS - (performance.now() - sent)));
        }
        for (const listener of [from, to]) listener.socket.terminate();
        figures.typing = stats(typing, TYPING_FRAMES);
        figures.typingFloor = stats(roundTrip, TYPING_FRAMES);
        context.progress(
          `push: typing p50 ${round(figures.typing.p50)} ms, p99 ${round(figures.typing.p99)} ms; round trip p50 ${round(figures.typingFloor.p50)} ms`,
        );
      }

      // Fairness: the lone person's push alone, and right after a message to the crowd's owner.
      context.progress(`push: fairness: opening ${CROWD} connections of one person...`);
      const [crowdOwner, lone, crowdSender, loneSender] = [users[0]!, users[1]!, users[users.length - 1]!, users[users.length - 2]!];
      // Opened 25 at a time: 300 handshakes at once are a load test of $connect, which this is not.
      const crowd: Listener[] = [];
      while (crowd.length < CROWD)
        crowd.push(...(await Promise.all(Array.from({ length: Math.min(25, CROWD - crowd.length) }, () => listen(wsUrl, crowdOwner)))));
      const loneListener = await listen(wsUrl, lone);
      const arrival = async (listener: Listener, uuid: string) => {
        const deadline = Date.now() + 10_000;
        while (!listener.arrivals.has(uuid) && Date.now() < deadline) await sleep(5);
        return listener.arrivals.get(uuid);
      };
      // The conversations exist before anything is timed.
      const crowdGroup = (await send(crowdSender, { message: 'fairness: hello crowd', handle: crowdOwner.handle })).message_group_uuid;
      const first = await send(loneSender, { message: 'fairness: hello', handle: lone.handle });
      await arrival(loneListener, first.uuid);
      const fairness = { alone: [] as number[], crowd: [] as number[], crowdDelivered: 0, crowdSent: 0 };
      const jitter = seededRandom(FAIRNESS_SEED);
      for (let round = 0; round < 2 * FAIRNESS_ROUNDS; round += 1) {
        const beside = round % 2 === 1;
        const toCrowd = beside ? await send(crowdSender, { message: `fairness ${round}`, message_group_uuid: crowdGroup }) : undefined;
        const toLone = await send(loneSender, { message: `fairness ${round}`, message_group_uuid: first.message_group_uuid });
        const arrived = await arrival(loneListener, toLone.uuid);
        if (arrived !== undefined) (beside ? fairness.crowd : fairness.alone).push(arrived - toLone.accepted);
        if (toCrowd) {
          fairness.crowdSent += CROWD;
          await Promise.all(crowd.map((listener) => arrival(listener, toCrowd.uuid)));
          fairness.crowdDelivered += crowd.filter((listener) => listener.arrivals.has(toCrowd.uuid)).length;
        }
        // A pause longer than the consumer's poll, so each round is a batch of its own, and of a
        // random length, so the writes do not fall into step with the polls (seeded: the same each run).
        await sleep(POLL_MS + jitter() * POLL_MS);
      }
      for (const listener of [...crowd, loneListener]) listener.socket.terminate();
      figures.fairAlone = stats(fairness.alone, FAIRNESS_ROUNDS);
      figures.fairCrowd = stats(fairness.crowd, FAIRNESS_ROUNDS);
      figures.crowdFrames = { p50: 0, p99: 0, max: 0, delivered: fairness.crowdDelivered, sent: fairness.crowdSent };
      context.progress(`push: fairness: alone p50 ${round(figures.fairAlone.p50)} ms, beside the crowd p50 ${round(figures.fairCrowd.p50)} ms`);
    } finally {
      tail.close();
      await runtime.stop();
      cognito.destroy();
      await pg.end();
      db.destroy();
    }

    const floor = figures.floor!;
    const rows = [
      [
        'stream floor (a plain reader: right after the write, then every 250 ms)',
        floor.sent,
        floor.delivered,
        round(floor.p50),
        round(floor.p99),
        round(floor.max),
        '1x',
      ],
      ...CONNECTED.map((connected) => {
        const figure = figures[`connected${connected}`]!;
        return [
          `${connected} connected, one message every ${GAP_MS} ms`,
          figure.sent,
          figure.delivered,
          round(figure.p50),
          round(figure.p99),
          round(figure.max),
          `${round(figure.p50 / floor.p50, 2)}x`,
        ];
      }),
    ];
    const fairRow = (name: string, figure: (typeof figures)[string]) => [
      name,
      figure.sent,
      figure.delivered,
      round(figure.p50),
      round(figure.p99),
      round(figure.max),
      `${round(figure.p50 / floor.p50, 2)}x`,
    ];
    rows.push(
      fairRow("fairness: one person's push alone", figures.fairAlone!),
      fairRow(`fairness: the same, right after a message to someone with ${CROWD} connections`, figures.fairCrowd!),
    );
    const typingFloor = figures.typingFloor!;
    const typing = figures.typing!;
    const typingTable = {
      title: "Typing: a typing frame sent -> the other person's WebSocket frame (ms)",
      columns: ['case', 'sent', 'delivered', 'p50', 'p99', 'max', 'p50 / round trip'],
      rows: [
        [
          'round trip of a frame no route takes (the gateway answers Forbidden)',
          typingFloor.sent,
          typingFloor.delivered,
          round(typingFloor.p50),
          round(typingFloor.p99),
          round(typingFloor.max),
          '1x',
        ],
        [
          'typing, through ws-typing to the other member',
          typing.sent,
          typing.delivered,
          round(typing.p50),
          round(typing.p99),
          round(typing.max),
          `${round(typing.p50 / typingFloor.p50, 2)}x`,
        ],
      ],
      note: `local runtime; frames ${TYPING_GAP_MS} ms apart (the route forwards one per connection per ${TYPING_INTERVAL_MS} ms), each after the round trip it is compared with`,
    };
    const fairnessRatio = figures.fairCrowd!.p50 / figures.fairAlone!.p50;
    const targets: Target[] = CONNECTED.flatMap((connected) => {
      const figure = figures[`connected${connected}`]!;
      return [
        {
          name: `${connected} connected: delivered`,
          target: `${figure.sent} of ${figure.sent}`,
          actual: `${figure.delivered}`,
          met: figure.delivered === figure.sent,
        },
        {
          name: `${connected} connected: p99 accepted -> received`,
          target: `< ${TARGET_P99_MS} ms`,
          actual: `${round(figure.p99)} ms`,
          met: figure.p99 < TARGET_P99_MS,
        },
      ];
    });
    targets.push(
      {
        name: `fairness: push p50 beside ${CROWD} connections of another person / alone`,
        target: `<= ${TARGET_FAIRNESS}x`,
        actual: `${round(fairnessRatio, 2)}x (${round(figures.fairCrowd!.p50)} vs ${round(figures.fairAlone!.p50)} ms)`,
        met: fairnessRatio <= TARGET_FAIRNESS,
      },
      {
        name: 'typing: delivered',
        target: `${typing.sent} of ${typing.sent}`,
        actual: `${typing.delivered}`,
        met: typing.delivered === typing.sent,
      },
      {
        name: 'typing: p99 sent -> received',
        target: `< ${TARGET_TYPING_P99_MS} ms`,
        actual: `${round(typing.p99)} ms`,
        met: typing.p99 < TARGET_TYPING_P99_MS,
      },
      {
        name: `fairness: the crowd's frames delivered`,
        target: `${figures.crowdFrames!.sent}`,
        actual: `${figures.crowdFrames!.delivered}`,
        met: figures.crowdFrames!.delivered === figures.crowdFrames!.sent,
      },
    );
    return {
      tables: [
        {
          title: "Push: POST answered -> the recipient's WebSocket frame (ms)",
          columns: ['case', 'sent', 'delivered', 'p50', 'p99', 'max', 'p50 / floor'],
          rows,
          note: `local runtime: the push consumer polls the stream every ${POLL_MS} ms as the floor does, then reads the group and the connections and posts through the gateway's @connections; fairness rounds alternate, ${POLL_MS}-${2 * POLL_MS} ms apart (seed ${FAIRNESS_SEED}); the crowd's ${CROWD} frames are served by the same process`,
        },
        typingTable,
      ],
      targets,
      figures,
    };
  },
};
