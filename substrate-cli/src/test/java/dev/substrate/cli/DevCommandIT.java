package dev.substrate.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.substrate.testing.KafkaCluster;
import dev.substrate.testing.TestRecords;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code substrate dev} as a user runs it: a child JVM started from the built jar, stopped with SIGTERM. */
@Timeout(240)
class DevCommandIT {

    private static final Duration STARTUP = Duration.ofSeconds(90);

    @TempDir
    Path dataDir;

    @Test
    void servesKafkaAndHttpAndKeepsRecordsAcrossARestart() throws Exception {
        String topic = "dev-restart";
        try (SubstrateProcess dev = startDev()) {
            String bootstrap = dev.awaitOutput("Kafka\\s+(\\S+)", STARTUP);
            String http = dev.awaitOutput("HTTP\\s+(\\S+)", STARTUP);
            dev.awaitOutput("Press Ctrl-C to stop", STARTUP);
            assertThat(dev.stdout()).anyMatch(line -> line.contains("new log dir"));
            assertThat(dev.stdout())
                    .anyMatch(line -> line.matches("\\s*Topics\\s+substrate\\.\\*\\s+\\(17 created\\)"));
            assertThat(dev.stdout()).anyMatch(line -> line.contains(dataDir.toString()));
            assertThat(dev.stdout())
                    .anyMatch(line -> line.contains("Fold")
                            && line.contains(dataDir.resolve("streams").toString()));

            assertThat(get(http + "/health")).isEqualTo("{\"status\":\"up\"}");
            String adminToken = Files.readString(dataDir.resolve("admin.token")).strip();
            assertThat(java.nio.file.attribute.PosixFilePermissions.toString(
                            Files.getPosixFilePermissions(dataDir.resolve("admin.token"))))
                    .isEqualTo("rw-------");
            // Nobody else enters the data directory: the broker's logs, the state and the secrets in it are the
            // owner's alone, however the broker creates its files.
            assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(dataDir)))
                    .isEqualTo("rwx------");
            assertThat(java.nio.file.attribute.PosixFilePermissions.toString(
                            Files.getPosixFilePermissions(dataDir.resolve("cluster.secret"))))
                    .isEqualTo("rw-------");
            // Reads answer 503 until the fold has started; then a run that does not exist is a 404.
            await().atMost(STARTUP).until(() -> status(http + "/ready", null) == 200);
            assertThat(status(http + "/v1/runs/none", adminToken)).isEqualTo(404);
            assertThat(status(http + "/v1/runs/none", null)).isEqualTo(401);
            // The printed console URL opens the console, signed in with the admin token.
            String console = dev.awaitOutput("Console\\s+(\\S+)", STARTUP);
            assertThat(console).isEqualTo(http + "/#token=" + adminToken);
            assertThat(get(console)).contains("<title>Substrate</title>").contains("/console/console.js");
            TestRecords.produce(cluster(bootstrap), topic, Map.of("before", "restart"));

            assertThat(dev.stop()).isEqualTo(SubstrateProcess.EXIT_ON_SIGTERM);
        }

        String adminToken = Files.readString(dataDir.resolve("admin.token")).strip();
        try (SubstrateProcess again = startDev()) {
            String bootstrap = again.awaitOutput("Kafka\\s+(\\S+)", STARTUP);
            String http = again.awaitOutput("HTTP\\s+(\\S+)", STARTUP);
            again.awaitOutput("Press Ctrl-C to stop", STARTUP);
            assertThat(Files.readString(dataDir.resolve("admin.token")).strip())
                    .as("the admin token, kept in Kafka, is the same after a restart")
                    .isEqualTo(adminToken);
            await().atMost(STARTUP).until(() -> status(http + "/ready", null) == 200);
            assertThat(status(http + "/v1/runs/none", adminToken)).isEqualTo(404);
            assertThat(again.stdout()).anyMatch(line -> line.contains("existing log dir reused"));
            assertThat(again.awaitOutput("Console\\s+(\\S+)", STARTUP))
                    .as("the console link signs in with the token on the first start alone")
                    .isEqualTo(http + "/");
            assertThat(again.stdout()).noneMatch(line -> line.contains(adminToken));
            assertThat(again.stdout()).anyMatch(line -> line.contains("Topics") && line.contains("all present"));

            assertThat(TestRecords.consume(cluster(bootstrap), topic, 1, Duration.ofSeconds(30)))
                    .containsExactlyEntriesOf(Map.of("before", "restart"));
            assertThat(again.stop()).isEqualTo(SubstrateProcess.EXIT_ON_SIGTERM);
        }
    }

    @Test
    void refusesAnInvalidPortWithAClearMessage() throws Exception {
        try (SubstrateProcess dev = SubstrateProcess.start(
                Map.of(), "dev", "--data-dir", dataDir.toString(), "--kafka-port", "0", "--http-port", "99999")) {
            assertThat(dev.awaitExit(Duration.ofSeconds(60))).isNotZero();
            assertThat(String.join("\n", dev.stderr())).contains("http.port").contains("99999");
        }
    }

    private SubstrateProcess startDev() {
        return SubstrateProcess.start(
                Map.of(), "dev", "--data-dir", dataDir.toString(), "--kafka-port", "0", "--http-port", "0");
    }

    static KafkaCluster cluster(String bootstrap) {
        return () -> bootstrap;
    }

    static int status(String url, String token) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return HttpClient.newHttpClient()
                .send(request.build(), HttpResponse.BodyHandlers.discarding())
                .statusCode();
    }

    static String get(String url) throws Exception {
        HttpClient client = HttpClient.newHttpClient();
        HttpResponse<String> response = client.send(
                HttpRequest.newBuilder(URI.create(url))
                        .timeout(Duration.ofSeconds(10))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as("status of GET " + url).isEqualTo(200);
        return response.body();
    }
}
