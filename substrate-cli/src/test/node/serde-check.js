// Reads and writes Substrate's run log with a Confluent-format serde that is not Substrate's own:
// kafkajs' @kafkajs/confluent-schema-registry (avsc underneath), as a TypeScript or JavaScript service would.
//
//   node serde-check.js REGISTRY_URL SUBJECT RECORD_HEX NEW_RUN_ID
//
// Decodes RECORD_HEX (a record Substrate wrote), prints it as JSON, then writes two new events for NEW_RUN_ID,
// built here from the decoded one and from nothing (a RunCreated and a RunStarted), with the subject's latest
// schema id, and prints each as hex. One line each: "decoded <json>", "encoded <hex>".
const { SchemaRegistry } = require('@kafkajs/confluent-schema-registry');
const crypto = require('crypto');

async function main() {
  const [url, subject, recordHex, runId] = process.argv.slice(2);
  const registry = new SchemaRegistry({ host: url });

  const decoded = await registry.decode(Buffer.from(recordHex, 'hex'));
  console.log('decoded ' + JSON.stringify(decoded));

  const id = await registry.getLatestSchemaId(subject);
  const now = Date.now();
  const created = {
    ...decoded,
    eventId: crypto.randomUUID(),
    runId: runId,
    occurredAt: now,
    actor: 'svc:node',
  };
  const createdPayload = created.payload['dev.substrate.events.run.RunCreated'];
  createdPayload.labels = { 'written.by': 'kafkajs' };
  const started = {
    eventId: crypto.randomUUID(),
    runId: runId,
    occurredAt: now + 1,
    actor: 'svc:node',
    correlation: decoded.correlation,
    expectedVersion: null,
    payload: { 'dev.substrate.events.run.RunStarted': { where: null } },
  };
  for (const event of [created, started]) {
    const encoded = await registry.encode(id, event);
    console.log('encoded ' + encoded.toString('hex'));
  }
}

main().catch((error) => {
  console.error(error && error.stack ? error.stack : String(error));
  process.exit(1);
});
