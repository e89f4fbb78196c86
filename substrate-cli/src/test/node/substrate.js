// What the observer checks share: Substrate's HTTP API as any client calls it (fetch), and the session turn they all
// follow. Not a client of Substrate's making: plain HTTP.
const base = process.argv[2];
const tokens = {
  owner: process.argv[3],
  outsider: process.argv[4], // a token of a principal that is not a member of the rooms
  scopedOut: process.argv[5], // a token scoped to another project
  reader: process.argv[6], // a member with the reader role, revoked in the WebSocket check
};
const auth = (token = tokens.owner) => ({ Authorization: `Bearer ${token}` });

function check(condition, message) {
  if (!condition) throw new Error(message);
}

async function post(path, body, token = tokens.owner) {
  const response = await fetch(base + path, {
    method: 'POST',
    headers: { ...auth(token), 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  check(response.status < 300, `POST ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

const append = (room, event, wait) => post(`/v1/rooms/${room}/events${wait ? '?wait=applied' : ''}`, event);

async function createRoom(extraMembers = []) {
  const { roomId } = await post('/v1/rooms?wait=applied', {
    kind: 'session',
    project: 'project:acme/web',
    members: [{ principal: 'svc:owner', role: 'owner' }, ...extraMembers],
  });
  return roomId;
}

/** The turn every check follows: a status change, a streamed text block, a thinking block, a tool call and its
 * result, a log line and an error. `before` is appended first, `after` once `midway` resolved (a client connects in
 * the middle of the first block). */
const turn = {
  before: [
    { type: 'TurnStarted', turnId: 't1', participant: 'agent' },
    { type: 'StatusChanged', status: 'starting', message: 'booting' },
    { type: 'BlockStarted', blockId: 'b1', turnId: 't1', kind: 'text', role: 'assistant' },
    { type: 'TextDelta', blockId: 'b1', text: 'Hello, ' },
  ],
  after: [
    { type: 'TextDelta', blockId: 'b1', text: 'wor' },
    { type: 'TextDelta', blockId: 'b1', text: 'ld' },
    { type: 'BlockUpdated', blockId: 'b1', metadata: { model: 'm-1' } },
    { type: 'BlockCompleted', blockId: 'b1' },
    { type: 'StatusChanged', status: 'ready', message: 'up' },
    { type: 'BlockStarted', blockId: 'th1', turnId: 't1', kind: 'thinking', role: 'assistant' },
    { type: 'TextDelta', blockId: 'th1', text: 'Look it up.' },
    { type: 'BlockCompleted', blockId: 'th1' },
    { type: 'BlockStarted', blockId: 'c1', turnId: 't1', kind: 'tool_use', metadata: { name: 'search' } },
    { type: 'TextDelta', blockId: 'c1', text: '{"q": ' },
    { type: 'TextDelta', blockId: 'c1', text: '"kafka"}' },
    { type: 'BlockCompleted', blockId: 'c1' },
    { type: 'BlockStarted', blockId: 'r1', turnId: 't1', kind: 'tool_result', metadata: { toolCallId: 'c1' } },
    { type: 'TextDelta', blockId: 'r1', text: '{"hits": 3}' },
    { type: 'BlockCompleted', blockId: 'r1' },
    { type: 'LogEmitted', level: 'info', message: 'searched' },
    { type: 'ErrorRaised', code: 'tool_slow', message: 'search took 9 s' },
    { type: 'TurnEnded', turnId: 't1' },
  ],
};

/** Appends `events` in order; the last once the fold applied it (so that the room's state has them all). */
async function appendAll(room, events) {
  for (const [i, event] of events.entries()) await append(room, event, i === events.length - 1);
}

/** A block of `bytes` of text, in deltas of 32 KiB, in its own turn. */
async function bigTurn(room, turnId, bytes) {
  const piece = 32 * 1024;
  await append(room, { type: 'TurnStarted', turnId, participant: 'agent' });
  await append(room, { type: 'BlockStarted', blockId: `${turnId}-big`, turnId, kind: 'text', role: 'assistant' });
  let text = '';
  for (let sent = 0; sent < bytes; sent += piece) {
    const delta = String.fromCharCode(97 + ((sent / piece) % 26)).repeat(Math.min(piece, bytes - sent));
    text += delta;
    await append(room, { type: 'TextDelta', blockId: `${turnId}-big`, text: delta });
  }
  await append(room, { type: 'BlockCompleted', blockId: `${turnId}-big` });
  await append(room, { type: 'TurnEnded', turnId }, true);
  return text;
}

async function until(condition, what, ms = 30000) {
  const deadline = Date.now() + ms;
  while (!condition()) {
    check(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20)); // a poll with a deadline
  }
}

async function run(main) {
  try {
    const summary = await main();
    console.log(`ok ${summary}`);
    process.exit(0);
  } catch (e) {
    console.log(`FAILED: ${e.stack || e}`);
    process.exit(1);
  }
}

module.exports = { base, tokens, auth, check, post, append, appendAll, createRoom, turn, bigTurn, until, run };
