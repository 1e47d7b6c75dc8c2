/**
 * The soak's load: simulated people using the HTTP API at once, as the Cruddur frontend
 * would, for a fixed time. Each one loops: append to one of their conversations (C), write
 * to someone new or by handle to someone they already know (D), race someone to a first
 * message (D from both sides of a new pair at the same moment), or read (A, B).
 *
 * Without retry mode, clients never retry a POST (a retry without an Idempotency-Key whose
 * first attempt was written would be a second message); the checker demands: answered 2xx,
 * stored once; refused with 503/429, stored nowhere; no answer, stored at most once. In retry
 * mode every POST carries a key and is retried, and some answers are lost on purpose.
 *
 * Every choice (actions, partners, pauses) is drawn from the run's seed, one generator per
 * person, so a run is repeated by passing its seed back (as far as the interleaving of people,
 * which the machine decides, allows).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { derivedSeed, pickWith, seededRandom } from '../lib/random';
import { classifyResponse, type SentMessage, type UnexpectedResponse } from './check';
import type { SoakUser } from './users';

export type RequestKind = 'A' | 'B' | 'C' | 'D' | 'read';

interface RequestRecord {
  kind: RequestKind;
  status?: number;
  ms: number;
}

export interface LoadOptions {
  apiUrl: string;
  users: readonly SoakUser[];
  durationMs: number;
  /** Faults are injected: 503 with Retry-After and 429 are then allowed refusals. */
  faultsInjected: boolean;
  progress: (line: string) => void;
  progressEveryMs?: number;
  /**
   * Mean pause between one person's actions (each pause is 0.5-1.5 times it; the first
   * action comes after 0-1 times it, so the people do not all start at once). People, not
   * a benchmark: the point is many concurrent conversations, below the capacity of the
   * local runtime, whose one process, DynamoDB Local and PGlite share the machine.
   */
  thinkMs?: number;
  /** A request without an answer by then counts as "no answer". */
  requestTimeoutMs?: number;
  /**
   * Retry mode: every POST carries an Idempotency-Key and is sent again with it after no
   * answer, a 5xx or a 429 (`attempts` in all). The first attempt of every `loseEvery`-th POST
   * of each person, their first one included, loses its answer on purpose: the request is sent
   * whole and the connection closed once the answer starts, unread, as a phone losing its
   * connection would. So the write (or the refusal) happened and the client cannot know:
   * the retry path runs on every run, at any speed.
   */
  retries?: { attempts: number; loseEvery: number };
  /** The seed every choice is drawn from. */
  seed: number;
  /** Sends a typing frame on the person's open WebSocket (the soak's listener); absent: no one types. */
  typing?: (user: SoakUser, groupUuid: string) => boolean;
}

export interface LoadResult {
  sent: SentMessage[];
  requests: RequestRecord[];
  unexpected: UnexpectedResponse[];
  /** D races started (each is two or three messages at once). */
  races: number;
  /** Retry mode: attempts sent again, first attempts whose answer was lost on purpose, answers that were replays. */
  retried: number;
  lost: number;
  replays: number;
  /** Conversations marked read (answered 200), and typing frames sent. */
  marks: number;
  typingSent: number;
  elapsedMs: number;
}

/** The default mean pause between one person's actions: 50 people make about 5 requests a second. */
export const DEFAULT_THINK_MS = 10_000;

/** Action weights per iteration of one person (percent). */
const MIX: [Action, number][] = [
  ['C', 36],
  ['D', 15],
  ['race', 8],
  ['A', 15],
  ['B', 12],
  ['read', 9],
  ['typing', 5],
];
type Action = 'C' | 'D' | 'race' | 'A' | 'B' | 'read' | 'typing';

function chooseAction(random: () => number): Action {
  let roll = random() * 100;
  for (const [action, weight] of MIX) if ((roll -= weight) < 0) return action;
  return 'B';
}

/**
 * Sends a request whole and closes the connection as soon as the answer starts, without
 * reading it: the server did its work, and the client will never know what it answered.
 */
function sendAndLoseTheAnswer(url: string, method: string, headers: Record<string, string>, body: string | undefined): Promise<void> {
  const client = url.startsWith('https:') ? https : http;
  return new Promise((resolve) => {
    const request = client.request(
      url,
      { method, headers: { ...headers, ...(body === undefined ? {} : { 'Content-Length': String(Buffer.byteLength(body)) }) } },
      (response) => {
        response.destroy();
        request.destroy();
        resolve();
      },
    );
    // Closing in the middle of the answer is the point; any error after it changes nothing.
    request.on('error', () => resolve());
    request.end(body);
  });
}

interface Answer {
  status?: number;
  retryAfter: boolean;
  /** The answer was given again for a retried Idempotency-Key. */
  replayed?: boolean;
  /** The client lost the answer on purpose (retry mode). */
  lost?: boolean;
  body?: unknown;
  error?: string;
}

