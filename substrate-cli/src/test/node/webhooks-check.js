// Receives Substrate's webhooks as a service would, and verifies every delivery with the Standard Webhooks library
// (standardwebhooks, not Substrate's code):
//
//   node webhooks-check.js BASE_URL OWNER OUTSIDER SCOPED_OUT OBSERVER_TOKEN ADMIN_TOKEN
//
// (the tokens ObserverClientsIT hands every script; this one uses the last two)
//
// Three receivers on this machine subscribe to one project: one that answers 200, one that fails the first three tries
// of every message, one that never answers. Two runs go through their lives (one waits on an interrupt answered over
// the API, then succeeds; the other fails) and a room is closed. Checked: every message reaches the good receiver
// once, signed, in each run's order; the flaky one gets each after its retries; the silent one's are all
// dead-lettered, with the status saying so; a replay sends the good receiver everything again with the same ids; an
// observer may not subscribe. Prints "ok ..." and exits 0, or prints what failed and exits 1. The server runs with
// webhooks.allow.private (the receivers are on loopback), webhooks.max.attempts=4 and short retry waits and timeout.
const http = require('node:http');
const { Webhook } = require('standardwebhooks');

const [base, , , , observerToken, adminToken] = process.argv.slice(2);
const auth = (token = adminToken) => ({ Authorization: `Bearer ${token}` });

function check(condition, message) {
  if (!condition) throw new Error(message);
}

