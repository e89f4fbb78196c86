package dev.substrate.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Local runs without a server, then {@code share} and {@code do} against a real {@code substrate dev}. */
@Timeout(300)
class LocalRunsCliIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    static Path dataDir;

    private static SubstrateProcess dev;
    private static String url;
    private static String bootstrap;
    private static String token;

    @BeforeAll
    static void startDev() throws Exception {
        dev = SubstrateProcess.start(
                Map.of(),
                "dev",
                "--data-dir",
                dataDir.resolve("dev").toString(),
                "--kafka-port",
                "0",
                "--http-port",
                "0");
        bootstrap = dev.awaitOutput("Kafka\\s+(\\S+)", Duration.ofSeconds(90));
        url = dev.awaitOutput("HTTP\\s+(\\S+)", Duration.ofSeconds(90));
        token = Files.readString(dataDir.resolve("dev/admin.token")).strip();
        await().atMost(Duration.ofSeconds(90)).until(() -> DevCommandIT.status(url + "/ready", null) == 200);
    }

    @AfterAll
    static void stopDev() throws Exception {
        if (dev != null) {
            dev.stop();
            dev.close();
        }
    }

    @Test
    void aLocalRunMovesThroughItsLifeWithoutAServer() throws Exception {
        String db = dataDir.resolve("alone.db").toString();
        CliRun created =
                run("local", "create", "--local-db", db, "--project", "project:acme/web", "--label", "task:T-1");
        assertThat(created.exitCode()).as(created.err()).isZero();
        String runId = created.out().strip();
        assertThat(runId).startsWith("run-");

        assertThat(run("local", "append", runId, "{\"type\": \"RunStarted\"}", "--local-db", db)
                        .out())
                .contains("running, version 2");
        CliRun refused = run("local", "append", runId, "{\"type\": \"RunStarted\"}", "--local-db", db);
        assertThat(refused.exitCode()).isEqualTo(1);
        assertThat(refused.err()).contains("illegal_transition");
        CliRun invalid = run("local", "append", runId, "{\"type\": \"RunFailed\", \"failure\": {}}", "--local-db", db);
        assertThat(invalid.exitCode()).isEqualTo(1);
        assertThat(invalid.err()).contains("failure");
        assertThat(run(
                                "local",
                                "append",
                                runId,
                                "{\"type\": \"RunSucceeded\", \"result\": {\"summary\": \"PR opened\"}}",
                                "--local-db",
                                db)
                        .out())
                .contains("succeeded, version 3");

        JsonNode listed =
                JSON.readTree(run("local", "list", "--json", "--local-db", db).out());
        assertThat(listed.get("items")).hasSize(1);
        assertThat(listed.get("items").get(0).get("status").asText()).isEqualTo("succeeded");
        assertThat(listed.get("items").get(0).get("scope").asText()).isEqualTo("local");
        assertThat(run("local", "list", "--local-db", db).out()).contains(runId).contains("succeeded");
        assertThat(JSON.readTree(run("local", "show", runId, "--json", "--local-db", db)
                                .out())
                        .get("labels")
                        .get("task")
                        .asText())
                .isEqualTo("T-1");
        assertThat(run("local", "events", runId, "--local-db", db).out())
                .contains("RunCreated")
                .contains("rejected (illegal_transition)")
                .contains("RunSucceeded");
        assertThat(run("local", "show", "run-missing", "--local-db", db).exitCode())
                .isEqualTo(1);
    }

    @Test
    void sharingTwiceYieldsEachEventOnceAndSharingWhileDownFailsCleanly() throws Exception {
        String db = dataDir.resolve("share.db").toString();
        String runId = run("local", "create", "--local-db", db).out().strip();
        run("local", "append", runId, "{\"type\": \"RunStarted\"}", "--local-db", db);
        run("local", "append", runId, "{\"type\": \"RunStarted\"}", "--local-db", db); // refused, not shared
        // More events than one chunk of the share (50), so that a share goes out in more than one.
        for (int i = 0; i < 60; i++) {
            run(
                    "local",
                    "append",
                    runId,
                    "{\"type\": \"RunLabelled\", \"labels\": {\"step\": \"" + i + "\"}}",
                    "--local-db",
                    db);
        }
        run(
                "local",
                "append",
                runId,
                "{\"type\": \"RunSucceeded\", \"result\": {\"summary\": \"done\"}}",
                "--local-db",
                db);
        String localBefore =
                run("local", "events", runId, "--json", "--local-db", db).out();
        List<String> applied = new ArrayList<>();
        JSON.readTree(localBefore).get("items").forEach(event -> {
            if (event.get("outcome").asText().equals("applied")) {
                applied.add(event.get("eventId").asText());
            }
        });

        CliRun down = run("share", runId, "--local-db", db, "--url", "http://localhost:1", "--token", token);
        assertThat(down.exitCode()).isEqualTo(1);
        assertThat(down.err()).contains("cannot share run " + runId).contains("local run is unchanged");
        assertThat(run("local", "events", runId, "--json", "--local-db", db).out())
                .isEqualTo(localBefore);
        assertThat(status("/v1/runs/" + runId)).isEqualTo(404);

        CliRun first = run("share", runId, "--local-db", db, "--url", url, "--token", token);
        assertThat(first.exitCode()).as(first.err()).isZero();
        assertThat(first.out()).contains("63 events, all in the substrate's history");
        CliRun again = run("share", runId, "--local-db", db, "--url", url, "--token", token);
        assertThat(again.exitCode()).as(again.err()).isZero();
        CliRun viaKafka = run("share", runId, "--local-db", db, "--bootstrap-servers", bootstrap);
        assertThat(viaKafka.exitCode()).as(viaKafka.err()).isZero();

        // The Kafka share is decided by the fold a moment later; the history never holds an event twice.
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            List<String> shared = new ArrayList<>();
            // One page holds the whole history (at most 1,000 events a page).
            JsonNode history = get("/v1/runs/" + runId + "/events?limit=1000");
            assertThat(history.hasNonNull("next")).isFalse();
            history.get("items").forEach(e -> shared.add(e.get("eventId").asText()));
            assertThat(shared).isEqualTo(applied);
        });
        JsonNode state = get("/v1/runs/" + runId);
        assertThat(state.get("scope").asText()).isEqualTo("local");
        assertThat(state.get("labels").get(ShareCommand.IMPORTED).asText()).isEqualTo("local");
        assertThat(state.get("status").asText()).isEqualTo("succeeded");
        assertThat(state.get("version").asInt()).isEqualTo(63);
    }

    @Test
    void doRecordsAFailingCommandAsAFailedSharedRunMirroredLocally() throws Exception {
        String db = dataDir.resolve("do.db").toString();
        CliRun failing = run(
                "do",
                "--local-db",
                db,
                "--url",
                url,
                "--token",
                token,
                "--project",
                "project:acme/ci",
                "--",
                "sh",
                "-c",
                "echo compiling; echo 'error: cannot find symbol' >&2; exit 3");
        assertThat(failing.exitCode()).isEqualTo(3);
        assertThat(failing.err()).contains("error: cannot find symbol").contains("failed (exit 3)");
        String runId = JSON.readTree(
                        run("local", "list", "--json", "--local-db", db).out())
                .get("items")
                .get(0)
                .get("runId")
                .asText();

        // do returns once Kafka has the events; the fold applies them a moment later.
        await().atMost(Duration.ofSeconds(30))
                .until(() -> status("/v1/runs/" + runId) == 200
                        && get("/v1/runs/" + runId).get("status").asText().equals("failed"));
        JsonNode shared = get("/v1/runs/" + runId);
        assertThat(shared.get("scope").asText()).isEqualTo("shared");
        assertThat(shared.get("project").asText()).isEqualTo("project:acme/ci");
        assertThat(shared.get("failure").get("code").asText()).isEqualTo("exit_3");
        assertThat(shared.get("failure").get("detail").asText()).contains("error: cannot find symbol");
        assertThat(shared.get("labels").has("do.pid"))
                .as("finer events stay local")
                .isFalse();

        JsonNode mirror = JSON.readTree(
                run("local", "show", runId, "--json", "--local-db", db).out());
        assertThat(mirror.get("status").asText()).isEqualTo("failed");
        assertThat(mirror.get("labels").has("do.pid")).isTrue();
        assertThat(mirror.get("failure").get("code").asText()).isEqualTo("exit_3");

        CliRun succeeding = run("do", "--local-db", db, "--url", url, "--token", token, "--", "true");
        assertThat(succeeding.exitCode()).as(succeeding.err()).isZero();
        CliRun notFound = run("do", "--local-db", db, "--url", url, "--token", token, "--", "no-such-command-here");
        assertThat(notFound.exitCode()).isEqualTo(127);
        CliRun unreachable = run("do", "--local-db", db, "--url", "http://localhost:1", "--", "true");
        assertThat(unreachable.exitCode()).isEqualTo(125);
        assertThat(unreachable.err()).contains("The command was not run");
    }

    private static CliRun run(String... args) {
        return CliRun.of(args);
    }

    private static int status(String path) throws Exception {
        return HTTP.send(request(path), HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    private static JsonNode get(String path) throws Exception {
        HttpResponse<String> answer = HTTP.send(request(path), HttpResponse.BodyHandlers.ofString());
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        return JSON.readTree(answer.body());
    }

    private static HttpRequest request(String path) {
        return HttpRequest.newBuilder(URI.create(url + path))
                .header("Authorization", "Bearer " + token)
                .build();
    }
}
