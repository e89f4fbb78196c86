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

/** The operator commands against a real {@code substrate dev}: tables, JSON, and errors as messages. */
@Timeout(240)
class OperatorCliIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dataDir;

    private static SubstrateProcess dev;
    private static String url;
    private static String token;
    private static String kafka;

    @BeforeAll
    static void startDevAndAddData() throws Exception {
        dev = SubstrateProcess.start(
                Map.of(), "dev", "--data-dir", dataDir.toString(), "--kafka-port", "0", "--http-port", "0");
        url = dev.awaitOutput("HTTP\\s+(\\S+)", Duration.ofSeconds(90));
        kafka = dev.awaitOutput("Kafka\\s+(\\S+)", Duration.ofSeconds(10));
        token = Files.readString(dataDir.resolve("admin.token")).strip();
        await().atMost(Duration.ofSeconds(90)).until(() -> DevCommandIT.status(url + "/ready", null) == 200);

        post("/v1/runs?wait=applied", """
                {"runId": "run-cli-1", "scope": "shared", "project": "project:cli",
                 "activation": {"surface": "operator", "actor": "alice"}}""");
        post("/v1/runs/run-cli-1/events?wait=applied", "{\"type\": \"RunStarted\"}");
        post(
                "/v1/rooms?wait=applied",
                "{\"roomId\": \"room-cli-1\", \"kind\": \"session\", \"project\": \"p:cli\", "
                        + "\"runId\": \"run-cli-1\"}");
        post("/v1/rooms/room-cli-1/events", "{\"type\": \"BlockStarted\", \"blockId\": \"b1\", \"kind\": \"text\"}");
        post("/v1/rooms/room-cli-1/events", "{\"type\": \"TextDelta\", \"blockId\": \"b1\", \"text\": \"all green\"}");
        post("/v1/rooms/room-cli-1/events?wait=applied", "{\"type\": \"BlockCompleted\", \"blockId\": \"b1\"}");
        post("/v1/artifacts?wait=applied", """
                {"artifactId": "artifact-cli-1", "kind": "build_log", "name": "CI log", "parentId": "project:cli",
                 "locator": "https://ci.example.com/logs/1", "provenance": {"runId": "run-cli-1"}}""");
    }

    @AfterAll
    static void stopDev() throws Exception {
        if (dev != null) {
            dev.stop();
            dev.close();
        }
    }

    @Test
    void listsAndShowsRunsAsATableAndAsJson() throws Exception {
        CliRun list = cli("runs", "list", "--project", "project:cli");
        assertThat(list.exitCode()).isZero();
        assertThat(list.out().lines().toList()).hasSize(2);
        assertThat(list.out()).contains("RUN ID").contains("run-cli-1").contains("running");

        CliRun show = cli("runs", "show", "run-cli-1", "--json");
        assertThat(JSON.readTree(show.out()).get("version").asInt()).isEqualTo(2);

        CliRun events = cli("runs", "events", "run-cli-1");
        assertThat(events.out()).contains("RunCreated").contains("RunStarted").contains("admin");
    }

    @Test
    void listsRoomsAndPrintsATranscript() {
        assertThat(cli("rooms", "list", "--run-id", "run-cli-1").out())
                .contains("room-cli-1")
                .contains("session");
        assertThat(cli("rooms", "transcript", "room-cli-1").out())
                .contains("block/text")
                .contains("all green");
        assertThat(cli("rooms", "show", "room-cli-1").out()).contains("counters");
    }

    @Test
    void listsArtifactsByRun() {
        CliRun list = cli("artifacts", "list", "--run-id", "run-cli-1");

        assertThat(list.out())
                .contains("artifact-cli-1")
                .contains("build_log")
                .contains("https://ci.example.com/logs/1");
    }

    @Test
    void downloadsAnArtifactsContentToAFile() throws Exception {
        post("/v1/artifacts?wait=applied", """
                {"artifactId": "artifact-cli-2", "kind": "file", "name": "report.txt", "parentId": "project:cli",
                 "provenance": {"runId": "run-cli-1"}}""");
        HttpResponse<String> stored = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create(url + "/v1/artifacts/artifact-cli-2/content?wait=applied"))
                                .header("Authorization", "Bearer " + token)
                                .header("Content-Type", "text/plain")
                                .PUT(HttpRequest.BodyPublishers.ofString("all 42 checks passed\n"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(stored.statusCode()).as(stored.body()).isEqualTo(200);

        Path file = dataDir.resolve("report.txt");
        CliRun get = cli("artifacts", "get", "artifact-cli-2", "-o", file.toString());
        assertThat(get.exitCode()).as(get.err()).isZero();
        assertThat(Files.readString(file)).isEqualTo("all 42 checks passed\n");
        assertThat(get.err()).contains("Wrote 21 bytes");

        CliRun noContent = cli(
                "artifacts",
                "get",
                "artifact-cli-1",
                "-o",
                dataDir.resolve("none").toString());
        assertThat(noContent.exitCode()).isEqualTo(1);
        assertThat(noContent.err()).contains("404").contains("https://ci.example.com/logs/1");
        assertThat(dataDir.resolve("none")).doesNotExist();
    }

    @Test
    void tailsARoomLiveFromItsStartOrACursorUntilItIsDeleted() throws Exception {
        post("/v1/rooms?wait=applied", "{\"roomId\": \"room-tail\", \"kind\": \"session\", \"project\": \"p:cli\"}");
        post("/v1/rooms/room-tail/events", "{\"type\": \"TurnStarted\", \"turnId\": \"t1\"}");
        post(
                "/v1/rooms/room-tail/events",
                "{\"type\": \"BlockStarted\", \"blockId\": \"b1\", \"kind\": \"text\", " + "\"role\": \"assistant\"}");
        post("/v1/rooms/room-tail/events", "{\"type\": \"TextDelta\", \"blockId\": \"b1\", \"text\": \"Hello, \"}");
        post("/v1/rooms/room-tail/events", "{\"type\": \"TextDelta\", \"blockId\": \"b1\", \"text\": \"world\"}");
        JsonNode completed = post("/v1/rooms/room-tail/events", "{\"type\": \"BlockCompleted\", \"blockId\": \"b1\"}");
        post("/v1/rooms/room-tail/events", "{\"type\": \"StatusChanged\", \"status\": \"ready\"}");
        post(
                "/v1/rooms/room-tail/events",
                "{\"type\": \"LogEmitted\", \"level\": \"warn\", \"message\": \"disk 91%\"}");
        post(
                "/v1/rooms/room-tail/events?wait=applied",
                "{\"type\": \"ErrorRaised\", \"code\": \"E1\", " + "\"message\": \"boom\"}");
        String position = new String(
                java.util.Base64.getUrlDecoder()
                        .decode(completed.get("position").asText()),
                java.nio.charset.StandardCharsets.UTF_8);
        String blockCompletedCursor = position.substring(position.lastIndexOf(':') + 1);

        var live = java.util.concurrent.CompletableFuture.supplyAsync(
                () -> cli("rooms", "tail", "room-tail", "--from", "now"));
        var fromStart = java.util.concurrent.CompletableFuture.supplyAsync(
                () -> cli("rooms", "tail", "room-tail")); // from the start by default, as the SSE stream
        var json = java.util.concurrent.CompletableFuture.supplyAsync(
                () -> cli("rooms", "tail", "room-tail", "--from", "start", "--json"));
        var fromCursor = java.util.concurrent.CompletableFuture.supplyAsync(
                () -> cli("rooms", "tail", "room-tail", "--cursor", blockCompletedCursor));
        await().atMost(Duration.ofSeconds(60)).until(() -> openStreams() == 4);
        post(
                "/v1/rooms/room-tail/events",
                "{\"type\": \"LogEmitted\", \"level\": \"info\", \"message\": \"live line\"}");
        post("/v1/rooms/room-tail/events", "{\"type\": \"RoomDeleted\"}");

        CliRun liveRun = live.get(60, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(liveRun.exitCode()).as(liveRun.err()).isZero();
        assertThat(liveRun.out())
                .contains("live line")
                .contains("The room was deleted.")
                .doesNotContain("Hello");

        CliRun all = fromStart.get(60, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(all.exitCode()).as(all.err()).isZero();
        assertThat(all.out())
                .contains("── turn t1 ──")
                .contains("assistant (text) Hello, world\n")
                .contains("● ready")
                .contains("warn  disk 91%")
                .contains("✖ E1: boom")
                .contains("info  live line")
                .doesNotContain("\u001b[");

        CliRun lines = json.get(60, java.util.concurrent.TimeUnit.SECONDS);
        List<String> types = new ArrayList<>();
        long previous = -1;
        for (String line : lines.out().lines().toList()) {
            JsonNode event = JSON.readTree(line);
            assertThat(event.get("cursor").asLong()).isGreaterThan(previous);
            previous = event.get("cursor").asLong();
            types.add(event.get("payload").get("type").asText());
        }
        assertThat(types)
                .containsExactly(
                        "RoomCreated",
                        "TurnStarted",
                        "BlockStarted",
                        "TextDelta",
                        "TextDelta",
                        "BlockCompleted",
                        "StatusChanged",
                        "LogEmitted",
                        "ErrorRaised",
                        "LogEmitted",
                        "RoomDeleted");

        CliRun resumed = fromCursor.get(60, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(resumed.out()).contains("● ready").doesNotContain("Hello");
    }

    private static long openStreams() throws Exception {
        String metrics = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create(url + "/metrics"))
                                .header("Authorization", "Bearer " + token)
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
        return metrics.lines()
                .filter(line -> line.startsWith("substrate_room_streams_open "))
                .mapToLong(line -> Long.parseLong(line.substring(line.indexOf(' ') + 1)))
                .findFirst()
                .orElse(-1);
    }

    @Test
    void reportsTheApisRefusalAsAMessageAndExitCode() {
        CliRun missing = cli("runs", "show", "no-such-run");
        assertThat(missing.exitCode()).isEqualTo(1);
        assertThat(missing.err()).contains("404").contains("no-such-run");

        CliRun unauthenticated = run("runs", "list", "--url", url, "--token", "sbt_wrong");
        assertThat(unauthenticated.exitCode()).isEqualTo(1);
        assertThat(unauthenticated.err()).contains("401");

        CliRun unreachable = run("runs", "list", "--url", "http://localhost:1", "--token", token);
        assertThat(unreachable.exitCode()).isEqualTo(1);
        assertThat(unreachable.err()).contains("Cannot reach Substrate at http://localhost:1");
    }

    @Test
    void mintsListsAndRevokesTokensThroughTheApiAndStraightInKafka() throws Exception {
        CliRun viaApi = cli("tokens", "create", "svc:cli", "-r", "service", "-p", "project:cli/*");
        assertThat(viaApi.exitCode()).as(viaApi.err()).isZero();
        String minted = viaApi.out().strip();
        assertThat(DevCommandIT.status(url + "/v1/runs", minted)).isEqualTo(200);

        CliRun viaKafka = run("tokens", "create", "svc:kafka", "-r", "observer", "--bootstrap-servers", kafka);
        assertThat(viaKafka.exitCode()).as(viaKafka.err()).isZero();
        String direct = viaKafka.out().strip();
        await().atMost(Duration.ofSeconds(2)).until(() -> DevCommandIT.status(url + "/v1/runs", direct) == 200);

        CliRun table = run("tokens", "list", "--bootstrap-servers", kafka);
        assertThat(table.out())
                .contains("TOKEN ID", "svc:cli", "project:cli/*", "svc:kafka")
                .doesNotContain(minted);
        JsonNode listed = JSON.readTree(cli("tokens", "list", "--json").out());
        String id = null;
        for (JsonNode item : listed.get("items")) {
            if (item.get("principal").asText().equals("svc:kafka")) {
                id = item.get("tokenId").asText();
            }
        }
        assertThat(id).isNotNull();
        assertThat(direct).contains(id);

        CliRun revoked = cli("tokens", "revoke", id);
        assertThat(revoked.exitCode()).as(revoked.err()).isZero();
        assertThat(DevCommandIT.status(url + "/v1/runs", direct)).isEqualTo(401);
        CliRun again = run("tokens", "revoke", id, "--bootstrap-servers", kafka);
        assertThat(again.exitCode()).isEqualTo(1);
        assertThat(again.err()).contains("No token " + id);
        CliRun refused = run("tokens", "list", "--url", url, "--token", minted);
        assertThat(refused.exitCode()).isEqualTo(1);
        assertThat(refused.err()).contains("403");
    }

    @Test
    void operatorsFilterCountAndActOnRunsSeeingTheFoldsDecision() throws Exception {
        // Over HTTP a project is enough: shared, activated by the token's principal; the wait starts when recorded.
        post("/v1/runs?wait=applied", """
                {"runId": "run-act-1", "project": "project:act", "correlationId": "corr-act"}""");
        post("/v1/runs?wait=applied", """
                {"runId": "run-act-2", "project": "project:act", "correlationId": "corr-other"}""");
        post("/v1/runs/run-act-1/events?wait=applied", "{\"type\": \"RunStarted\"}");
        post(
                "/v1/runs/run-act-1/events?wait=applied",
                "{\"type\": \"RunWaiting\", \"waitingOn\": {\"kind\": \"approval\", \"detail\": \"deploy?\"}}");

        CliRun filtered = cli("runs", "list", "--correlation-id", "corr-act", "--created-after", "1h");
        assertThat(filtered.exitCode()).as(filtered.err()).isZero();
        assertThat(filtered.out()).contains("run-act-1").doesNotContain("run-act-2");
        assertThat(cli("runs", "list", "--correlation-id", "corr-act", "--created-before", "1h")
                        .out())
                .doesNotContain("run-act-1");
        CliRun waiting = cli("runs", "list", "--project", "project:act", "--waiting-on", "approval", "--json");
        assertThat(JSON.readTree(waiting.out()).get("items")).hasSize(1);

        CliRun counted = cli("runs", "count", "--group-by", "status", "--project", "project:act");
        assertThat(counted.exitCode()).as(counted.err()).isZero();
        assertThat(counted.out())
                .containsPattern("waiting\\s+1")
                .containsPattern("queued\\s+1")
                .containsPattern("total\\s+2");
        assertThat(JSON.readTree(cli("runs", "count", "--group-by", "surface", "--project", "project:act", "--json")
                                .out())
                        .path("counts")
                        .path("automation")
                        .asInt())
                .isEqualTo(2);

        CliRun approved = cli("runs", "resume", "run-act-1", "--detail", "approved by the on-call", "--wait");
        assertThat(approved.exitCode()).as(approved.out() + approved.err()).isZero();
        assertThat(approved.out()).startsWith("applied: RunResumed to run run-act-1, now version 4, status running");
        CliRun again = cli("runs", "resume", "run-act-1", "--wait");
        assertThat(again.exitCode()).isEqualTo(3);
        assertThat(again.out()).startsWith("refused (illegal_transition): RunResumed to run run-act-1");

        assertThat(cli("runs", "label", "run-act-1", "--set", "team:web", "--wait")
                        .out())
                .startsWith("applied:");
        assertThat(cli("runs", "list", "--project", "project:act", "--label", "team:web")
                        .out())
                .contains("run-act-1")
                .doesNotContain("run-act-2");
        CliRun stale = cli("runs", "cancel", "run-act-1", "--expected-version", "2", "--wait");
        assertThat(stale.exitCode()).isEqualTo(3);
        assertThat(stale.out()).startsWith("refused (version_conflict)");
        CliRun succeeded = cli(
                "runs",
                "append",
                "run-act-1",
                "{\"type\": \"RunSucceeded\", \"result\": {\"summary\": \"shipped\"}}",
                "--wait");
        assertThat(succeeded.out())
                .as(succeeded.err())
                .startsWith("applied: RunSucceeded")
                .contains("status succeeded");
        assertThat(cli("runs", "cancel", "run-act-1", "--wait").exitCode()).isEqualTo(3);
        CliRun accepted = cli("runs", "cancel", "run-act-2", "--reason", "not needed");
        assertThat(accepted.exitCode()).isZero();
        assertThat(accepted.out()).startsWith("accepted: RunCancelled to run run-act-2");
        await().atMost(Duration.ofSeconds(10))
                .until(() -> JSON.readTree(
                                cli("runs", "show", "run-act-2", "--json").out())
                        .path("status")
                        .asText()
                        .equals("cancelled"));

        // Every action is the operator's own event on the log.
        assertThat(cli("runs", "events", "run-act-1").out())
                .contains("RunResumed")
                .contains("admin");
        CliRun bad = cli("runs", "append", "run-act-1", "not json");
        assertThat(bad.exitCode()).isEqualTo(2);
        assertThat(bad.err()).contains("EVENT is not JSON");
    }

    @Test
    void anOperatorAnswersARunsInterruptsFromTheCommandLine() throws Exception {
        post("/v1/runs?wait=applied", "{\"runId\": \"run-ask-1\", \"project\": \"project:ask\"}");
        post("/v1/runs/run-ask-1/events?wait=applied", "{\"type\": \"RunStarted\"}");
        post("/v1/runs/run-ask-1/events?wait=applied", """
                {"type": "RunWaiting", "waitingOn": {"kind": "approval", "detail": "deploy"},
                 "interrupts": [
                   {"interruptId": "deploy", "reason": "tool_approval",
                    "responseSchema": {"type": "object", "required": ["approved"],
                                       "properties": {"approved": {"type": "boolean"}}}},
                   {"interruptId": "budget", "reason": "input"}]}""");
        assertThat(cli("runs", "list", "--interrupt", "open", "--project", "project:ask")
                        .out())
                .contains("run-ask-1");

        CliRun wrong = cli("runs", "answer", "run-ask-1", "deploy", "--payload", "{\"approved\": \"sure\"}");
        assertThat(wrong.exitCode()).as(wrong.out() + wrong.err()).isEqualTo(3);
        assertThat(wrong.out()).startsWith("refused (invalid_answer)").contains("approved");
        CliRun approved =
                cli("runs", "answer", "run-ask-1", "deploy", "--resolve", "--payload", "{\"approved\": true}");
        assertThat(approved.exitCode()).as(approved.out() + approved.err()).isZero();
        assertThat(approved.out())
                .startsWith("answered: interrupt deploy of run run-ask-1 resolved; the run is now waiting");
        assertThat(cli("runs", "answer", "run-ask-1", "deploy", "--payload", "{\"approved\": true}")
                        .out())
                .startsWith("duplicate:");
        CliRun cancelled = cli("runs", "answer", "run-ask-1", "budget", "--cancel", "--answered-by", "carol");
        assertThat(cancelled.out())
                .startsWith("answered: interrupt budget of run run-ask-1 cancelled; the run is now running");
        CliRun late = cli("runs", "answer", "run-ask-1", "budget", "--resolve");
        assertThat(late.exitCode()).isEqualTo(3);
        assertThat(late.out()).startsWith("refused (interrupt_answered)");
        JsonNode run = JSON.readTree(cli("runs", "show", "run-ask-1", "--json").out());
        assertThat(run.path("interrupts").get(1).path("answeredBy").asText()).isEqualTo("carol");
        assertThat(cli("runs", "list", "--interrupt", "open", "--project", "project:ask")
                        .out())
                .doesNotContain("run-ask-1");
        assertThat(cli("runs", "answer", "run-ask-1", "x", "--payload", "{nope").exitCode())
                .isEqualTo(2);
    }

    @Test
    void anOperatorSubscribesListsShowsReplaysAndDeletesAWebhook() throws Exception {
        CliRun created = cli(
                "webhooks",
                "create",
                "http://192.0.2.10/hook",
                "-e",
                "run.waiting",
                "-e",
                "run.failed",
                "-p",
                "project:cli/*",
                "--json");
        assertThat(created.exitCode()).as(created.out() + created.err()).isZero();
        JsonNode subscription = JSON.readTree(created.out());
        String id = subscription.path("webhookId").asText();
        assertThat(subscription.path("secret").asText()).startsWith("whsec_");
        assertThat(cli("webhooks", "list").out()).contains(id).contains("run.waiting,run.failed");
        assertThat(cli("webhooks", "show", id).out()).contains("http://192.0.2.10/hook");
        CliRun replay = cli("webhooks", "replay", id, "--from", "2026-01-01T00:00:00Z");
        assertThat(replay.out()).startsWith("replaying to " + id);
        // dev allows private addresses (a developer's own receivers); a URL of another scheme is never taken.
        CliRun refused = cli("webhooks", "create", "ftp://192.0.2.10/hook", "-e", "run.failed");
        assertThat(refused.exitCode()).isEqualTo(1);
        assertThat(refused.err()).contains("http or https");
        assertThat(cli("webhooks", "delete", id).out()).startsWith("deleted webhook " + id);
        assertThat(cli("webhooks", "list").out()).doesNotContain(id);
    }

    @Test
    void operatorsGrantRevokeAppendToAndCloseRooms() throws Exception {
        post("/v1/rooms?wait=applied", """
                {"roomId": "room-act-1", "kind": "conversation", "project": "project:act",
                 "members": [{"principal": "admin", "role": "owner"}]}""");
        CliRun granted = cli("rooms", "grant", "room-act-1", "bob", "--role", "writer", "--wait");
        assertThat(granted.exitCode()).as(granted.out() + granted.err()).isZero();
        assertThat(granted.out())
                .startsWith("applied: MemberGranted to room room-act-1")
                .contains("open");
        assertThat(cli("rooms", "list", "--member", "bob").out()).contains("room-act-1");
        assertThat(cli("rooms", "revoke", "room-act-1", "bob", "--wait").out()).startsWith("applied: MemberRevoked");
        assertThat(cli("rooms", "list", "--member", "bob").out()).doesNotContain("room-act-1");
        CliRun logged = cli(
                "rooms",
                "append",
                "room-act-1",
                "{\"type\": \"LogEmitted\", \"level\": \"info\", \"message\": \"hi\"}",
                "--wait");
        assertThat(logged.out()).as(logged.err()).startsWith("applied: LogEmitted");
        CliRun closed = cli("rooms", "close", "room-act-1", "--reason", "done", "--wait");
        assertThat(closed.out())
                .startsWith("applied: RoomClosed to room room-act-1")
                .contains("closed");
        assertThat(cli("rooms", "list", "--project", "project:act", "--status", "closed")
                        .out())
                .contains("room-act-1");
        CliRun late = cli(
                "rooms",
                "append",
                "room-act-1",
                "{\"type\": \"LogEmitted\", \"level\": \"info\", \"message\": \"late\"}",
                "--wait");
        assertThat(late.exitCode()).isEqualTo(3);
        assertThat(late.out()).startsWith("refused (room_closed)");
    }

    private static CliRun cli(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--url", url, "--token", token));
        return run(all.toArray(String[]::new));
    }

    private static CliRun run(String... args) {
        return CliRun.of(args);
    }

    private static JsonNode post(String path, String body) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create(url + path))
                                .header("Authorization", "Bearer " + token)
                                .POST(HttpRequest.BodyPublishers.ofString(body))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isBetween(200, 202);
        return JSON.readTree(response.body());
    }
}