async function call(method, path, body, token = adminToken) {
  const response = await fetch(base + path, {
    method,
    headers: { ...auth(token), 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

async function post(path, body) {
  const answer = await call('POST', path, body);
  check(answer.status < 300, `POST ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

async function until(condition, what, ms = 60000) {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    check(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100)); // a poll with a deadline
  }
}

/** A receiver: answers each request as `answer` says (a status, or null to never answer); keeps what it got. */
function receiver(answer) {
  const got = [];
  const server = http.createServer((request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      got.push({ headers: request.headers, body });
      const status = answer(request.headers['webhook-id'], got);
      if (status !== null) {
        response.writeHead(status, { 'Content-Type': 'text/plain' });
        response.end('thanks');
      }
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, got, url: `http://127.0.0.1:${server.address().port}/hook` })));
}

async function main() {
  const started = new Date(Date.now() - 1000).toISOString();
  const good = await receiver(() => 200);
  const tries = new Map();
  const flaky = await receiver((id) => {
    tries.set(id, (tries.get(id) || 0) + 1);
    return tries.get(id) <= 3 ? 503 : 200;
  });
  const silent = await receiver(() => null);
  const events = ['run.waiting', 'run.interrupt.answered', 'run.succeeded', 'run.failed', 'room.closed'];
  const subscribe = (url) => post('/v1/webhooks', { url, events, projects: ['project:hooks/*'] });
  const subscriptions = { good: await subscribe(good.url), flaky: await subscribe(flaky.url), silent: await subscribe(silent.url) };
  check(subscriptions.good.secret.startsWith('whsec_'), `secret: ${JSON.stringify(subscriptions.good)}`);
  const listed = await call('GET', '/v1/webhooks');
  check(listed.body.items.every((item) => item.secret === undefined), 'a listed subscription shows its secret');
  const refused = await call('POST', '/v1/webhooks', { url: good.url, events }, observerToken);
  check(refused.status === 403, `an observer subscribed: ${refused.status}`);
  const unknown = await call('POST', '/v1/webhooks', { url: good.url, events: ['run.exploded'] });
  check(unknown.status === 400, `an unknown event: ${unknown.status}`);

  // Two runs and a room of the project; one of another project nobody subscribed to.
  const one = (await post('/v1/runs?wait=applied', { project: 'project:hooks/a' })).runId;
  const two = (await post('/v1/runs?wait=applied', { project: 'project:hooks/b' })).runId;
  const other = (await post('/v1/runs?wait=applied', { project: 'project:elsewhere' })).runId;
  for (const run of [one, two, other]) await post(`/v1/runs/${run}/events?wait=applied`, { type: 'RunStarted' });
  await post(`/v1/runs/${one}/events?wait=applied`, {
    type: 'RunWaiting',
    waitingOn: { kind: 'approval', detail: 'deploy' },
    interrupts: [{ interruptId: 'deploy', reason: 'tool_approval', responseSchema: { type: 'boolean' } }],
  });
  await post(`/v1/runs/${one}/interrupts/deploy/answer`, { payload: true });
  await post(`/v1/runs/${one}/events?wait=applied`, { type: 'RunSucceeded', result: { summary: 'deployed' } });
  await post(`/v1/runs/${two}/events?wait=applied`, { type: 'RunFailed', failure: { code: 'E1', message: 'boom' } });
  await post(`/v1/runs/${other}/events?wait=applied`, { type: 'RunFailed', failure: { code: 'E1', message: 'boom' } });
  const { roomId: room } = await post('/v1/rooms?wait=applied', { kind: 'session', project: 'project:hooks/a' });
  await post(`/v1/rooms/${room}/events?wait=applied`, { type: 'RoomClosed' });
  const expected = 5; // waiting, answered, succeeded (one); failed (two); closed (the room)

  // The good receiver: each message once, verified, the run's in its order.
  await until(() => good.got.length >= expected, `${expected} deliveries to the good receiver (got ${good.got.length})`);
  const verifier = new Webhook(subscriptions.good.secret);
  const messages = good.got.map(({ headers, body }) => verifier.verify(body, headers));
  const wrong = new Webhook(subscriptions.flaky.secret);
  let forged = false;
  try {
    wrong.verify(good.got[0].body, good.got[0].headers);
  } catch (error) {
    forged = true;
  }
  check(forged, 'a delivery verified with another subscription\'s secret');
  const types = messages.map((m) => m.type);
  const runOne = messages.filter((m) => m.data.runId === one).map((m) => m.type);
  check(JSON.stringify(runOne) === JSON.stringify(['run.waiting', 'run.interrupt.answered', 'run.succeeded']), `run one: ${JSON.stringify(runOne)}`);
  check(JSON.stringify([...types].sort()) === JSON.stringify([...events].sort()), `types: ${JSON.stringify(types)}`);
  check(messages.every((m) => m.data.run === undefined || m.data.run.project.startsWith('project:hooks/')), 'another project was delivered');
  const answered = messages.find((m) => m.type === 'run.interrupt.answered');
  check(answered.data.interruptId === 'deploy' && answered.data.run.interrupts[0].payload === true, `answered: ${JSON.stringify(answered)}`);
  const ids = good.got.map((g) => g.headers['webhook-id']);
  check(new Set(ids).size === expected, `ids: ${ids}`);

  // The flaky one: each after three failed tries.
  await until(() => [...tries.values()].filter((n) => n === 4).length >= expected, `the flaky receiver's retries ${JSON.stringify([...tries.values()])}`);
  check(flaky.got.length === expected * 4, `flaky tries: ${flaky.got.length}`);

  // The silent one: every message dead-lettered after its tries, and the status says so.
  let status = null;
  await until(async () => {
    status = (await call('GET', `/v1/webhooks/${subscriptions.silent.webhookId}`)).body;
    return status.delivery.deadLettered >= expected;
  }, 'the dead letters');
  check(status.delivery.deadLetters.length === expected && status.delivery.deadLetters[0].attempts === 4, `dead letters: ${JSON.stringify(status.delivery)}`);
  check(status.delivery.deadLetters.every((d) => d.body && d.body.type), 'a dead letter without its body');
  check(silent.got.length === expected * 4, `silent tries: ${silent.got.length}`);

  // A replay: the good receiver gets it all again, with the same ids (a receiver that keeps ids sees repeats).
  const replay = await post(`/v1/webhooks/${subscriptions.good.webhookId}/replay`, { from: started });
  check(replay.notifications >= expected, `replay: ${JSON.stringify(replay)}`);
  await until(() => good.got.length >= 2 * expected, `the replay (got ${good.got.length})`);
  const again = good.got.slice(expected).map((g) => g.headers['webhook-id']);
  check(JSON.stringify([...again].sort()) === JSON.stringify([...ids].sort()), `replayed ids ${again} vs ${ids}`);
  good.got.slice(expected).forEach(({ headers, body }) => verifier.verify(body, headers));
  await until(async () => (await call('GET', `/v1/webhooks/${subscriptions.good.webhookId}`)).body.delivery.replayed >= expected, 'the replays counted');

  const deleted = await call('DELETE', `/v1/webhooks/${subscriptions.silent.webhookId}`);
  check(deleted.status === 204, `delete: ${deleted.status}`);
  check((await call('GET', `/v1/webhooks/${subscriptions.silent.webhookId}`)).status === 404, 'deleted, still there');

  for (const r of [good, flaky, silent]) r.server.closeAllConnections(), r.server.close();
  console.log(`ok ${expected} notifications: good ${good.got.length} (${expected} replayed), flaky ${flaky.got.length} tries, ` +
    `silent ${silent.got.length} tries, ${status.delivery.deadLettered} dead-lettered`);
}

main().catch((error) => {
  console.error(error && error.stack ? error.stack : String(error));
  process.exit(1);
});
