// Follows a Substrate room with AG-UI's own client, as an agent UI would, and checks every event against AG-UI's
// own schemas:
//
//   node ag-ui-check.js BASE_URL OWNER_TOKEN OUTSIDER_TOKEN
//
// It appends a session (two turns: a streamed text block, a thinking block, a tool call and its result, a status
// change, metadata, an error, a log line) through Substrate's HTTP API, connecting an HttpAgent in the middle of the
// first block; then connects again after the fact, resumes a plain SSE read with Last-Event-ID, and checks that an
// outsider is refused. Prints "ok ..." and exits 0, or prints what failed and exits 1.
const { HttpAgent } = require('@ag-ui/client');
const { EventSchemas } = require('@ag-ui/core/schemas');

const [base, ownerToken, outsiderToken] = process.argv.slice(2);
const auth = (token) => (token ? { Authorization: `Bearer ${token}` } : {});

function check(condition, message) {
  if (!condition) throw new Error(message);
}

function validate(event) {
  const parsed = EventSchemas.safeParse(event);
  check(parsed.success, `not a valid AG-UI event: ${JSON.stringify(event)}: ${parsed.error}`);
}

async function post(path, body, token = ownerToken) {
  const response = await fetch(base + path, {
    method: 'POST',
    headers: { ...auth(token), 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  check(response.status < 300, `POST ${path}: ${response.status} ${text}`);
  return JSON.parse(text);
}

const append = (room, event, wait) => post(`/v1/rooms/${room}/events${wait ? '?wait=applied' : ''}`, event);

/** A plain SSE read of the AG-UI view until the server ends it: [{id, event}]. */
async function sse(path, headers) {
  const response = await fetch(base + path, {
    headers: { ...auth(ownerToken), Accept: 'text/event-stream', ...headers },
  });
  check(response.status === 200, `GET ${path}: ${response.status}`);
  const events = [];
  for (const chunk of (await response.text()).split('\n\n')) {
    let id = null;
    let data = null;
    for (const line of chunk.split('\n')) {
      if (line.startsWith('id: ')) id = Number(line.slice(4));
      if (line.startsWith('data: ')) data = JSON.parse(line.slice(6));
    }
    if (data !== null) {
      validate(data);
      events.push({ id, event: data });
    }
  }
  return events;
}

async function until(condition, what, ms = 30000) {
  const deadline = Date.now() + ms;
  while (!condition()) {
    check(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50)); // a poll with a deadline
  }
}

async function main() {
  const { roomId: room } = await post('/v1/rooms?wait=applied', {
    kind: 'session',
    project: 'project:acme/web',
    members: [{ principal: 'svc:owner', role: 'owner' }],
  });
  await append(room, { type: 'TurnStarted', turnId: 't1', participant: 'agent' });
  await append(room, { type: 'BlockStarted', blockId: 'b1', turnId: 't1', kind: 'text', role: 'assistant' });
  await append(room, { type: 'TextDelta', blockId: 'b1', text: 'Hello, ' });
  await append(room, { type: 'TextDelta', blockId: 'b1', text: 'wor' }, true);

  // An AG-UI front end connects in the middle of the first block.
  const agent = new HttpAgent({ url: `${base}/v1/rooms/${room}/ag-ui`, headers: auth(ownerToken), threadId: room });
  const live = [];
  agent.subscribe({ onEvent: ({ event }) => { validate(event); live.push(event); } });
  const run = agent.runAgent({ runId: 'ui-run-1' });
  await until(() => live.some((e) => e.type === 'STATE_SNAPSHOT'), 'the snapshot');

  await append(room, { type: 'TextDelta', blockId: 'b1', text: 'ld!' });
  await append(room, { type: 'BlockCompleted', blockId: 'b1' });
  await append(room, { type: 'TurnEnded', turnId: 't1' });
  await append(room, { type: 'TurnStarted', turnId: 't2', participant: 'agent' });
  await append(room, { type: 'BlockStarted', blockId: 'b2', turnId: 't2', kind: 'thinking', role: 'assistant' });
  await append(room, { type: 'TextDelta', blockId: 'b2', text: 'Let me ' });
  await append(room, { type: 'TextDelta', blockId: 'b2', text: 'look.' });
  await append(room, { type: 'BlockCompleted', blockId: 'b2' });
  await append(room, { type: 'BlockStarted', blockId: 'b3', turnId: 't2', kind: 'tool_use', metadata: { name: 'bash' } });
  await append(room, { type: 'TextDelta', blockId: 'b3', text: '{"cmd": ' });
  await append(room, { type: 'TextDelta', blockId: 'b3', text: '"ls"}' });
  await append(room, { type: 'BlockCompleted', blockId: 'b3' });
  await append(room, { type: 'BlockStarted', blockId: 'b4', turnId: 't2', kind: 'tool_result', metadata: { toolCallId: 'b3' } });
  await append(room, { type: 'TextDelta', blockId: 'b4', text: 'file.txt' });
  await append(room, { type: 'BlockCompleted', blockId: 'b4' });
  await append(room, { type: 'StatusChanged', status: 'ready', message: 'sandbox up' });
  await append(room, { type: 'MetadataUpdated', metadata: { model: 'm1' } });
  await append(room, { type: 'ErrorRaised', code: 'E_TOOL', message: 'ls was slow' });
  await append(room, { type: 'LogEmitted', level: 'info', message: 'done' });
  await append(room, { type: 'TurnEnded', turnId: 't2' });
  await append(room, { type: 'RoomClosed' }, true);
  await Promise.race([run, new Promise((_, reject) => setTimeout(() => reject(new Error('the run did not end')), 30000))]);

  const types = live.map((e) => e.type);
  check(types[0] === 'RUN_STARTED' && live[0].runId === 'ui-run-1' && live[0].threadId === room, `first: ${JSON.stringify(live[0])}`);
  check(types[1] === 'MESSAGES_SNAPSHOT' && types[2] === 'STATE_SNAPSHOT', `then: ${types.slice(0, 3)}`);
  check(live[2].snapshot.activeTurn.turnId === 't1', `state at connect: ${JSON.stringify(live[2].snapshot)}`);
  check(types.at(-1) === 'RUN_FINISHED', `last: ${types.at(-1)}`);
  for (const expected of ['STEP_STARTED', 'TEXT_MESSAGE_START', 'TEXT_MESSAGE_CONTENT', 'TEXT_MESSAGE_END', 'STEP_FINISHED',
    'REASONING_START', 'REASONING_MESSAGE_CONTENT', 'REASONING_END', 'TOOL_CALL_START', 'TOOL_CALL_ARGS', 'TOOL_CALL_END',
    'TOOL_CALL_RESULT', 'STATE_DELTA', 'CUSTOM']) {
    check(types.includes(expected), `no ${expected} in ${types}`);
  }
  check(live.some((e) => e.type === 'CUSTOM' && e.name === 'substrate.error' && e.value.code === 'E_TOOL'), 'no substrate.error');
  check(live.some((e) => e.type === 'CUSTOM' && e.name === 'substrate.log' && e.value.message === 'done'), 'no substrate.log');
  check(live.every((e) => Number.isInteger(e.timestamp)), 'an event without timestamp');

  const byId = Object.fromEntries(agent.messages.map((m) => [m.id, m]));
  check(byId.b1 && byId.b1.content === 'Hello, world!', `b1: ${JSON.stringify(byId.b1)}`);
  check(byId.b3 && byId.b3.toolCalls[0].function.name === 'bash' && byId.b3.toolCalls[0].function.arguments === '{"cmd": "ls"}', `b3: ${JSON.stringify(byId.b3)}`);
  check(byId.b4 && byId.b4.role === 'tool' && byId.b4.toolCallId === 'b3' && byId.b4.content === 'file.txt', `b4: ${JSON.stringify(byId.b4)}`);
  check(agent.state.status.status === 'ready' && agent.state.metadata.model === 'm1' && agent.state.closed === true, `state: ${JSON.stringify(agent.state)}`);

  // The same text as the transcript.
  const transcript = await (await fetch(`${base}/v1/rooms/${room}/transcript`, { headers: auth(ownerToken) })).json();
  const texts = Object.fromEntries(transcript.items.filter((e) => e.refId && e.text != null).map((e) => [e.refId, e.text]));
  check(texts.b1 === byId.b1.content && texts.b4 === byId.b4.content, `transcript ${JSON.stringify(texts)}`);

  // After the fact: the snapshot holds every block, and the run is finished.
  const later = new HttpAgent({ url: `${base}/v1/rooms/${room}/ag-ui`, headers: auth(ownerToken), threadId: room });
  const afterwards = [];
  later.subscribe({ onEvent: ({ event }) => { validate(event); afterwards.push(event); } });
  await later.runAgent({ runId: 'ui-run-2' });
  check(afterwards.at(-1).type === 'RUN_FINISHED', `after the fact: ${afterwards.map((e) => e.type)}`);
  const snapshot = afterwards.find((e) => e.type === 'MESSAGES_SNAPSHOT').messages;
  check(JSON.stringify(snapshot.map((m) => [m.id, m.role])) === JSON.stringify([['b1', 'assistant'], ['b2', 'reasoning'], ['b3', 'assistant'], ['b4', 'tool']]), `snapshot: ${JSON.stringify(snapshot)}`);
  check(later.messages.find((m) => m.id === 'b1').content === 'Hello, world!', 'b1 after the fact');

  // Resuming with Last-Event-ID: the events after the cursor, exactly once, after a snapshot of what came before.
  const full = await sse(`/v1/rooms/${room}/ag-ui?after=-1&runId=r`, {});
  const middle = full.find((e) => e.event.type === 'REASONING_MESSAGE_CONTENT').id;
  const resumed = await sse(`/v1/rooms/${room}/ag-ui?runId=r`, { 'Last-Event-ID': String(middle) });
  const rest = (events) => JSON.stringify(events.filter((e) => e.id > middle));
  check(rest(resumed) === rest(full), `resumed:\n${rest(resumed)}\nfull:\n${rest(full)}`);
  const preamble = resumed.filter((e) => e.id <= middle).map((e) => e.event);
  check(preamble[0].type === 'RUN_STARTED', `resumed starts with ${preamble[0].type}`);
  const partial = preamble.find((e) => e.type === 'REASONING_MESSAGE_CONTENT');
  check(partial && partial.messageId === 'b2' && partial.delta === 'Let me ', `open block at the cursor: ${JSON.stringify(preamble)}`);
  check(preamble.find((e) => e.type === 'MESSAGES_SNAPSHOT').messages.map((m) => m.id).join() === 'b1', 'snapshot at the cursor');

  // Permissions: an outsider is refused, no token is 401.
  const input = JSON.stringify({ threadId: room, runId: 'x', messages: [], tools: [], context: [] });
  const refused = await fetch(`${base}/v1/rooms/${room}/ag-ui`, { method: 'POST', headers: { ...auth(outsiderToken), 'Content-Type': 'application/json' }, body: input });
  check(refused.status === 403, `outsider: ${refused.status}`);
  const anonymous = await fetch(`${base}/v1/rooms/${room}/ag-ui`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: input });
  check(anonymous.status === 401, `no token: ${anonymous.status}`);

  const answered = await interrupts();
  console.log(`ok room=${room} ${live.length} live events, ${afterwards.length} after the fact, ${full.length} in a full read, resumed after ${middle}; ${answered}`);
}

/**
 * The human in the loop, as AG-UI 1.0 speaks it: the room's run raises two interrupts and ends its turn, so the view
 * ends with RUN_FINISHED's interrupt outcome; the client answers both through RunAgentInput.resume (one resolved
 * with a payload its schema takes, one cancelled), the run goes on and raises a third, and an answer its schema
 * refuses is refused with the reason.
 */
async function interrupts() {
  const { runId } = await post('/v1/runs?wait=applied', { project: 'project:acme/web' });
  await post(`/v1/runs/${runId}/events?wait=applied`, { type: 'RunStarted' });
  const { roomId: room } = await post('/v1/rooms?wait=applied', {
    kind: 'session', project: 'project:acme/web', runId, members: [{ principal: 'svc:owner', role: 'owner' }],
  });
  const approval = { type: 'object', properties: { approved: { type: 'boolean' } }, required: ['approved'] };
  await append(room, { type: 'TurnStarted', turnId: 't1', participant: 'agent' });
  await append(room, { type: 'BlockStarted', blockId: 'call-1', turnId: 't1', kind: 'tool_use', metadata: { name: 'deploy' } });
  await append(room, { type: 'TextDelta', blockId: 'call-1', text: '{"env": "prod"}' });
  await append(room, { type: 'BlockCompleted', blockId: 'call-1' });
  await post(`/v1/runs/${runId}/events?wait=applied`, {
    type: 'RunWaiting',
    waitingOn: { kind: 'approval', detail: 'deploy and budget' },
    interrupts: [
      { interruptId: 'approve-deploy', reason: 'tool_approval', message: 'Deploy to prod?', toolCallId: 'call-1', responseSchema: approval },
      { interruptId: 'budget', reason: 'input', message: 'Raise the budget?' },
    ],
  });
  await append(room, { type: 'TurnEnded', turnId: 't1' }, true);

  const agent = new HttpAgent({ url: `${base}/v1/rooms/${room}/ag-ui`, headers: auth(ownerToken), threadId: room });
  const seen = [];
  agent.subscribe({ onEvent: ({ event }) => { validate(event); seen.push(event); } });
  const ending = (run) => Promise.race([run, new Promise((_, reject) => setTimeout(() => reject(new Error('the run did not end')), 30000))]);
  await ending(agent.runAgent({ runId: 'hitl-1' }));
  const first = seen.at(-1);
  check(first.type === 'RUN_FINISHED' && first.outcome.type === 'interrupt', `interrupt outcome: ${JSON.stringify(first)}`);
  const pending = agent.pendingInterrupts;
  check(JSON.stringify(pending.map((i) => [i.id, i.reason])) === JSON.stringify([['approve-deploy', 'tool_approval'], ['budget', 'input']]),
    `pending: ${JSON.stringify(pending)}`);
  check(pending[0].toolCallId === 'call-1' && pending[0].responseSchema.required[0] === 'approved', `first interrupt: ${JSON.stringify(pending[0])}`);

  // Both answered through resume; the view then follows the resumed run until it waits again.
  seen.length = 0;
  const resumed = agent.runAgent({
    runId: 'hitl-2',
    resume: [
      { interruptId: 'approve-deploy', status: 'resolved', payload: { approved: true } },
      { interruptId: 'budget', status: 'cancelled' },
    ],
  });
  const state = async () => (await (await fetch(`${base}/v1/runs/${runId}`, { headers: auth(ownerToken) })).json());
  let run = null;
  const deadline = Date.now() + 30000;
  while (!run || run.status !== 'running') {
    check(Date.now() < deadline, `the run did not resume: ${JSON.stringify(run)}`);
    run = await state();
  }
  check(JSON.stringify(run.interrupts.map((i) => [i.interruptId, i.status, i.answeredBy, i.payload])) ===
    JSON.stringify([['approve-deploy', 'resolved', 'svc:owner', { approved: true }], ['budget', 'cancelled', 'svc:owner', null]]),
    `answers: ${JSON.stringify(run.interrupts)}`);
  await append(room, { type: 'TurnStarted', turnId: 't2', participant: 'agent' });
  await post(`/v1/runs/${runId}/events?wait=applied`, {
    type: 'RunWaiting',
    waitingOn: { kind: 'input', detail: 'why' },
    interrupts: [{ interruptId: 'why', reason: 'input', responseSchema: { type: 'object', properties: { reason: { type: 'string' } }, required: ['reason'] } }],
  });
  await append(room, { type: 'TurnEnded', turnId: 't2' });
  await ending(resumed);
  check(seen.at(-1).type === 'RUN_FINISHED' && agent.pendingInterrupts.map((i) => i.id).join() === 'why',
    `the third: ${JSON.stringify(seen.at(-1))}`);

  // An answer the schema refuses: the request fails with the reason, and the interrupt stays open.
  let refusal = null;
  try {
    await ending(agent.runAgent({ runId: 'hitl-3', resume: [{ interruptId: 'why', status: 'resolved', payload: { reason: 42 } }] }));
  } catch (error) {
    refusal = error;
  }
  check(refusal && refusal.status === 409 && String(refusal.message).includes('invalid_answer'), `refusal: ${refusal}`);
  run = await state();
  check(run.status === 'waiting' && run.interrupts.find((i) => i.interruptId === 'why').status === 'open', `after the refusal: ${JSON.stringify(run)}`);
  return `run ${runId}: 2 interrupts answered through resume, a third refused (invalid_answer)`;
}

main().catch((error) => {
  console.error(error && error.stack ? error.stack : String(error));
  process.exit(1);
});
