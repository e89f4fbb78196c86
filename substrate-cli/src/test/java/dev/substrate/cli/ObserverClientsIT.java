package dev.substrate.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.LoggerFactory;

/**
 * Front ends follow a room with the clients they already have, not ours, against one real {@code substrate dev}: the
 * {@code ws} package over the room's WebSocket (session events), the Vercel AI SDK's own {@code DefaultChatTransport}
 * and {@code readUIMessageStream} over its UI message stream, and ElectricSQL's {@code @durable-streams/client} over
 * its Durable Streams reads; and webhook receivers checking every delivery with the Standard Webhooks library ({@code
 * standardwebhooks}); and an AI SDK app's OpenTelemetry telemetry, sent by OpenTelemetry's own OTLP exporters. Each script in {@code src/test/node} says what it drives; each observer covers a non-member
 * (403), a token of another project (404), a 2 MB block and 100 observers of one room. Skipped, saying so, without Node or
 * the packages ({@code .ci/run} installs them).
 */
@Timeout(300)
class ObserverClientsIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path NODE_DIR = Path.of(System.getProperty("substrate.test.node.dir", "src/test/node"));

    @TempDir
    static Path dataDir;

    private static SubstrateProcess dev;
    private static String url;
    private static final List<String> tokens = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        Assumptions.assumeTrue(TestPrograms.onPath("node"), "node is not installed");
        for (String module : List.of("ws", "ai", "@durable-streams/client")) {
            Assumptions.assumeTrue(
                    Files.isDirectory(NODE_DIR.resolve("node_modules").resolve(module)),
                    module + " is not installed: npm install --no-package-lock in " + NODE_DIR);
        }
        // Heartbeats (WebSocket pings) every second and 3-second long polls, so that both are seen in a short test.
        dev = SubstrateProcess.start(
                Map.of(),
                "dev",
                "--data-dir",
                dataDir.toString(),
                "--kafka-port",
                "0",
                "--http-port",
                "0",
                "-c",
                "stream.heartbeat.ms=1000",
                "-c",
                "stream.long.poll.ms=3000",
                // Webhook receivers on loopback, four tries each, retried within a second, a silent one given up on
                // after half a second.
                "-c",
                "webhooks.allow.private=true",
                "-c",
                "webhooks.max.attempts=4",
                "-c",
                "webhooks.retry.initial.ms=100",
                "-c",
                "webhooks.retry.max.ms=400",
                "-c",
                "webhooks.timeout.ms=500");
        url = dev.awaitOutput("HTTP\\s+(\\S+)", Duration.ofSeconds(120));
        String admin = Files.readString(dataDir.resolve("admin.token")).strip();
        await().atMost(Duration.ofSeconds(90)).until(() -> DevCommandIT.status(url + "/ready", null) == 200);
        tokens.add(token(admin, "svc:owner", "service", null));
        tokens.add(token(admin, "svc:outsider", "service", null));
        tokens.add(token(admin, "svc:owner", "service", "project:other/*"));
        tokens.add(token(admin, "svc:reader", "observer", null));
        tokens.add(admin);
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (dev != null) {
            assertThat(dev.stop()).isEqualTo(SubstrateProcess.EXIT_ON_SIGTERM);
        }
    }

    @Test
    void aWebSocketClientFollowsTheSessionEventsAndResumesFromACursor() throws Exception {
        assertThat(runScript("ws-check.js")).contains("observers=100");
    }

    @Test
    void theAiSdkResumesTheActiveTurnAndAssemblesTheTranscriptsMessage() throws Exception {
        assertThat(runScript("ai-sdk-check.js")).contains("observers=100");
    }

    @Test
    void theDurableStreamsClientCatchesUpLongPollsAndFollowsOverSse() throws Exception {
        assertThat(runScript("durable-streams-check.js")).contains("observers=100");
    }

    @Test
    void webhooksReachAStandardWebhooksVerifierWithRetriesDeadLettersAndAReplay() throws Exception {
        Assumptions.assumeTrue(
                Files.isDirectory(NODE_DIR.resolve("node_modules/standardwebhooks")),
                "standardwebhooks is not installed: npm install --no-package-lock in " + NODE_DIR);
        assertThat(runScript("webhooks-check.js")).contains("dead-lettered");
    }

    /**
     * An AI SDK app with its telemetry on (OpenTelemetry's SDK and OTLP exporter, as its docs set them up) appears in
     * Substrate with no code for it: the agent's call a run inside the service's trace, the trace a session room, each
     * model call a turn with its input, output and usage, the tool's execution a tool_use and tool_result pair; its
     * usage summed by run once. Over OTLP/HTTP JSON with the whole trace in one export, and over protobuf with each
     * span exported alone, children first.
     */
    @ParameterizedTest
    @ValueSource(strings = {"json", "proto"})
    void anAiSdkAppWithTelemetryOnAppearsAsARunWithItsTurnsToolAndUsage(String protocol) throws Exception {
        Assumptions.assumeTrue(
                Files.isDirectory(NODE_DIR.resolve("node_modules/@opentelemetry/exporter-trace-otlp-proto")),
                "OpenTelemetry's exporters are not installed: npm install --no-package-lock in " + NODE_DIR);
        String project = "project:otel-" + protocol;
        String service = tokens.get(0);
        Path output = Files.createTempFile("otlp-", ".out");
        Process node = new ProcessBuilder(
                        "node", "otlp-check.js", url + "/v1/otlp/v1/traces", service, protocol, project)
                .directory(NODE_DIR.toFile())
                .redirectErrorStream(true)
                .redirectOutput(output.toFile())
                .start();
        assertThat(node.waitFor(120, TimeUnit.SECONDS)).isTrue();
        String printed = Files.readString(output, StandardCharsets.UTF_8);
        assertThat(node.exitValue()).as(printed).isZero();
        JsonNode produced =
                JSON.readTree(printed.strip().lines().reduce((a, b) -> b).orElseThrow());
        String traceId = produced.path("traceId").asText();
        String admin = tokens.get(tokens.size() - 1);

        // The export's spans arrive as separate requests: the run is listed once created, and succeeds when the
        // agent's span has come too.
        JsonNode runs = await().atMost(Duration.ofSeconds(30))
                .until(
                        () -> get("/v1/runs?project=" + project, admin).path("items"),
                        items -> items.size() == 1
                                && items.get(0).path("status").asText().equals("succeeded"));
        JsonNode run = runs.get(0);
        String runId = run.path("runId").asText();
        String roomId = "otel." + traceId;
        assertThat(runId).startsWith("otel." + traceId + ".");
        assertThat(run.path("status").asText()).isEqualTo("succeeded");
        assertThat(run.path("sessionRoomId").asText()).isEqualTo(roomId);
        assertThat(run.path("result").path("summary").asText())
                .isEqualTo(produced.path("text").asText());
        assertThat(run.path("labels").path("agent").asText()).isEqualTo("weather-agent");
        assertThat(run.path("labels").path("otel.service").asText()).isEqualTo("weather-service");
        // Inside the service's trace: its creation carries the trace and the service's own span as the parent.
        JsonNode created =
                get("/v1/runs/" + runId + "/events", admin).path("items").get(0);
        assertThat(created.path("correlation").path("traceparent").asText())
                .isEqualTo(
                        "00-" + traceId + "-" + produced.path("requestSpanId").asText() + "-01");

        JsonNode room = get("/v1/rooms/" + roomId, admin);
        if (protocol.equals("json")) {
            assertThat(room.path("runId").asText()).isEqualTo(runId);
        } else {
            // Span by span, exports race: when the tool's came first, it created the room before any span said whose
            // it is. Either way the run names its room (sessionRoomId above) and the calls' usage names the run.
            assertThat(room.path("runId").asText()).isIn(runId, "null");
        }
        assertThat(room.path("project").asText()).isEqualTo(project);
        JsonNode transcript = await().atMost(Duration.ofSeconds(30))
                .until(
                        () -> get("/v1/rooms/" + roomId + "/transcript", admin).path("items"),
                        items -> items.size() == 8);
        List<String> blocks = new ArrayList<>();
        List<String> turns = new ArrayList<>();
        for (JsonNode entry : transcript) {
            if (entry.path("kind").asText().equals("block")) {
                blocks.add(entry.path("subtype").asText() + " "
                        + entry.path("role").asText() + " "
                        + entry.path("metadata").path("toolName").asText("-") + " "
                        + entry.path("text").asText());
            } else if (entry.path("kind").asText().equals("turn_ended")) {
                JsonNode usage = entry.path("usage");
                turns.add(entry.path("subtype").asText() + " "
                        + usage.path("provider").asText() + "/"
                        + usage.path("model").asText() + " "
                        + usage.path("inputTokens").asLong() + " "
                        + usage.path("cachedInputTokens").asLong() + " "
                        + usage.path("outputTokens").asLong() + " "
                        + usage.path("reasoningTokens").asLong());
            }
        }
        String toolResult = JSON.writeValueAsString(produced.path("toolResults").get(0));
        List<String> expectedBlocks = List.of(
                "text user - What is the weather in Lisbon?",
                "tool_use assistant weather {\"city\":\"Lisbon\"}",
                "tool_result tool weather " + toolResult,
                "text assistant - " + produced.path("text").asText());
        List<String> expectedTurns = List.of(
                "tool-calls mock-provider/mock-model-id 120 20 15 5", "stop mock-provider/mock-model-id 160 100 12 0");
        if (protocol.equals("json")) {
            // The whole trace in one export: the room in the order things happened.
            assertThat(blocks).containsExactlyElementsOf(expectedBlocks);
            assertThat(turns).containsExactlyElementsOf(expectedTurns);
        } else {
            // Each span alone, children before parents: the same entries, in the order they arrived.
            assertThat(blocks).containsExactlyInAnyOrderElementsOf(expectedBlocks);
            assertThat(turns).containsExactlyInAnyOrderElementsOf(expectedTurns);
        }

        // Usage by run, counted once (the agent's total is the sum of its calls'), equal to what the AI SDK summed.
        JsonNode usage = get("/v1/usage?groupBy=run&project=" + project, admin).path("groups");
        JsonNode total = produced.path("totalUsage");
        assertThat(usage).hasSize(1);
        assertThat(usage.get(0).path("key").asText()).isEqualTo(runId);
        assertThat(usage.get(0).path("events").asLong()).isEqualTo(2);
        assertThat(usage.get(0).path("inputTokens").asLong())
                .isEqualTo(total.path("inputTokens").asLong());
        assertThat(usage.get(0).path("outputTokens").asLong())
                .isEqualTo(total.path("outputTokens").asLong());
        assertThat(usage.get(0).path("cachedInputTokens").asLong())
                .isEqualTo(total.path("cachedInputTokens").asLong());
        assertThat(usage.get(0).path("reasoningTokens").asLong())
                .isEqualTo(total.path("reasoningTokens").asLong());
    }

    private static JsonNode get(String path, String token) throws Exception {
        HttpResponse<String> answer = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create(url + path))
                                .header("Authorization", "Bearer " + token)
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(answer.statusCode()).as(path + ": " + answer.body()).isEqualTo(200);
        return JSON.readTree(answer.body());
    }

    /** Runs one check against the instance; its output, once it exited 0. */
    private static String runScript(String script) throws Exception {
        Path output = Files.createTempFile("observer-", ".out");
        List<String> command = new ArrayList<>(List.of("node", script, url));
        command.addAll(tokens);
        Process node = new ProcessBuilder(command)
                .directory(NODE_DIR.toFile())
                .redirectErrorStream(true)
                .redirectOutput(output.toFile())
                .start();
        assertThat(node.waitFor(240, TimeUnit.SECONDS)).as(script + " finished").isTrue();
        String text = Files.readString(output, StandardCharsets.UTF_8);
        assertThat(node.exitValue()).as(text).isZero();
        assertThat(text).contains("ok ");
        LoggerFactory.getLogger(ObserverClientsIT.class).info("{}: {}", script, text.strip());
        return text;
    }

    private static String token(String admin, String principal, String role, String project) throws Exception {
        Map<String, Object> body = project == null
                ? Map.of("principal", principal, "roles", List.of(role))
                : Map.of("principal", principal, "roles", List.of(role), "projects", List.of(project));
        HttpResponse<String> created = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create(url + "/v1/tokens"))
                                .header("Authorization", "Bearer " + admin)
                                .header("Content-Type", "application/json")
                                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        return JSON.readTree(created.body()).get("token").asText();
    }
}
