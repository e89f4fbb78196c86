// Reads a Substrate room as a Durable Streams stream with ElectricSQL's own client (`@durable-streams/client`):
// catch-up, long-poll and SSE, resuming from the `Stream-Next-Offset` the client kept.
//
//   node durable-streams-check.js BASE_URL OWNER OUTSIDER SCOPED_OUT READER
//
// A catch-up read returns the room's events in order; a long-poll reader and an SSE reader follow a turn live; a
// reader that stops and resumes from its saved offset gets exactly the events after it; `now` skips the history; the
// room's close ends every reader (`Stream-Closed`); writes are refused 405; an outsider is refused 403 and a token of
// another project 404; a 2 MB block is read whole across bounded responses; 100 long-poll readers follow one room at
// once. Prints "ok ..." and exits 0, or prints what failed and exits 1.
const { stream, DurableStream } = require('@durable-streams/client');
const { base, tokens, auth, check, append, appendAll, createRoom, turn, bigTurn, until, run } = require('./substrate');

const url = (room) => `${base}/v1/rooms/${room}/ds`;
const noRetry = { maxRetries: 0, initialDelay: 10, maxDelay: 10, multiplier: 1 };

/** Follows the room live in `mode`, collecting its events; returns {items, offset, stop}. */
async function follow(room, mode, offset = '-1') {
  const reader = { items: [], offset: null, closed: false };
  const controller = new AbortController();
  const res = await stream({ url: url(room), headers: auth(), offset, live: mode, signal: controller.signal });
  reader.stop = res.subscribeJson(async (batch) => {
    reader.items.push(...batch.items);
    reader.offset = batch.offset;
    reader.closed = reader.closed || batch.streamClosed === true || res.streamClosed;
  });
  reader.abort = () => controller.abort();
  return reader;
}

async function statusOf(room, token) {
  try {
    await stream({ url: url(room), headers: auth(token), live: false, backoffOptions: noRetry });
    return 200;
  } catch (e) {
    return e.status;
  }
}

run(async () => {
  const room = await createRoom();
  await appendAll(room, turn.before);

  // Catch-up: every event so far, in order, each the event as the room's SSE stream sends it.
  const caught = await stream({ url: url(room), headers: auth(), live: false });
  const history = await caught.json();
  check(history.length === 5 && history[0].payload.type === 'RoomCreated', `catch-up: ${JSON.stringify(history.map((e) => e.payload.type))}`);
  check(history.every((e, i) => i === 0 || e.cursor > history[i - 1].cursor), 'in order');
  check(caught.upToDate && !caught.streamClosed, 'caught up, not closed');
  const tail = caught.offset;

  // Live: a long-poll reader and an SSE reader from the tail, and one from `now`.
  const polling = await follow(room, 'long-poll', tail);
  const sse = await follow(room, 'sse', tail);
  const fromNow = await follow(room, 'long-poll', 'now');
  await new Promise((resolve) => setTimeout(resolve, 300));
  await appendAll(room, turn.after.slice(0, 4));
  await until(() => polling.items.length === 4 && sse.items.length === 4 && fromNow.items.length === 4, 'the first live events');

  // The long-poll reader stops, keeping its offset; it resumes from there after more events.
  polling.stop();
  polling.abort();
  const saved = polling.offset;
  await appendAll(room, turn.after.slice(4));
  await until(() => sse.items.length === turn.after.length, 'the SSE reader to follow the whole turn');
  const resumed = await stream({ url: url(room), headers: auth(), offset: saved, live: false });
  const rest = await resumed.json();
  check(JSON.stringify(rest.map((e) => e.eventId)) === JSON.stringify(sse.items.slice(4).map((e) => e.eventId)), `resumed from ${saved}: ${rest.length}`);
  check(JSON.stringify(sse.items.map((e) => e.payload.type)) === JSON.stringify(turn.after.map((e) => e.type)), 'the SSE reader saw the turn');

  // Writes are Substrate's own routes: the stream is read-only.
  const put = await fetch(url(room), { method: 'POST', headers: { ...auth(), 'Content-Type': 'application/json' }, body: '[{"x":1}]' });
  check(put.status === 405 && put.headers.get('allow') === 'GET, HEAD', `a write: ${put.status}`);
  const head = await new DurableStream({ url: url(room), headers: auth() }).head();
  check(head.exists && head.offset >= sse.offset, `HEAD: ${JSON.stringify(head)}`);

  check((await statusOf(room, tokens.outsider)) === 403, 'a non-member');
  check((await statusOf(room, tokens.scopedOut)) === 404, 'a token of another project');

  // A 2 MB block, read whole across bounded responses (about 1 MiB each). `json()` reads on to the end; with `live:
  // false` the client stops after the first response, up to date or not.
  const big = await bigTurn(room, 't-big', 2 * 1024 * 1024);
  const all = await (await stream({ url: url(room), headers: auth(), live: 'long-poll' })).json();
  const deltas = all.filter((e) => e.payload.type === 'TextDelta' && e.payload.blockId === 't-big-big');
  check(deltas.map((e) => e.payload.text).join('') === big, 'the 2 MB block');

  // 100 long-poll readers of one token follow one room; the room's close ends them all.
  fromNow.stop();
  fromNow.abort();
  sse.stop();
  sse.abort();
  await new Promise((resolve) => setTimeout(resolve, 500)); // the server releases their slots as they leave
  const end = (await stream({ url: url(room), headers: auth(), offset: 'now', live: false })).offset;
  const many = await Promise.all(Array.from({ length: 100 }, () => follow(room, 'long-poll', end)));
  await new Promise((resolve) => setTimeout(resolve, 500));
  await append(room, { type: 'LogEmitted', level: 'info', message: 'to everyone' });
  await append(room, { type: 'RoomClosed', reason: 'done' }, true);
  await until(() => many.every((r) => r.items.length === 2 && r.closed), 'all 100 readers to see the close', 60000);
  const closed = await stream({ url: url(room), headers: auth(), offset: end, live: false });
  check((await closed.json()).length === 2 && closed.streamClosed, 'Stream-Closed once the room is closed');

  return `room=${room} history=${all.length} observers=${many.length}`;
});
