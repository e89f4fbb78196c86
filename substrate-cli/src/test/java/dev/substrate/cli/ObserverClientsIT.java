package dev.substrate.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

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
import org.slf4j.LoggerFactory;

/**
 * Front ends follow a room with the clients they already have, not ours, against one real {@code substrate dev}: the
 * {@code ws} package over the room's WebSocket (session events), the Vercel AI SDK's own {@code DefaultChatTransport}
 * and {@code readUIMessageStream} over its UI message stream, and ElectricSQL's {@code @durable-streams/client} over
 * its Durable Streams reads; and webhook receivers checking every delivery with the Standard Webhooks library ({@code
 * standardwebhooks}). Each script in {@code src/test/node} says what it drives; each observer covers a non-member
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
