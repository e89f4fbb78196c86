// Runs a Vercel AI SDK agent with its OpenTelemetry telemetry on, exported by OpenTelemetry's own SDK and OTLP
// exporter to Substrate: no code written for Substrate. The model is the AI SDK's mock (ai/test): two steps, the first
// calling a tool, the second answering in text, each reporting its usage.
//
//   node otlp-check.js TRACES_URL TOKEN json|proto PROJECT
//
// The agent runs inside a span of the "service" (its request handler), so the AI SDK's spans sit in the service's
// trace. With json, the spans go as the SDK's BatchSpanProcessor sends them (the whole trace in one export); with
// proto, as its SimpleSpanProcessor does (each span alone, children before their parents). Prints one JSON line with
// what the mock produced and the ids of the trace, then exits 0; 1 when an export failed or anything else did.
const api = require('@opentelemetry/api');
const { NodeTracerProvider, SimpleSpanProcessor, BatchSpanProcessor } = require('@opentelemetry/sdk-trace-node');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { OTLPTraceExporter: JsonExporter } = require('@opentelemetry/exporter-trace-otlp-http');
const { OTLPTraceExporter: ProtoExporter } = require('@opentelemetry/exporter-trace-otlp-proto');
const { streamText, tool, stepCountIs, simulateReadableStream, jsonSchema } = require('ai');
const { MockLanguageModelV3 } = require('ai/test');

const [url, token, protocol, project] = process.argv.slice(2);

function usage(input, cached, output, reasoning) {
  return {
    inputTokens: { total: input, noCache: input - cached, cacheRead: cached, cacheWrite: 0 },
    outputTokens: { total: output, text: output - reasoning, reasoning },
  };
}

const STEPS = [
  {
    chunks: [
      { type: 'stream-start', warnings: [] },
      { type: 'response-metadata', id: 'resp-1', modelId: 'mock-model-id', timestamp: new Date(0) },
      { type: 'tool-call', toolCallId: 'call-1', toolName: 'weather', input: '{"city":"Lisbon"}' },
      { type: 'finish', finishReason: { unified: 'tool-calls', raw: 'tool_calls' }, usage: usage(120, 20, 15, 5) },
    ],
  },
  {
    chunks: [
      { type: 'stream-start', warnings: [] },
      { type: 'response-metadata', id: 'resp-2', modelId: 'mock-model-id', timestamp: new Date(0) },
      { type: 'text-start', id: 't1' },
      { type: 'text-delta', id: 't1', delta: 'It is sunny ' },
      { type: 'text-delta', id: 't1', delta: 'in Lisbon, 24 °C.' },
      { type: 'text-end', id: 't1' },
      { type: 'finish', finishReason: { unified: 'stop', raw: 'stop' }, usage: usage(160, 100, 12, 0) },
    ],
  },
];

async function main() {
  const headers = { Authorization: `Bearer ${token}` };
  const otlp = protocol === 'proto' ? new ProtoExporter({ url, headers }) : new JsonExporter({ url, headers });
  // The exporter, with each export's result kept: an export Substrate refused fails the check.
  const failures = [];
  const exporter = {
    export: (spans, done) => otlp.export(spans, (result) => {
      if (result.code !== 0) failures.push(String(result.error && result.error.message));
      done(result);
    }),
    shutdown: () => otlp.shutdown(),
    forceFlush: () => otlp.forceFlush(),
  };
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'weather-service', 'substrate.project': project }),
    spanProcessors: [protocol === 'proto' ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter)],
  });
  provider.register();
  const tracer = api.trace.getTracer('weather-service');

  let step = 0;
  const model = new MockLanguageModelV3({
    doStream: async () => ({ stream: simulateReadableStream({ chunks: STEPS[step++].chunks }) }),
  });
  const toolResults = [];
  const result = await tracer.startActiveSpan('POST /chat', async (request) => {
    try {
      const answer = streamText({
        model,
        prompt: 'What is the weather in Lisbon?',
        tools: {
          weather: tool({
            description: 'The weather in a city',
            inputSchema: jsonSchema({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }),
            execute: async ({ city }) => {
              const found = { city, sky: 'sunny', celsius: 24 };
              toolResults.push(found);
              return found;
            },
          }),
        },
        stopWhen: stepCountIs(2),
        experimental_telemetry: { isEnabled: true, functionId: 'weather-agent' },
      });
      const text = await answer.text;
      const total = await answer.totalUsage;
      return {
        text,
        totalUsage: total,
        traceId: request.spanContext().traceId,
        requestSpanId: request.spanContext().spanId,
      };
    } finally {
      request.end();
    }
  });
  await provider.forceFlush();
  await provider.shutdown();
  if (failures.length > 0) throw new Error(`exports failed: ${failures.join('; ')}`);
  console.log(JSON.stringify({ ...result, toolResults, steps: step }));
}

main().catch((e) => {
  console.error('failed:', e && e.stack ? e.stack : e);
  process.exit(1);
});
