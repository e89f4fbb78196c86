// Follows a Substrate room's turn with the Vercel AI SDK's own code, as `useChat({resume: true})` does:
// `DefaultChatTransport.reconnectToStream` (its `prepareReconnectToStreamRequest` pointing at the room's view) and
// `readUIMessageStream` assembling the UI message.
//
//   node ai-sdk-check.js BASE_URL OWNER OUTSIDER SCOPED_OUT READER
//
// One client resumes at the turn's start, another in the middle of its first block; both assemble the same message,
// equal to the transcript (`/ai-sdk/messages`); once the turn ended, resuming finds nothing (204). An outsider is
// refused 403 and a token of another project 404; a 2 MB block assembles whole; 100 clients resume one turn at once.
// Prints "ok ..." and exits 0, or prints what failed and exits 1.
const { DefaultChatTransport, readUIMessageStream } = require('ai');
const { base, tokens, auth, check, append, appendAll, createRoom, turn, bigTurn, run } = require('./substrate');

function transport(token = tokens.owner) {
  return new DefaultChatTransport({
    api: `${base}/v1/chat`, // sending is the service's own route; Substrate serves the resume and the transcript
    headers: auth(token),
    prepareReconnectToStreamRequest: ({ id, headers }) => ({
      api: `${base}/v1/rooms/${encodeURIComponent(id)}/ai-sdk/stream`,
      headers,
    }),
  });
}

/** Resumes the room's active turn; assembles it as useChat would. Resolves {chunks, message} or null (no turn). */
async function resume(room, token) {
  const chunks = [];
  const stream = await transport(token).reconnectToStream({ chatId: room });
  if (stream === null) return null;
  const errors = [];
  const counted = stream.pipeThrough(new TransformStream({ transform(chunk, c) { chunks.push(chunk); c.enqueue(chunk); } }));
  let message = null;
  for await (const snapshot of readUIMessageStream({ stream: counted, onError: (e) => errors.push(e.message) })) {
    message = snapshot;
  }
  return { chunks, message: JSON.parse(JSON.stringify(message)), errors };
}

async function transcript(room) {
  const response = await fetch(`${base}/v1/rooms/${room}/ai-sdk/messages`, { headers: auth() });
  check(response.status === 200, `messages: ${response.status}`);
  return response.json();
}

async function status(room, token) {
  try {
    await transport(token).reconnectToStream({ chatId: room });
    return 200;
  } catch (e) {
    return Number((/"status":(\d+)/.exec(e.message) || [])[1]);
  }
}

run(async () => {
  const room = await createRoom();
  check((await resume(room)) === null, 'no active turn: nothing to resume');
  await appendAll(room, turn.before);
  await append(room, { type: 'TextDelta', blockId: 'b1', text: '' }, true);

  const first = resume(room); // at the turn's start: replayed from its TurnStarted
  await appendAll(room, turn.after.slice(0, 1));
  await append(room, { type: 'TextDelta', blockId: 'b1', text: '' }, true);
  const midBlock = resume(room); // in the middle of the first block
  await appendAll(room, turn.after.slice(1));
  const [a, b] = await Promise.all([first, midBlock]);

  const messages = await transcript(room);
  check(messages.length === 1, `one message: ${JSON.stringify(messages)}`);
  const expected = JSON.stringify(messages[0]);
  check(JSON.stringify(a.message) === expected, `resumed at the start:\n${JSON.stringify(a.message)}\n${expected}`);
  check(JSON.stringify(b.message) === expected, `resumed mid-block:\n${JSON.stringify(b.message)}\n${expected}`);
  check(a.message.id === 't1' && a.message.role === 'assistant', 'the message is the turn');
  const types = a.message.parts.map((p) => p.type);
  check(JSON.stringify(types) === JSON.stringify(['step-start', 'data-substrate-status', 'text', 'data-substrate-status', 'reasoning', 'tool-search', 'data-substrate-log', 'data-substrate-error']),
    `parts: ${types}`);
  const parts = a.message.parts;
  check(parts[2].text === 'Hello, world' && parts[2].state === 'done', 'the text');
  check(parts[4].text === 'Look it up.', 'the reasoning');
  check(parts[5].state === 'output-available' && parts[5].input.q === 'kafka' && parts[5].output.hits === 3, `the tool: ${JSON.stringify(parts[5])}`);
  check(a.errors.length === 1 && a.errors[0].includes('tool_slow'), `the error chunk: ${a.errors}`);
  check(a.chunks[0].type === 'start' && a.chunks[a.chunks.length - 1].type === 'finish', 'start ... finish');
  check((await resume(room)) === null, 'the turn ended: nothing to resume');

  check((await status(room, tokens.outsider)) === 403, 'a non-member');
  check((await status(room, tokens.scopedOut)) === 404, 'a token of another project');

  // A 2 MB block, resumed in the middle, assembles whole.
  const big = bigTurn(room, 't-big', 2 * 1024 * 1024);
  // Resume once the turn is on, mid-block.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const resumedBig = await resume(room);
  const bigText = await big;
  check(resumedBig !== null, 'the big turn was active');
  check(resumedBig.message.parts[1].text === bigText, `the 2 MB block: ${resumedBig.message.parts[1].text.length}`);

  // 100 clients resume one turn at once.
  await append(room, { type: 'TurnStarted', turnId: 't-many', participant: 'agent' });
  await append(room, { type: 'BlockStarted', blockId: 'm1', turnId: 't-many', kind: 'text', role: 'assistant' }, true);
  const many = Array.from({ length: 100 }, () => resume(room));
  // Every one of them connected (the server's count of open room streams), however slow the machine, before the rest
  // of the turn is written: one that came after its end would find no turn to resume.
  const deadline = Date.now() + 30000;
  for (;;) {
    const metrics = await (await fetch(`${base}/metrics`, { headers: auth() })).text();
    const open = Number((/^substrate_room_streams_open (\d+)/m.exec(metrics) || [])[1] || 0);
    if (open >= 100) break;
    check(Date.now() < deadline, `100 clients connected (${open} so far)`);
    await new Promise((resolve) => setTimeout(resolve, 50)); // a poll with a deadline
  }
  await appendAll(room, [
    { type: 'TextDelta', blockId: 'm1', text: 'to everyone' },
    { type: 'BlockCompleted', blockId: 'm1' },
    { type: 'TurnEnded', turnId: 't-many' },
  ]);
  const all = await Promise.all(many);
  const final = (await transcript(room)).find((m) => m.id === 't-many');
  check(all.every((r) => r !== null && JSON.stringify(r.message) === JSON.stringify(final)), 'all 100 assemble the turn');

  return `room=${room} chunks=${a.chunks.length} parts=${types.length} observers=${all.length}`;
});
