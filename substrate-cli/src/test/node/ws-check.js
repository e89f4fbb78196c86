// Follows a Substrate room over its WebSocket with the `ws` package, as a session UI written for the seeds' system
// would: `{event, cursor, data}` messages, `session:state` first.
//
//   node ws-check.js BASE_URL OWNER OUTSIDER SCOPED_OUT READER
//
// A client connects in the middle of a turn (a status change, a streamed block, thinking, a tool call and its result, a
// log line, an error) and follows it live; another resumes from a cursor and sees exactly what followed it; a browser's
// way in (a ticket in the query, taken once) works; an outsider is refused 403 and a token of another project 404; the
// server pings a quiet socket; a revoked member is closed with 1008; a 2 MB block arrives whole; 100 clients of one
// token follow one room at once. Prints "ok ..." and exits 0, or prints what failed and exits 1.
const WebSocket = require('ws');
const { base, tokens, auth, check, post, append, appendAll, createRoom, turn, bigTurn, until, run } = require('./substrate');

const wsBase = base.replace(/^http/, 'ws');

/** Opens a WebSocket and collects its messages; resolves once open (or rejects with the HTTP status refusing it). */
function follow(path, headers = auth()) {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(wsBase + path, { headers, maxPayload: 64 * 1024 * 1024 });
    const client = { socket, messages: [], pings: 0, closed: null };
    socket.on('message', (data) => client.messages.push(JSON.parse(data.toString())));
    socket.on('ping', () => client.pings++);
    socket.on('close', (code, reason) => (client.closed = { code, reason: reason.toString() }));
    socket.on('open', () => resolve(client));
    socket.on('unexpected-response', (request, response) => reject(Object.assign(new Error(`status ${response.statusCode}`), { status: response.statusCode })));
    socket.on('error', (e) => reject(e));
  });
}

async function refused(path, headers) {
  try {
    const client = await follow(path, headers);
    client.socket.close();
    return 101;
  } catch (e) {
    return e.status;
  }
}

const named = (client, event) => client.messages.filter((m) => m.event === event);

