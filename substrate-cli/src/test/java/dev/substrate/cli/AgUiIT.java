package dev.substrate.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
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
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * An agent UI's own client follows a room: {@code @ag-ui/client}'s {@code HttpAgent}, against a real {@code substrate
 * dev}, every event checked with {@code @ag-ui/core}'s schemas ({@code src/test/node/ag-ui-check.js} says what it
 * drives). Skipped, saying so, without Node or the packages ({@code .ci/run} installs them).
 */
@Timeout(300)
class AgUiIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path NODE_DIR = Path.of(System.getProperty("substrate.test.node.dir", "src/test/node"));

    @TempDir
    Path dataDir;

    @Test
    void anAgUiClientFollowsASessionLiveAfterTheFactAndOnResume() throws Exception {
        assumeThat(TestPrograms.onPath("node")).as("node is not installed").isTrue();
        assumeThat(Files.isDirectory(NODE_DIR.resolve("node_modules/@ag-ui/client")))
                .as("@ag-ui/client is not installed: npm install --no-package-lock in " + NODE_DIR)
                .isTrue();
        try (SubstrateProcess dev = SubstrateProcess.start(
                Map.of(), "dev", "--data-dir", dataDir.toString(), "--kafka-port", "0", "--http-port", "0")) {
            String url = dev.awaitOutput("HTTP\\s+(\\S+)", Duration.ofSeconds(120));
            String admin = Files.readString(dataDir.resolve("admin.token")).strip();
            await().atMost(Duration.ofSeconds(90)).until(() -> DevCommandIT.status(url + "/ready", null) == 200);
            String owner = token(url, admin, "svc:owner");
            String outsider = token(url, admin, "svc:outsider");

            Path output = Files.createTempFile("ag-ui-", ".out");
            Process node = new ProcessBuilder("node", "ag-ui-check.js", url, owner, outsider)
                    .directory(NODE_DIR.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(output.toFile())
                    .start();
            assertThat(node.waitFor(180, TimeUnit.SECONDS)).isTrue();
            String text = Files.readString(output, StandardCharsets.UTF_8);
            assertThat(node.exitValue()).as(text).isZero();
            assertThat(text).contains("ok ");
            LoggerFactory.getLogger(AgUiIT.class).info("ag-ui-check.js: {}", text.strip());

            // The CLI prints the same view as JSON lines: the closed room's snapshot, then RUN_FINISHED.
            String roomId = text.replaceAll("(?s).*ok room=(\\S+).*", "$1");
            CliRun tail = CliRun.of("rooms", "tail", roomId, "--ag-ui", "--url", url, "--token", owner);
            assertThat(tail.exitCode()).as(tail.err()).isZero();
            List<String> lines = tail.out().lines().toList();
            assertThat(JSON.readTree(lines.get(0)).get("type").asText()).isEqualTo("RUN_STARTED");
            assertThat(JSON.readTree(lines.get(1)).get("messages")).hasSize(4);
            assertThat(JSON.readTree(lines.get(lines.size() - 1)).get("type").asText())
                    .isEqualTo("RUN_FINISHED");

            assertThat(dev.stop()).isEqualTo(SubstrateProcess.EXIT_ON_SIGTERM);
        }
    }

    private static String token(String url, String admin, String principal) throws Exception {
        HttpResponse<String> created = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create(url + "/v1/tokens"))
                                .header("Authorization", "Bearer " + admin)
                                .header("Content-Type", "application/json")
                                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(
                                        Map.of("principal", principal, "roles", List.of("service")))))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        return JSON.readTree(created.body()).get("token").asText();
    }
}