/** Runs the load until `durationMs` has passed and every request in flight has been answered. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const thinkMs = options.thinkMs ?? DEFAULT_THINK_MS;
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  const tag = randomBytes(3).toString('hex');
  const result: LoadResult = { sent: [], requests: [], unexpected: [], races: 0, retried: 0, lost: 0, replays: 0, marks: 0, typingSent: 0, elapsedMs: 0 };
  const byHandle = new Map(options.users.map((user) => [user.handle, user]));
  /** Each person's own generator, and how many POSTs they have made. */
  const randomOf = new Map(options.users.map((user, index) => [user.handle, seededRandom(derivedSeed(options.seed, index))]));
  const random = (user: SoakUser) => randomOf.get(user.handle)!;
  const posts = new Map<string, number>();

  // What the people know: each pair's group, learned from answers (D) and lists (B).
  const pairKey = (a: string, b: string) => [a, b].sort().join(' ');
  const groupOfPair = new Map<string, string>();
  /** Pairs someone has written to (or is writing to) by handle: not "new" any more. */
  const contacted = new Set<string>();
  const learn = (a: string, b: string, groupUuid: unknown) => {
    if (typeof groupUuid === 'string') groupOfPair.set(pairKey(a, b), groupUuid);
  };
  const partnersOf = (user: SoakUser) => options.users.filter((other) => other !== user && groupOfPair.has(pairKey(user.handle, other.handle)));

  async function request(
    user: SoakUser,
    kind: RequestKind,
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    extra: { headers?: Record<string, string>; loseAnswer?: boolean } = {},
  ): Promise<Answer> {
    const began = performance.now();
    const headers = { Authorization: `Bearer ${user.accessToken}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...extra.headers };
    if (extra.loseAnswer) {
      await sendAndLoseTheAnswer(`${options.apiUrl}${path}`, method, headers, body === undefined ? undefined : JSON.stringify(body));
      result.lost += 1;
      result.requests.push({ kind, ms: performance.now() - began });
      return { retryAfter: false, lost: true, error: 'answer lost by the client' };
    }
    let answer: Answer;
    try {
      const response = await fetch(`${options.apiUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(requestTimeoutMs),
      });
      const text = await response.text();
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
      answer = {
        status: response.status,
        retryAfter: response.headers.has('retry-after'),
        replayed: response.headers.get('idempotent-replayed') === 'true',
        body: parsed,
      };
    } catch (error) {
      answer = { retryAfter: false, error: (error as Error).name === 'TimeoutError' ? `no answer within ${requestTimeoutMs} ms` : (error as Error).message };
    }
    result.requests.push({ kind, status: answer.status, ms: performance.now() - began });
    const { violation } = classifyResponse(answer.status, answer.retryAfter, options.faultsInjected);
    if (violation) {
      result.unexpected.push({
        request: `${method} ${path.replace(/[0-9a-f-]{36}/, '{group}')} as @${user.handle}`,
        status: answer.status,
        detail: answer.error ?? JSON.stringify(answer.body).slice(0, 200),
      });
    }
    return answer;
  }

  let sequence = 0;
  const newText = (user: SoakUser, pattern: 'C' | 'D') => {
    sequence += 1;
    // Now and then beyond ASCII: the text must come back byte for byte.
    return `soak ${tag} #${sequence} ${pattern} from ${user.handle}${sequence % 7 === 0 ? ' — ✓ 🚀' : ''}`;
  };

  /**
   * A POST as a client with retries sends it: with a key, again after no answer, a 5xx or a
   * 429, with backoff. Its outcome is unknown (stored at most once) when it ends refused after
   * an attempt whose answer never came: that attempt may have stored it.
   */
  async function postWithRetries(
    user: SoakUser,
    pattern: 'C' | 'D',
    body: unknown,
    retries: NonNullable<LoadOptions['retries']>,
  ): Promise<{ answer: Answer; uncertain: boolean }> {
    const headers = { 'Idempotency-Key': randomUUID() };
    const post = posts.get(user.handle) ?? 0;
    posts.set(user.handle, post + 1);
    let uncertain = false;
    for (let attempt = 1; ; attempt += 1) {
      const loseAnswer = attempt === 1 && post % retries.loseEvery === 0;
      const answer = await request(user, pattern, 'POST', '/api/messages', body, { headers, loseAnswer });
      if (answer.status === undefined) uncertain = true;
      if (answer.replayed) result.replays += 1;
      const again = answer.status === undefined || answer.status === 429 || answer.status >= 500;
      if (!again || attempt >= retries.attempts) return { answer, uncertain };
      result.retried += 1;
      await sleep(random(user)() * Math.min(2000, 100 * 2 ** attempt));
    }
  }

  async function send(user: SoakUser, pattern: 'C' | 'D', target: { groupUuid: string } | { handle: string }): Promise<void> {
    const text = newText(user, pattern);
    const body = 'groupUuid' in target ? { message: text, message_group_uuid: target.groupUuid } : { message: text, handle: target.handle };
    const { answer, uncertain } = options.retries
      ? await postWithRetries(user, pattern, body, options.retries)
      : { answer: await request(user, pattern, 'POST', '/api/messages', body), uncertain: false };
    const classified = classifyResponse(answer.status, answer.retryAfter, options.faultsInjected).outcome;
    const outcome = uncertain && classified !== 'accepted' ? 'unknown' : classified;
    const created = (outcome === 'accepted' ? answer.body : undefined) as { uuid?: unknown; message_group_uuid?: unknown; message?: unknown } | undefined;
    result.sent.push({
      text,
      senderHandle: user.handle,
      pattern,
      status: answer.status,
      outcome,
      uuid: typeof created?.uuid === 'string' ? created.uuid : undefined,
      groupUuid: typeof created?.message_group_uuid === 'string' ? created.message_group_uuid : undefined,
    });
    if (created !== undefined && created.message !== text) {
      result.unexpected.push({
        request: `POST /api/messages as @${user.handle}`,
        status: answer.status,
        detail: `answered with text ${JSON.stringify(created.message)} for ${JSON.stringify(text)}`,
      });
    }
    if (created !== undefined) {
      const other = 'handle' in target ? target.handle : undefined;
      if (other !== undefined) learn(user.handle, other, created.message_group_uuid);
    }
  }

  /** D to someone this person has no conversation with; undefined when everyone is taken. */
  function newPartner(user: SoakUser): SoakUser | undefined {
    const candidates = options.users.filter((other) => other !== user && !contacted.has(pairKey(user.handle, other.handle)));
    const other = pickWith(random(user), candidates);
    if (other !== undefined) contacted.add(pairKey(user.handle, other.handle));
    return other;
  }

  /** One action; a person's first one writes to someone (so every person's first POST is made at once). */
  async function act(user: SoakUser, first: boolean): Promise<void> {
    const action = first ? 'D' : chooseAction(random(user));
    const partner = pickWith(random(user), partnersOf(user));
    const groupUuid = partner && groupOfPair.get(pairKey(user.handle, partner.handle));
    if (action === 'C' && groupUuid !== undefined) return send(user, 'C', { groupUuid });
    if (action === 'A' && groupUuid !== undefined) return void (await request(user, 'A', 'GET', `/api/messages/${groupUuid}`));
    if (action === 'read' && groupUuid !== undefined) {
      // Read up to the newest message (no body), as an app does when the conversation is open.
      const answer = await request(user, 'read', 'POST', `/api/message_groups/${groupUuid}/read`);
      if (answer.status === 200) result.marks += 1;
      return;
    }
    if (action === 'typing' && groupUuid !== undefined && options.typing) {
      if (options.typing(user, groupUuid)) result.typingSent += 1;
      return;
    }
    if (action === 'race') {
      const other = newPartner(user);
      if (other !== undefined) {
        result.races += 1;
        // Both sides at the same moment, and sometimes one side twice: one group must come of it.
        const writes = [send(user, 'D', { handle: other.handle }), send(other, 'D', { handle: user.handle })];
        if (random(user)() < 0.5) writes.push(send(user, 'D', { handle: other.handle }));
        await Promise.all(writes);
        return;
      }
    }
    if (action === 'D' || action === 'race' || action === 'C') {
      // Someone new when there is anyone left, else by handle to someone known (the same group).
      const other = newPartner(user) ?? partner;
      if (other !== undefined) return send(user, 'D', { handle: other.handle });
    }
    const answer = await request(user, 'B', 'GET', '/api/message_groups');
    if (answer.status === 200 && Array.isArray(answer.body)) {
      for (const group of answer.body as { uuid?: unknown; handle?: unknown }[]) {
        if (typeof group.handle === 'string' && byHandle.has(group.handle)) learn(user.handle, group.handle, group.uuid);
      }
    }
  }

  const began = Date.now();
  const deadline = began + options.durationMs;
  let lastReport = { at: began, requests: 0 };
  const report = () => {
    const now = Date.now();
    const sent = result.sent.length;
    const accepted = result.sent.filter((message) => message.outcome === 'accepted').length;
    const rps = (result.requests.length - lastReport.requests) / Math.max(0.001, (now - lastReport.at) / 1000);
    options.progress(
      `  ${String(Math.round((now - began) / 1000)).padStart(4)} s: sent ${sent}, accepted ${accepted}, rejected ${sent - accepted}, ` +
        `${result.requests.length} requests (${rps.toFixed(0)} rps), ${result.unexpected.length} unexpected answers`,
    );
    lastReport = { at: now, requests: result.requests.length };
  };
  const ticker = setInterval(report, options.progressEveryMs ?? 10_000);
  try {
    await Promise.all(
      options.users.map(async (user) => {
        await sleep(Math.max(0, Math.min(random(user)() * thinkMs, deadline - Date.now())));
        for (let first = true; first || Date.now() < deadline; first = false) {
          await act(user, first);
          await sleep(Math.max(0, Math.min((0.5 + random(user)()) * thinkMs, deadline - Date.now())));
        }
      }),
    );
  } finally {
    clearInterval(ticker);
  }
  result.elapsedMs = Date.now() - began;
  report();
  return result;
}