run(async () => {
  const room = await createRoom([{ principal: 'svc:reader', role: 'reader' }]);
  await appendAll(room, turn.before);
  await append(room, { type: 'TextDelta', blockId: 'b1', text: '' }, true);

  // A UI connects in the middle of the first block: the snapshot has the block's text so far.
  const live = await follow(`/v1/rooms/${room}/ws`);
  await until(() => live.messages.length > 0, 'the snapshot');
  const state = live.messages[0];
  check(state.event === 'session:state', `first message: ${JSON.stringify(state)}`);
  check(state.data.sessionId === room, `sessionId: ${JSON.stringify(state.data)}`);
  check(state.data.activeQuery.turnId === 't1', `activeQuery: ${JSON.stringify(state.data.activeQuery)}`);
  check(state.data.executionEnvironment.status === 'starting', `environment: ${JSON.stringify(state.data)}`);
  check(state.data.openBlocks.length === 1 && state.data.openBlocks[0].text === 'Hello, ', `open blocks: ${JSON.stringify(state.data.openBlocks)}`);

  await appendAll(room, turn.after);
  await until(() => named(live, 'session:turn:end').length === 1, 'the end of the turn');
  const events = live.messages.slice(1).map((m) => m.event);
  const expected = [
    'session:block:delta', 'session:block:delta', 'session:block:update', 'session:block:metadata',
    'session:block:complete', 'session:status', 'session:block:start', 'session:block:delta', 'session:block:complete',
    'session:block:start', 'session:block:delta', 'session:block:delta', 'session:block:complete',
    'session:block:start', 'session:block:delta', 'session:block:complete', 'session:log', 'session:error',
    'session:turn:end',
  ];
  // The empty delta appended before the client connected is in the snapshot; what follows is the rest of the turn.
  check(JSON.stringify(events.slice(-expected.length)) === JSON.stringify(expected), `events: ${events}`);
  const cursors = live.messages.slice(1).map((m) => m.cursor);
  check(cursors.every((c, i) => i === 0 || c >= cursors[i - 1]), `cursors go forward: ${cursors}`);
  const text = named(live, 'session:block:complete')[0];
  check(text.data.blockId === 'b1' && text.data.text === 'Hello, world' && text.data.metadata.model === 'm-1', `block: ${JSON.stringify(text)}`);
  const ready = named(live, 'session:status')[0].data;
  check(ready.status === 'ready' && ready.executionEnvironment.status === 'ready' && ready.executionEnvironment.restartCount === 0, `status: ${JSON.stringify(ready)}`);
  const tool = named(live, 'session:block:complete')[2].data;
  check(tool.kind === 'tool_use' && tool.metadata.name === 'search' && tool.text === '{"q": "kafka"}', `tool call: ${JSON.stringify(tool)}`);
  check(named(live, 'session:log')[0].data.message === 'searched', 'the log line');
  check(named(live, 'session:error')[0].data.code === 'tool_slow', 'the error');

  // Resume after the text block's completion: a snapshot at that cursor, then exactly what followed.
  const completed = named(live, 'session:block:complete')[0];
  const resumed = await follow(`/v1/rooms/${room}/ws?cursor=${completed.cursor}`);
  await until(() => named(resumed, 'session:turn:end').length === 1, 'the resumed end of the turn');
  check(resumed.messages[0].event === 'session:state' && resumed.messages[0].cursor === completed.cursor, `resumed snapshot: ${JSON.stringify(resumed.messages[0])}`);
  check(resumed.messages[0].data.openBlocks.length === 0, 'no block open after the completion');
  const after = live.messages.filter((m) => m.cursor > completed.cursor);
  check(JSON.stringify(resumed.messages.slice(1)) === JSON.stringify(after), `resumed: ${JSON.stringify(resumed.messages.slice(1).map((m) => m.event))}`);
  resumed.socket.close();

  // A browser's way in: a ticket, in the query string, taken once.
  const { ticket, url } = await post(`/v1/rooms/${room}/ws-ticket`);
  check(url.includes(ticket), 'the ticket URL');
  const browser = await follow(url.replace(/^\/v1/, '/v1'), {});
  await until(() => browser.messages.length > 0, 'the ticket holder\'s snapshot');
  check(browser.messages[0].event === 'session:state', 'a ticket opens the socket');
  browser.socket.close();
  check((await refused(url, {})) === 401, 'a ticket is taken once');
  check((await refused(`/v1/rooms/${room}/ws?ticket=forged.x`, {})) === 401, 'a forged ticket');
  check((await refused(`/v1/rooms/${room}/ws`, {})) === 401, 'no token');

  // Access: a non-member 403, a token of another project 404, both before any socket.
  check((await refused(`/v1/rooms/${room}/ws`, auth(tokens.outsider))) === 403, 'a non-member');
  check((await refused(`/v1/rooms/${room}/ws`, auth(tokens.scopedOut))) === 404, 'a token of another project');

  // Keep-alive: the server pings a quiet socket (stream.heartbeat.ms), the client's pongs keep it open.
  await until(() => live.pings >= 2, 'two pings', 20000);
  check(live.closed === null, 'a quiet socket stays open');

  // Revocation: a reader's socket closes with 1008 when its membership is revoked.
  const reader = await follow(`/v1/rooms/${room}/ws`, auth(tokens.reader));
  await until(() => reader.messages.length > 0, 'the reader\'s snapshot');
  await append(room, { type: 'MemberRevoked', principal: 'svc:reader' }, true);
  await until(() => reader.closed !== null, 'the reader\'s socket to close');
  check(reader.closed.code === 1008 && reader.closed.reason.startsWith('revoked'), `reader closed: ${JSON.stringify(reader.closed)}`);

  // A 2 MB block, streamed in 32 KiB deltas, arrives whole.
  const big = await bigTurn(room, 't-big', 2 * 1024 * 1024);
  await until(() => named(live, 'session:turn:end').length === 2, 'the big turn');
  const deltas = live.messages.filter((m) => m.event === 'session:block:delta' && m.data.blockId === 't-big-big');
  check(deltas.map((m) => m.data.delta).join('') === big, 'the 2 MB block\'s deltas');
  const whole = named(live, 'session:block:complete').find((m) => m.data.blockId === 't-big-big');
  check(whole.data.text.length === big.length, `the 2 MB block whole: ${whole.data.text.length}`);

  // 100 clients of one token at once (stream.max.clients.per.principal is 100); the one already open leaves first.
  // A room of its own: each socket's snapshot replays its room from the start (docs/decisions.md), and this one's
  // history holds the 2 MB block.
  live.socket.close();
  await until(() => live.closed !== null, 'the first client to leave');
  await new Promise((resolve) => setTimeout(resolve, 500)); // the server releases its slot as the close arrives
  const crowded = await createRoom();
  await appendAll(crowded, turn.before);
  const many = await Promise.all(Array.from({ length: 100 }, () => follow(`/v1/rooms/${crowded}/ws`)));
  await until(() => many.every((c) => c.messages.length > 0), 'every snapshot', 60000);
  check(many.every((c) => c.messages[0].data.openBlocks[0].text === 'Hello, '), 'every snapshot has the open block');
  await append(crowded, { type: 'LogEmitted', level: 'info', message: 'to everyone' }, true);
  await until(() => many.every((c) => named(c, 'session:log').some((m) => m.data.message === 'to everyone')), 'the log line on all 100', 60000);
  many.forEach((c) => c.socket.close());

  return `room=${room} events=${events.length} pings=${live.pings} observers=${many.length}`;
});
