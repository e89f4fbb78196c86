package dev.substrate.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.substrate.api.auth.Role;
import dev.substrate.api.auth.TokenFile;
import dev.substrate.testing.KafkaCluster;
import dev.substrate.testing.SharedKafka;
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
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The HTTP API over a real broker and a running fold: appends, reads, and refusals of bad input. */
@ExtendWith(SharedKafka.class)
@Timeout(180)
class HttpApiIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private static ApiInstance instance;
    private static HttpApi api;

    @TempDir
    static Path dataDir;

    private static String adminToken;
    private static String operatorToken;
    private static String serviceToken;
    private static String observerToken;

    @BeforeAll
    static void start(KafkaCluster kafka) throws Exception {
        TokenFile tokens = new TokenFile(dataDir.resolve("tokens.json"));
        adminToken = tokens.create("admin", Set.of(Role.ADMIN));
        operatorToken = tokens.create("ops", Set.of(Role.OPERATOR));
        serviceToken = tokens.create("svc:runner", Set.of(Role.SERVICE));
        observerToken = tokens.create("watcher", Set.of(Role.OBSERVER));
        instance = ApiInstance.startReady(
                kafka, "api", dataDir, tokens, "blob.max.bytes", "1024", "retention.check.interval.ms", "500");
        api = instance.api;
    }

    @AfterAll
    static void stop() {
        if (instance != null) {
            instance.close();
        }
    }

    @Test
    void openApiDocumentsEveryRouteAndNothingElse() throws Exception {
        HttpResponse<String> answer = HTTP.send(
                HttpRequest.newBuilder(URI.create(api.baseUrl() + "/openapi.json"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(answer.statusCode()).isEqualTo(200);
        JsonNode document = JSON.readTree(answer.body());
        JsonNode paths = document.get("paths");
        // Each route with the query parameters it documents, $refs resolved: exactly those it takes.
        java.util.Set<String> documented = new java.util.TreeSet<>();
        paths.properties()
                .forEach(path -> path.getValue().properties().forEach(operation -> {
                    java.util.Set<String> params = new java.util.TreeSet<>();
                    operation.getValue().path("parameters").forEach(param -> {
                        JsonNode resolved = param.has("$ref")
                                ? document.at(param.get("$ref").asText().substring(1))
                                : param;
                        if (resolved.path("in").asText().equals("query")) {
                            params.add(resolved.path("name").asText());
                        }
                    });
                    documented.add(
                            operation.getKey().toUpperCase(java.util.Locale.ROOT) + " " + path.getKey() + " " + params);
                }));
        java.util.Set<String> registered = new java.util.TreeSet<>();
        api.endpoints().stream()
                // What instances ask each other is not the API's: it answers signed forwarded requests alone.
                .filter(endpoint -> !endpoint.permission().equals("INSTANCE"))
                .forEach(endpoint -> registered.add(
                        endpoint.method() + " " + endpoint.path() + " " + new java.util.TreeSet<>(endpoint.params())));
        assertThat(registered).hasSizeGreaterThan(20);
        assertThat(documented).isEqualTo(registered);
    }

    @Test
    void storesArtifactContentVerifiedAndRefusesWhatItCannotKeep() throws Exception {
        HttpResponse<String> registered = post("/v1/artifacts?wait=applied", """
                {"kind": "build_log", "name": "build.log", "parentId": "project:acme/web", "provenance": {}}""");
        String artifactId = JSON.readTree(registered.body()).get("artifactId").asText();
        String content = "BUILD SUCCESSFUL\n";
        String digest = "sha256:"
                + java.util.HexFormat.of()
                        .formatHex(java.security.MessageDigest.getInstance("SHA-256")
                                .digest(content.getBytes(java.nio.charset.StandardCharsets.UTF_8)));

        assertProblem(put("/v1/artifacts/" + artifactId + "/content", "x".repeat(2000), Map.of()), 413);
        assertProblem(
                put(
                        "/v1/artifacts/" + artifactId + "/content",
                        content,
                        Map.of("X-Substrate-Digest", "sha256:" + "0".repeat(64))),
                400,
                "X-Substrate-Digest");
        assertProblem(put("/v1/artifacts/artifact-missing/content", content, Map.of()), 404);
        assertThat(put("/v1/artifacts/" + artifactId + "/content", content, Map.of(), observerToken)
                        .statusCode())
                .isEqualTo(403);
        assertThat(Files.exists(dataDir.resolve("blobs/sha256")))
                .as("nothing kept")
                .isFalse();

        HttpResponse<String> stored =
                put("/v1/artifacts/" + artifactId + "/content", content, Map.of("X-Substrate-Digest", digest));
        assertThat(stored.statusCode()).as(stored.body()).isEqualTo(202);
        JsonNode answer = JSON.readTree(stored.body());
        assertThat(answer.get("digest").asText()).isEqualTo(digest);
        assertThat(answer.get("locator").asText()).isEqualTo("blob:" + digest);

        String position = answer.get("position").asText();
        HttpResponse<String> read = get("/v1/artifacts/" + artifactId + "/content?position=" + position);
        assertThat(read.statusCode()).isEqualTo(200);
        assertThat(read.body()).isEqualTo(content);
        assertThat(read.headers().firstValue("ETag")).contains("\"" + digest + "\"");
        JsonNode artifact = JSON.readTree(
                get("/v1/artifacts/" + artifactId + "?position=" + position).body());
        assertThat(artifact.get("digest").asText()).isEqualTo(digest);
        assertThat(artifact.get("size").asLong()).isEqualTo(content.length());
        assertThat(artifact.get("mediaType").asText()).startsWith("text/plain");
        assertProblem(get("/v1/artifacts/artifact-missing/content"), 404);
    }

    @Test
    void answersWithTheFoldsDecisionAboutAnEvent() throws Exception {
        JsonNode created = JSON.readTree(post("/v1/runs", """
                {"scope": "shared", "project": "p:1", "activation": {"surface": "ui", "actor": "a"}}""").body());
        String runId = created.get("runId").asText();
        HttpResponse<String> outcome =
                get("/v1/runs/" + runId + "/outcomes/" + created.get("eventId").asText() + "?position="
                        + created.get("position").asText());
        assertThat(outcome.statusCode()).as(outcome.body()).isEqualTo(200);
        assertThat(JSON.readTree(outcome.body()).get("outcome").asText()).isEqualTo("applied");
        assertProblem(get("/v1/runs/" + runId + "/outcomes/no-such-event"), 404);
    }

    @Test
    void refusesAPositionPastTheEndOfTheLogAtOnce() throws Exception {
        String ahead = java.util.Base64.getUrlEncoder()
                .withoutPadding()
                .encodeToString("p1:run:0:999999999".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        HttpResponse<String> late = HTTP.send(
                request("/v1/runs/run-any?timeoutMs=200", adminToken)
                        .header("X-Substrate-Position", ahead)
                        .GET()
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        // No wait would reach it (503 position-not-reached, for a position the log holds, is AccessBoundsIT's).
        assertProblem(late, 400, "X-Substrate-Position");
        HttpResponse<String> listed = get("/v1/runs?timeoutMs=200&position=" + ahead);
        assertProblem(listed, 400);
        assertProblem(get("/v1/runs/run-any?position=not-a-position"), 400, "position");
    }

    @Test
    void exportsPrometheusMetricsOfTheApiKafkaClientsAndStreams() throws Exception {
        get("/v1/runs?limit=1");
        assertProblem(
                HTTP.send(
                        HttpRequest.newBuilder(URI.create(api.baseUrl() + "/metrics"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString()),
                401);
        HttpResponse<String> metrics = get("/metrics", observerToken);
        assertThat(metrics.statusCode()).isEqualTo(200);
        assertThat(metrics.headers().firstValue("Content-Type"))
                .hasValueSatisfying(type -> assertThat(type).startsWith("text/plain"));
        assertThat(metrics.body())
                .contains("substrate_http_requests_total{route=\"/v1/runs\",method=\"GET\",status=\"200\"}")
                .contains("substrate_http_request_duration_seconds_bucket{route=\"/v1/runs\",le=\"+Inf\"}")
                .contains("kafka_producer_metrics_record_send_total{")
                .contains("kafka_stream_thread_metrics_process_total{");
        for (String line : metrics.body().split("\n")) {
            assertThat(line).as("a Prometheus comment or sample").matches("(# .*|[a-z_][a-z0-9_]*(\\{.*\\})? \\S+)");
        }
    }

    @Test
    void createsARunAndFollowsItThroughItsEvents() throws Exception {
        HttpResponse<String> created = post("/v1/runs", """
                {"scope": "shared", "project": "project:acme/web",
                 "activation": {"surface": "operator", "actor": "alice"}, "labels": {"team": "payments"}}""");
        assertThat(created.statusCode()).isEqualTo(202);
        JsonNode answer = JSON.readTree(created.body());
        String runId = answer.get("runId").asText();
        assertThat(runId).startsWith("run-");
        assertThat(answer.get("position").asText()).isNotBlank();

        await().atMost(Duration.ofSeconds(30))
                .until(() -> get("/v1/runs/" + runId).statusCode() == 200);
        HttpResponse<String> started = post("/v1/runs/" + runId + "/events", """
                {"type": "RunStarted", "expectedVersion": 1, "where": {"host": "h1"}}""");
        assertThat(started.statusCode()).isEqualTo(202);

        await().atMost(Duration.ofSeconds(30))
                .until(
                        () -> JSON.readTree(get("/v1/runs/" + runId).body())
                                .get("status")
                                .asText(),
                        "running"::equals);
        JsonNode run = JSON.readTree(get("/v1/runs/" + runId).body());
        assertThat(run.get("version").asLong()).isEqualTo(2);
        assertThat(run.get("labels").get("team").asText()).isEqualTo("payments");
        assertThat(run.get("where").get("host").asText()).isEqualTo("h1");
        assertThat(run.get("timestamps").get("startedAt").asText()).endsWith("Z");
        JsonNode events =
                JSON.readTree(get("/v1/runs/" + runId + "/events").body()).get("items");
        assertThat(events).hasSize(2);
        assertThat(events.get(1).get("payload").get("type").asText()).isEqualTo("RunStarted");
    }

    @Test
    void foldsARoomStreamIntoItsTranscript() throws Exception {
        String roomId = "room-" + UUID.randomUUID();
        assertThat(post("/v1/rooms", "{\"roomId\": \"" + roomId + "\", \"kind\": \"session\", \"project\": \"p:1\"}")
                        .statusCode())
                .isEqualTo(202);
        for (String event : new String[] {
            "{\"type\": \"BlockStarted\", \"blockId\": \"b1\", \"kind\": \"text\"}",
            "{\"type\": \"TextDelta\", \"blockId\": \"b1\", \"text\": \"Hello, \"}",
            "{\"type\": \"TextDelta\", \"blockId\": \"b1\", \"text\": \"world\"}",
            "{\"type\": \"BlockCompleted\", \"blockId\": \"b1\"}",
            "{\"type\": \"LogEmitted\", \"level\": \"info\", \"message\": \"done\"}"
        }) {
            assertThat(post("/v1/rooms/" + roomId + "/events", event).statusCode())
                    .isEqualTo(202);
        }

        await().atMost(Duration.ofSeconds(30)).until(() -> {
            HttpResponse<String> response = get("/v1/rooms/" + roomId + "/transcript");
            return response.statusCode() == 200
                    && JSON.readTree(response.body()).get("items").size() == 2;
        });
        JsonNode items =
                JSON.readTree(get("/v1/rooms/" + roomId + "/transcript").body()).get("items");
        assertThat(items.get(0).get("text").asText()).isEqualTo("Hello, world");
        assertThat(items.get(1).get("kind").asText()).isEqualTo("log");
        JsonNode page =
                JSON.readTree(get("/v1/rooms/" + roomId + "/transcript?limit=1").body());
        assertThat(page.get("items")).hasSize(1);
        JsonNode next = JSON.readTree(get("/v1/rooms/" + roomId + "/transcript?after="
                        + page.get("next").asLong())
                .body());
        assertThat(next.get("items")).hasSize(1);
        assertThat(next.get("items").get(0).get("kind").asText()).isEqualTo("log");
    }

    @Test
    void registersAndReadsAnArtifact() throws Exception {
        HttpResponse<String> registered = post("/v1/artifacts", """
                {"kind": "pull_request", "name": "Fix login", "parentId": "project:acme/web",
                 "locator": "https://git.example.com/acme/web/pull/7", "provenance": {"runId": "run-1"}}""");
        assertThat(registered.statusCode()).isEqualTo(202);
        String artifactId = JSON.readTree(registered.body()).get("artifactId").asText();

        await().atMost(Duration.ofSeconds(30))
                .until(() -> get("/v1/artifacts/" + artifactId).statusCode() == 200);
        JsonNode artifact = JSON.readTree(get("/v1/artifacts/" + artifactId).body());
        assertThat(artifact.get("provenance").get("runId").asText()).isEqualTo("run-1");
        assertThat(artifact.get("revisions")).hasSize(1);
    }

    @Test
    void answersBadInputWithAProblemNamingTheField() throws Exception {
        assertProblem(post("/v1/runs", "{not json"), 400, "body");
        assertProblem(post("/v1/runs", "[1, 2]"), 400, "body");
        assertProblem(post("/v1/runs", """
                {"scope": "galactic", "project": "p:1", "activation": {"surface": "ui", "actor": "a"}}"""), 400, "scope");
        assertProblem(post("/v1/runs", """
                {"scope": "shared", "project": "p:1", "activation": {"surface": "ui", "actor": "a"}, "colour": "red"}"""), 400, "colour");
        // scope and activation have defaults over HTTP; a project does not, and an activation must be an object.
        assertProblem(post("/v1/runs", "{\"scope\": \"shared\"}"), 400, "project");
        assertProblem(post("/v1/runs", "{\"project\": \"p:1\", \"activation\": \"ui\"}"), 400, "activation");
        assertProblem(
                post("/v1/runs", "{\"project\": \"p:1\", \"activation\": {\"surface\": \"web\"}}"),
                400,
                "activation.surface");
        assertProblem(post("/v1/runs/run-1/events", "{\"type\": \"RunExploded\"}"), 400, "type");
        assertProblem(post("/v1/runs/run-1/events", "{\"where\": {}}"), 400, "type");
        assertProblem(post("/v1/runs/bad%20id/events", "{\"type\": \"RunStarted\"}"), 400, "runId");
        assertProblem(
                post("/v1/runs/run-1/events", "{\"type\": \"RunStarted\", \"expectedVersion\": \"two\"}"),
                400,
                "expectedVersion");
        assertProblem(
                post("/v1/rooms/r-1/events", "{\"type\": \"TextDelta\", \"blockId\": 7, \"text\": \"x\"}"),
                400,
                "blockId");
        assertProblem(get("/v1/rooms/r-1/transcript?limit=abc"), 400, "limit");
        assertThat(get("/v1/runs/never-created").statusCode()).isEqualTo(404);
        assertThat(get("/health").statusCode()).isEqualTo(200);
    }

    @Test
    void appendsABatchOfAThousandEventsInOrderAndAnswersEachDecision() throws Exception {
        String runId = JSON.readTree(post("/v1/runs?wait=applied", "{\"project\": \"project:batch\"}")
                        .body())
                .get("runId")
                .asText();
        StringBuilder batch = new StringBuilder("[{\"type\": \"RunStarted\"}");
        for (int i = 1; i < 999; i++) {
            batch.append(", {\"type\": \"RunLabelled\", \"labels\": {\"step\": \"")
                    .append(i)
                    .append("\"}}");
        }
        // The last one is refused by the fold: a run that is running cannot resume.
        batch.append(", {\"type\": \"RunResumed\"}]");
        HttpResponse<String> answer =
                post("/v1/runs/" + runId + "/events?wait=applied&timeoutMs=30000", batch.toString());
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        JsonNode body = JSON.readTree(answer.body());
        assertThat(body.get("count").asInt()).isEqualTo(1000);
        JsonNode items = body.get("items");
        assertThat(items).hasSize(1000);
        for (int i = 0; i < 999; i++) {
            assertThat(items.get(i).get("outcome").asText()).as("item %d", i).isEqualTo("applied");
            assertThat(items.get(i).get("version").asLong()).as("in order").isEqualTo(i + 2);
        }
        assertThat(items.get(999).get("outcome").asText()).isEqualTo("rejected");
        assertThat(items.get(999).get("reason").asText()).isEqualTo("illegal_transition");
        assertThat(body.path("position").asText())
                .isEqualTo(items.get(999).get("position").asText());
        JsonNode run = JSON.readTree(get("/v1/runs/" + runId).body());
        assertThat(run.get("version").asLong()).isEqualTo(1000);
        assertThat(run.path("labels").path("step").asText()).isEqualTo("998");

        // Without a wait: 202, every event's id and position, in order.
        HttpResponse<String> accepted = post(
                "/v1/runs/" + runId + "/events",
                "[{\"type\": \"RunLabelled\", \"labels\": {\"a\": \"1\"}}, {\"type\": \"RunLabelled\","
                        + " \"labels\": {\"b\": \"2\"}}]");
        assertThat(accepted.statusCode()).as(accepted.body()).isEqualTo(202);
        assertThat(JSON.readTree(accepted.body()).get("items")).hasSize(2);

        // A bad event anywhere refuses the whole batch, naming it, before anything is appended.
        assertProblem(
                post("/v1/runs/" + runId + "/events", "[{\"type\": \"RunLabelled\"}, {\"type\": \"RunExploded\"}]"),
                400,
                "[1].type");
        assertProblem(post("/v1/runs/" + runId + "/events", "[]"), 400, "body");
        assertProblem(post("/v1/runs/" + runId + "/events", "[1]"), 400, "[0]");
        StringBuilder tooMany = new StringBuilder("[");
        for (int i = 0; i < 1001; i++) {
            tooMany.append(i == 0 ? "" : ",").append("{\"type\": \"RunLabelled\"}");
        }
        assertProblem(post("/v1/runs/" + runId + "/events", tooMany.append("]").toString()), 400, "body");
        await().atMost(Duration.ofSeconds(10))
                .until(() -> JSON.readTree(get("/v1/runs/" + runId).body())
                                .get("version")
                                .asLong()
                        == 1002);
    }

    @Test
    void refusesAnOversizedBodyWithoutA500() throws Exception {
        String huge =
                "{\"type\": \"LogEmitted\", \"level\": \"info\", \"message\": \"" + "x".repeat(5 * 1024 * 1024) + "\"}";

        assertThat(post("/v1/rooms/r-1/events", huge).statusCode()).isBetween(400, 499);
    }

    @Test
    void refusesRequestsWithoutAValidTokenAndEnforcesRoles() throws Exception {
        HttpResponse<String> anonymous = get("/v1/runs/run-1", null);
        assertProblem(anonymous, 401);
        assertThat(anonymous.headers().firstValue("WWW-Authenticate"))
                .hasValueSatisfying(v -> assertThat(v).startsWith("Bearer"));
        assertProblem(get("/v1/runs/run-1", "sbt_not-a-real-token"), 401);
        assertProblem(get("/v1/runs/run-1", adminToken + "x"), 401);
        assertThat(get("/health", null).statusCode()).isEqualTo(200);
        assertThat(get("/ready", null).statusCode()).isEqualTo(200);

        String create = """
                {"scope": "shared", "project": "p:1", "activation": {"surface": "ui", "actor": "a"}}""";
        assertProblem(post("/v1/runs", create, observerToken), 403);
        assertThat(post("/v1/runs", create, serviceToken).statusCode()).isEqualTo(202);
        assertProblem(
                post("/v1/runs", create.replace("{\"scope", "{\"actor\": \"someone-else\", \"scope"), serviceToken),
                403);
        assertThat(post("/v1/runs", create.replace("{\"scope", "{\"actor\": \"on-behalf\", \"scope"), operatorToken)
                        .statusCode())
                .isEqualTo(202);
    }

    @Test
    void recordsTheAuthenticatedPrincipalAsTheActor() throws Exception {
        String runId = JSON.readTree(post("/v1/runs", """
                        {"scope": "shared", "project": "p:1", "activation": {"surface": "ui", "actor": "a"}}""", serviceToken).body())
                .get("runId")
                .asText();

        await().atMost(Duration.ofSeconds(30))
                .until(() -> get("/v1/runs/" + runId + "/events").statusCode() == 200);
        JsonNode events = JSON.readTree(
                get("/v1/runs/" + runId + "/events", observerToken).body());
        assertThat(events.get("items").get(0).get("actor").asText()).isEqualTo("svc:runner");
    }

    @Test
    void letsOnlyMembersOperatorsAndAdminsReadARoom() throws Exception {
        String roomId = "room-" + UUID.randomUUID();
        assertThat(post(
                                "/v1/rooms",
                                "{\"roomId\": \"" + roomId + "\", \"kind\": \"conversation\", "
                                        + "\"project\": \"p:1\", \"members\": [{\"principal\": \"watcher\", \"role\": \"reader\"}, "
                                        + "{\"principal\": \"admin\", \"role\": \"owner\"}]}")
                        .statusCode())
                .isEqualTo(202);
        await().atMost(Duration.ofSeconds(30))
                .until(() -> get("/v1/rooms/" + roomId).statusCode() == 200);

        assertThat(get("/v1/rooms/" + roomId, observerToken).statusCode()).isEqualTo(200);
        assertThat(get("/v1/rooms/" + roomId, operatorToken).statusCode()).isEqualTo(200);
        assertProblem(get("/v1/rooms/" + roomId, serviceToken), 403);
        assertProblem(get("/v1/rooms/" + roomId + "/transcript", serviceToken), 403);
    }

    @Test
    void theAppendDoorFollowsARoomsMembershipFromTheMomentTheFoldAppliesEachChange() throws Exception {
        String roomId = "room-" + UUID.randomUUID();
        String metadata = "{\"type\": \"MetadataUpdated\", \"metadata\": {\"step\": \"1\"}}";
        assertThat(post(
                                "/v1/rooms?wait=applied",
                                "{\"roomId\": \"" + roomId + "\", \"kind\": \"session\", \"project\": \"p:1\", "
                                        + "\"members\": [{\"principal\": \"svc:runner\", \"role\": \"writer\"}, "
                                        + "{\"principal\": \"admin\", \"role\": \"owner\"}]}")
                        .statusCode())
                .isEqualTo(200);
        assertThat(post("/v1/rooms/" + roomId + "/events", metadata, serviceToken)
                        .statusCode())
                .isEqualTo(202);

        // Each change is read at the door by the very next append once applied: no waiting, no stale membership.
        assertThat(post(
                                "/v1/rooms/" + roomId + "/events?wait=applied",
                                "{\"type\": \"MemberRevoked\", \"principal\": \"svc:runner\"}")
                        .statusCode())
                .isEqualTo(200);
        assertProblem(post("/v1/rooms/" + roomId + "/events", metadata, serviceToken), 403);
        assertThat(post(
                                "/v1/rooms/" + roomId + "/events?wait=applied",
                                "{\"type\": \"MemberGranted\", \"member\": {\"principal\": \"svc:runner\", "
                                        + "\"role\": \"reader\"}}")
                        .statusCode())
                .isEqualTo(200);
        assertProblem(post("/v1/rooms/" + roomId + "/events", metadata, serviceToken), 403);
        assertThat(post(
                                "/v1/rooms/" + roomId + "/events?wait=applied",
                                "{\"type\": \"MemberGranted\", \"member\": {\"principal\": \"svc:runner\", "
                                        + "\"role\": \"writer\"}}")
                        .statusCode())
                .isEqualTo(200);
        assertThat(post("/v1/rooms/" + roomId + "/events", metadata, serviceToken)
                        .statusCode())
                .isEqualTo(202);
    }

    @Test
    void sumsUsageByProjectModelRunAndDayForWhoeverReachesTheProject() throws Exception {
        String tag = UUID.randomUUID().toString().substring(0, 8);
        String project = "project:usage-" + tag;
        String other = "project:usage-other-" + tag;
        String runId = "usage-run-" + tag;
        String session = "usage-session-" + tag;
        String today = java.time.LocalDate.now(java.time.ZoneOffset.UTC).toString();
        String yesterday = java.time.Instant.now().minus(Duration.ofDays(1)).toString();
        assertThat(post(
                                "/v1/runs?wait=applied",
                                "{\"runId\": \"" + runId + "\", \"project\": \"" + project
                                        + "\", \"usage\": {\"provider\":"
                                        + " \"openai\", \"model\": \"gpt-4o\", \"inputTokens\": 1000, \"outputTokens\": 100,"
                                        + " \"cost\": {\"amount\": \"0.01\", \"currency\": \"USD\"}}}")
                        .statusCode())
                .isEqualTo(200);
        assertThat(post(
                                "/v1/rooms?wait=applied",
                                "{\"roomId\": \"" + session + "\", \"kind\": \"session\", \"project\": \"" + project
                                        + "\", \"runId\": \"" + runId + "\"}")
                        .statusCode())
                .isEqualTo(200);
        String events = "/v1/rooms/" + session + "/events?wait=applied";
        assertThat(post(events, "{\"type\": \"TurnStarted\", \"turnId\": \"t1\"}")
                        .statusCode())
                .isEqualTo(200);
        assertThat(post(
                                events,
                                "{\"type\": \"TurnEnded\", \"turnId\": \"t1\", \"usage\": {\"provider\": \"openai\","
                                        + " \"model\": \"gpt-4o\", \"inputTokens\": 500, \"outputTokens\": 50,"
                                        + " \"cachedInputTokens\": 100, \"cost\": {\"amount\": 0.005}}}")
                        .statusCode())
                .isEqualTo(200);
        // Refused by the fold (no turn in progress): its usage is not counted.
        assertThat(post(
                                events,
                                "{\"type\": \"TurnEnded\", \"turnId\": \"t1\", \"usage\": {\"model\": \"gpt-4o\","
                                        + " \"inputTokens\": 999999}}")
                        .statusCode())
                .isEqualTo(409);
        // A conversation of no run, created yesterday with the usage of its first answer.
        assertThat(post(
                                "/v1/rooms?wait=applied",
                                "{\"kind\": \"conversation\", \"project\": \"" + project + "\", \"occurredAt\": \""
                                        + yesterday + "\", \"usage\": {\"model\": \"claude\", \"inputTokens\": 7,"
                                        + " \"outputTokens\": 3, \"reasoningTokens\": 1}}")
                        .statusCode())
                .isEqualTo(200);
        assertThat(post(
                                "/v1/runs?wait=applied",
                                "{\"project\": \"" + other
                                        + "\", \"usage\": {\"model\": \"llama\", \"inputTokens\": 1}}")
                        .statusCode())
                .isEqualTo(200);

        JsonNode byModel =
                JSON.readTree(get("/v1/usage?groupBy=model&project=" + project).body());
        assertThat(byModel.path("groupBy").asText()).isEqualTo("model");
        assertThat(byModel.path("groups"))
                .extracting(
                        g -> g.path("key").asText(),
                        g -> g.path("events").asLong(),
                        g -> g.path("inputTokens").asLong(),
                        g -> g.path("outputTokens").asLong(),
                        g -> g.path("cachedInputTokens").asLong(),
                        g -> g.path("reasoningTokens").asLong(),
                        g -> g.path("cost").toString())
                .containsExactly(
                        tuple("claude", 1L, 7L, 3L, 0L, 1L, "null"),
                        tuple("gpt-4o", 2L, 1500L, 150L, 100L, 0L, "{\"amount\":\"0.015\",\"currency\":\"USD\"}"));
        assertThat(byModel.path("groups").get(1).path("provider").asText()).isEqualTo("openai");
        assertThat(byModel.path("total").path("inputTokens").asLong()).isEqualTo(1507);

        JsonNode byRun =
                JSON.readTree(get("/v1/usage?groupBy=run&project=" + project).body());
        assertThat(byRun.path("groups"))
                .extracting(
                        g -> g.path("key").asText(), g -> g.path("inputTokens").asLong())
                .containsExactly(tuple("", 7L), tuple(runId, 1500L));
        // A child run's usage, kept apart by run, and summed with its parent's when both are asked for.
        String child = "usage-child-" + tag;
        assertThat(post(
                                "/v1/runs?wait=applied",
                                "{\"runId\": \"" + child + "\", \"project\": \"" + project + "\", \"parentRunId\": \""
                                        + runId + "\", \"usage\": {\"model\": \"gpt-4o\", \"inputTokens\": 5}}")
                        .statusCode())
                .isEqualTo(200);
        JsonNode tree = JSON.readTree(get("/v1/usage?groupBy=project&runId=" + runId + "&runId=" + child)
                .body());
        assertThat(tree.path("total").path("inputTokens").asLong()).isEqualTo(1505);
        JsonNode oneRun =
                JSON.readTree(get("/v1/usage?groupBy=day&runId=" + runId).body());
        assertThat(oneRun.path("groups"))
                .extracting(
                        g -> g.path("key").asText(), g -> g.path("inputTokens").asLong())
                .containsExactly(tuple(today, 1500L));
        JsonNode todayOnly =
                JSON.readTree(get("/v1/usage?groupBy=day&project=" + project + "&from=" + today + "&to=" + today)
                        .body());
        assertThat(todayOnly.path("groups"))
                .extracting(g -> g.path("key").asText())
                .containsExactly(today);
        JsonNode everyDay =
                JSON.readTree(get("/v1/usage?groupBy=day&project=" + project).body());
        assertThat(everyDay.path("groups")).hasSize(2);

        // Usage sits in the run's state and in the turn's transcript entry too.
        JsonNode run = JSON.readTree(get("/v1/runs/" + runId).body());
        assertThat(run.path("usage").get(0).path("inputTokens").asLong()).isEqualTo(1000);
        JsonNode transcript =
                JSON.readTree(get("/v1/rooms/" + session + "/transcript").body());
        assertThat(transcript
                        .path("items")
                        .get(1)
                        .path("usage")
                        .path("cachedInputTokens")
                        .asLong())
                .isEqualTo(100);

        // Prometheus counts what this instance folded, by project and model (the refused event's tokens left out).
        String metrics = get("/metrics", observerToken).body();
        assertThat(metrics)
                .contains("# TYPE substrate_usage_input_tokens_total counter")
                .contains("substrate_usage_input_tokens_total{project=\"" + project + "\",model=\"gpt-4o\"} 1505\n")
                .contains(
                        "substrate_usage_cached_input_tokens_total{project=\"" + project + "\",model=\"gpt-4o\"} 100\n")
                .contains("substrate_usage_reasoning_tokens_total{project=\"" + project + "\",model=\"claude\"} 1\n");

        // A token scoped to the other project sums that project alone.
        String scoped = JSON.readTree(post(
                                "/v1/tokens",
                                "{\"principal\": \"usage-reader\", \"roles\": [\"observer\"], \"projects\": [\"" + other
                                        + "\"]}")
                        .body())
                .path("token")
                .asText();
        JsonNode seen = JSON.readTree(get("/v1/usage", scoped).body());
        assertThat(seen.path("groups")).extracting(g -> g.path("key").asText()).containsExactly(other);
        assertThat(JSON.readTree(get("/v1/usage?project=" + project, scoped).body())
                        .path("groups"))
                .isEmpty();

        assertProblem(get("/v1/usage?groupBy=colour"), 400, "groupBy");
        assertProblem(get("/v1/usage?from=2026-13-01"), 400, "from");
        assertProblem(get("/v1/usage?from=2026-12-02&to=2026-12-01"), 400, "from");
        assertProblem(get("/v1/usage?runId=a%20b"), 400, "runId");
        assertProblem(
                post(
                        events,
                        "{\"type\": \"TurnStarted\", \"turnId\": \"t2\", \"usage\": {\"model\": \"m\","
                                + " \"inputTokens\": -1}}"),
                400,
                "usage.inputTokens");
        assertProblem(
                post(
                        events,
                        "{\"type\": \"TurnStarted\", \"turnId\": \"t2\", \"usage\": {\"model\": \"m\","
                                + " \"cost\": {\"amount\": \"lots\"}}}"),
                400,
                "usage.cost.amount");
    }

    @Test
    void takesAnOtlpExportOfGenAiSpansAsARunItsRoomTurnsToolAndUsageOnceHoweverOftenSent() throws Exception {
        String tag = UUID.randomUUID().toString().replace("-", "");
        String project = "project:otlp-" + tag.substring(0, 8);
        String traceId = tag;
        String http = "1000000000000001";
        String agent = "2000000000000002";
        String chat = "3000000000000003";
        String tool = "4000000000000004";
        long t = System.currentTimeMillis() * 1_000_000L - 10_000_000_000L;
        String conversation = "conv-" + tag.substring(0, 12);
        String body = "{\"resourceSpans\": [{\"resource\": {\"attributes\": ["
                + attribute("service.name", "\"stringValue\": \"planner-service\"") + ", "
                + attribute("substrate.project", "\"stringValue\": \"" + project + "\"") + "]},"
                + " \"scopeSpans\": [{\"scope\": {\"name\": \"genai\"}, \"spans\": ["
                + span(traceId, http, "", "GET /plan", t, t + 9_000_000_000L, "", "")
                + ", "
                + span(
                        traceId,
                        agent,
                        http,
                        "invoke_agent planner",
                        t + 1_000_000_000L,
                        t + 8_000_000_000L,
                        attribute("gen_ai.operation.name", "\"stringValue\": \"invoke_agent\"") + ", "
                                + attribute("gen_ai.agent.name", "\"stringValue\": \"planner\"") + ", "
                                + attribute("gen_ai.conversation.id", "\"stringValue\": \"" + conversation + "\""),
                        "{\"code\": 2, \"message\": \"the plan could not be kept\"}")
                + ", "
                + span(
                        traceId,
                        chat,
                        agent,
                        "chat gpt-4o",
                        t + 2_000_000_000L,
                        t + 3_000_000_000L,
                        attribute("gen_ai.operation.name", "\"stringValue\": \"chat\"") + ", "
                                + attribute("gen_ai.provider.name", "\"stringValue\": \"openai\"") + ", "
                                + attribute("gen_ai.request.model", "\"stringValue\": \"gpt-4o\"") + ", "
                                + attribute("gen_ai.usage.input_tokens", "\"intValue\": \"100\"") + ", "
                                + attribute("gen_ai.usage.output_tokens", "\"intValue\": 20") + ", "
                                + attribute(
                                        "gen_ai.input.messages",
                                        "\"stringValue\": "
                                                + JSON.writeValueAsString(
                                                        "[{\"role\":\"user\",\"parts\":[{\"type\":\"text\",\"content\":\"plan it\"}]}]"))
                                + ", "
                                + attribute(
                                        "gen_ai.output.messages",
                                        "\"stringValue\": "
                                                + JSON.writeValueAsString(
                                                        "[{\"role\":\"assistant\",\"parts\":[{\"type\":\"text\",\"content\":\"a plan\"}]}]"))
                                + ", "
                                + attribute(
                                        "gen_ai.response.finish_reasons",
                                        "\"arrayValue\": {\"values\": [{\"stringValue\": \"stop\"}]}"),
                        "")
                + ", "
                + span(
                        traceId,
                        tool,
                        agent,
                        "execute_tool search",
                        t + 4_000_000_000L,
                        t + 5_000_000_000L,
                        attribute("gen_ai.operation.name", "\"stringValue\": \"execute_tool\"") + ", "
                                + attribute("gen_ai.tool.name", "\"stringValue\": \"search\"") + ", "
                                + attribute("gen_ai.tool.call.id", "\"stringValue\": \"call-7\"") + ", "
                                + attribute("gen_ai.tool.call.arguments", "\"stringValue\": \"{\\\"q\\\":1}\"") + ", "
                                + attribute("gen_ai.tool.call.result", "\"stringValue\": \"found it\""),
                        "")
                + "]}]}]}";

        // Sent twice, once gzipped: the second is duplicates only, and both answers say the HTTP span was left out.
        for (boolean gzip : new boolean[] {false, true}) {
            HttpRequest.Builder request =
                    request("/v1/otlp/v1/traces", serviceToken).header("Content-Type", "application/json");
            if (gzip) {
                java.io.ByteArrayOutputStream zipped = new java.io.ByteArrayOutputStream();
                try (java.util.zip.GZIPOutputStream out = new java.util.zip.GZIPOutputStream(zipped)) {
                    out.write(body.getBytes(java.nio.charset.StandardCharsets.UTF_8));
                }
                request.header("Content-Encoding", "gzip")
                        .POST(HttpRequest.BodyPublishers.ofByteArray(zipped.toByteArray()));
            } else {
                request.POST(HttpRequest.BodyPublishers.ofString(body));
            }
            HttpResponse<String> answer = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
            assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
            JsonNode partial = JSON.readTree(answer.body()).path("partialSuccess");
            assertThat(partial.path("rejectedSpans").asText()).isEqualTo("1");
            assertThat(partial.path("errorMessage").asText()).contains("GET /plan");
        }

        String runId = "otel." + traceId + "." + agent;
        JsonNode run = await().atMost(Duration.ofSeconds(20))
                .until(
                        () -> JSON.readTree(get("/v1/runs/" + runId).body()),
                        r -> r.path("status").asText().equals("failed"));
        assertThat(run.path("failure").path("message").asText()).isEqualTo("the plan could not be kept");
        assertThat(run.path("labels").path("agent").asText()).isEqualTo("planner");
        assertThat(run.path("sessionRoomId").asText()).isEqualTo(conversation);
        JsonNode room = JSON.readTree(get("/v1/rooms/" + conversation).body());
        assertThat(room.path("runId").asText()).isEqualTo(runId);
        assertThat(room.path("members").path("svc:runner").asText()).isEqualTo("owner");
        JsonNode transcript = await().atMost(Duration.ofSeconds(20))
                .until(
                        () -> JSON.readTree(get("/v1/rooms/" + conversation + "/transcript")
                                        .body())
                                .path("items"),
                        items -> items.size() >= 6);
        assertThat(transcript)
                .extracting(e -> e.path("kind").asText() + " "
                        + e.path("subtype").asText() + " " + e.path("text").asText())
                .containsExactly(
                        "turn_started null gpt-4o",
                        "block text plan it",
                        "block text a plan",
                        "turn_ended stop null",
                        "block tool_use {\"q\":1}",
                        "block tool_result found it");
        JsonNode usage = JSON.readTree(
                        get("/v1/usage?groupBy=run&project=" + project).body())
                .path("groups");
        assertThat(usage)
                .extracting(
                        g -> g.path("key").asText(),
                        g -> g.path("events").asLong(),
                        g -> g.path("inputTokens").asLong())
                .containsExactly(tuple(runId, 1L, 100L));

        // Refusals: another media type, a body that is no export, an id of the wrong size, another project's token.
        assertProblem(
                HTTP.send(
                        request("/v1/otlp/v1/traces", serviceToken)
                                .header("Content-Type", "text/plain")
                                .POST(HttpRequest.BodyPublishers.ofString(body))
                                .build(),
                        HttpResponse.BodyHandlers.ofString()),
                415);
        assertProblem(
                HTTP.send(
                        request("/v1/otlp/v1/traces", serviceToken)
                                .header("Content-Type", "application/x-protobuf")
                                .POST(HttpRequest.BodyPublishers.ofString("not protobuf at all"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString()),
                400,
                "body");
        assertProblem(
                HTTP.send(
                        request("/v1/otlp/v1/traces", serviceToken)
                                .header("Content-Type", "application/json")
                                .POST(HttpRequest.BodyPublishers.ofString(body.replace(traceId, "abc")))
                                .build(),
                        HttpResponse.BodyHandlers.ofString()),
                400,
                "body");
        String scoped = JSON.readTree(post(
                                "/v1/tokens",
                                "{\"principal\": \"otlp-elsewhere\", \"roles\": [\"service\"], \"projects\": [\"project:elsewhere\"]}")
                        .body())
                .path("token")
                .asText();
        String other = body.replace(traceId, tag.substring(16) + tag.substring(0, 16));
        assertProblem(
                HTTP.send(
                        request("/v1/otlp/v1/traces", scoped)
                                .header("Content-Type", "application/json")
                                .POST(HttpRequest.BodyPublishers.ofString(other))
                                .build(),
                        HttpResponse.BodyHandlers.ofString()),
                403);
        assertThat(get("/v1/runs/otel." + tag.substring(16) + tag.substring(0, 16) + "." + agent)
                        .statusCode())
                .isEqualTo(404);
    }

    private static String attribute(String key, String value) {
        return "{\"key\": \"" + key + "\", \"value\": {" + value + "}}";
    }

    private static String span(
            String traceId,
            String spanId,
            String parent,
            String name,
            long start,
            long end,
            String attributes,
            String status) {
        return "{\"traceId\": \"" + traceId + "\", \"spanId\": \"" + spanId + "\", \"parentSpanId\": \"" + parent
                + "\", \"name\": \"" + name + "\", \"kind\": 1, \"startTimeUnixNano\": \"" + start
                + "\", \"endTimeUnixNano\": " + end + ", \"attributes\": [" + attributes + "]"
                + (status.isEmpty() ? "" : ", \"status\": " + status) + "}";
    }

    @Test
    void pricesTheTokensOfEventsThatSaidNoCostWithTheLatestPriceTableAndSaysWhichVersion() throws Exception {
        String tag = UUID.randomUUID().toString().substring(0, 8);
        String project = "project:prices-" + tag;
        String priced = "priced-" + tag;
        String unknown = "unknown-" + tag;
        assertThat(post(
                                "/v1/runs?wait=applied",
                                "{\"project\": \"" + project + "\", \"usage\": {\"model\": \""
                                        + priced
                                        + "\", \"inputTokens\": 1000000, \"cachedInputTokens\": 200000, \"outputTokens\":"
                                        + " 500000}}")
                        .statusCode())
                .isEqualTo(200);
        assertThat(post(
                                "/v1/runs?wait=applied",
                                "{\"project\": \"" + project + "\", \"usage\": {\"model\": \"" + priced
                                        + "\", \"inputTokens\": 10, \"cost\": {\"amount\": \"0.5\"}}}")
                        .statusCode())
                .isEqualTo(200);
        assertThat(post(
                                "/v1/runs?wait=applied",
                                "{\"project\": \"" + project + "\", \"usage\": {\"model\": \"" + unknown
                                        + "\", \"inputTokens\": 7}}")
                        .statusCode())
                .isEqualTo(200);

        assertProblem(
                put(
                        "/v1/prices",
                        "{\"models\": {\"m\": {\"inputPerMillion\": 1, \"outputPerMillion\": 1}}}",
                        Map.of("Content-Type", "application/json"),
                        operatorToken),
                403);
        assertProblem(
                put(
                        "/v1/prices",
                        "{\"currency\": \"usd\", \"models\": {\"m\": {\"inputPerMillion\": 1,"
                                + " \"outputPerMillion\": 1}}}",
                        Map.of("Content-Type", "application/json")),
                400,
                "currency");
        assertProblem(
                put(
                        "/v1/prices",
                        "{\"models\": {\"m\": {\"inputPerMillion\": -1, \"outputPerMillion\": 1}}}",
                        Map.of("Content-Type", "application/json")),
                400,
                "models.m.inputPerMillion");
        HttpResponse<String> set = put(
                "/v1/prices",
                "{\"currency\": \"USD\", \"models\": {\"" + priced
                        + "\": {\"inputPerMillion\": \"2.50\", \"outputPerMillion\": 10, \"cachedInputPerMillion\": \"1.25\"}}}",
                Map.of("Content-Type", "application/json"));
        assertThat(set.statusCode()).as(set.body()).isEqualTo(200);
        long version = JSON.readTree(set.body()).path("version").asLong();
        assertThat(version).isPositive();

        JsonNode usage =
                JSON.readTree(get("/v1/usage?groupBy=model&project=" + project).body());
        assertThat(usage.path("priceVersion").asLong()).isEqualTo(version);
        // 800,000 input at 2.50, 200,000 cached at 1.25, 500,000 output at 10 per million, and the 0.5 an event said.
        assertThat(usage.path("groups"))
                .extracting(
                        g -> g.path("key").asText(),
                        g -> g.path("cost").path("amount").asText(),
                        g -> g.path("unpricedEvents").asLong())
                .containsExactly(tuple(priced, "7.75", 0L), tuple(unknown, "", 1L));
        assertThat(JSON.readTree(get("/v1/prices").body())
                        .path("models")
                        .path(priced)
                        .path("cachedInputPerMillion")
                        .asText())
                .isEqualTo("1.25");
        assertThat(get("/v1/prices?version=" + version, observerToken).statusCode())
                .isEqualTo(200);
        assertProblem(get("/v1/prices?version=999999999"), 404);
        assertProblem(get("/v1/usage?priceVersion=999999999"), 400, "priceVersion");
    }

    @Test
    void letsOnlyAdminsCreateTokensAndTheNewTokenWorks() throws Exception {
        String body = "{\"principal\": \"new-service\", \"roles\": [\"service\"]}";
        assertProblem(post("/v1/tokens", body, operatorToken), 403);
        assertProblem(post("/v1/tokens", "{\"principal\": \"x\", \"roles\": [\"wizard\"]}", adminToken), 400, "roles");

        HttpResponse<String> created = post("/v1/tokens", body, adminToken);

        assertThat(created.statusCode()).isEqualTo(201);
        String token = JSON.readTree(created.body()).get("token").asText();
        assertThat(token).startsWith(dev.substrate.api.auth.TokenStore.PREFIX);
        assertThat(get("/v1/runs/none", token).statusCode()).isEqualTo(404);
        assertThat(Files.readString(dataDir.resolve("tokens.json"))).doesNotContain(token);
    }

    @Test
    void anOutcomeAnswersOnlyForTheEntityInItsPathAndAReuseNamesNoOtherEntity() throws Exception {
        HttpResponse<String> created = post("/v1/runs?wait=applied", """
                {"scope": "shared", "project": "project:o", "activation": {"surface": "ui", "actor": "a"}}""");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(200);
        String other = JSON.readTree(created.body()).get("runId").asText();
        String otherEventId = JSON.readTree(
                        post("/v1/runs/" + other + "/events?wait=applied", "{\"type\": \"RunStarted\"}")
                                .body())
                .get("eventId")
                .asText();
        // A run whose events share the other's partition: outcomes are kept by event id, per partition.
        String runId = null;
        for (int i = 0; runId == null; i++) {
            String candidate =
                    "run-same-partition-" + UUID.randomUUID().toString().substring(0, 8) + i;
            if (partition(candidate) == partition(other)) {
                runId = candidate;
            }
        }
        assertThat(post(
                                "/v1/runs?wait=applied",
                                "{\"runId\": \"" + runId + "\", \"scope\": \"shared\", \"project\": \"project:o\","
                                        + " \"activation\": {\"surface\": \"ui\", \"actor\": \"a\"}}")
                        .statusCode())
                .isEqualTo(200);

        assertProblem(get("/v1/runs/" + runId + "/outcomes/" + otherEventId), 404);
        assertThat(get("/v1/runs/" + other + "/outcomes/" + otherEventId).statusCode())
                .isEqualTo(200);

        HttpResponse<String> reused = post(
                "/v1/runs/" + runId + "/events?wait=applied",
                "{\"type\": \"RunStarted\", \"eventId\": \"" + otherEventId + "\"}");
        assertThat(reused.statusCode()).as(reused.body()).isEqualTo(409);
        assertThat(JSON.readTree(reused.body()).get("reason").asText()).isEqualTo("event_id_reused");
        assertThat(reused.body()).doesNotContain(other);
    }

    /** The partition of a run log of three partitions that {@code runId}'s events go to (Kafka's default). */
    private static int partition(String runId) {
        return org.apache.kafka.common.utils.Utils.toPositive(org.apache.kafka.common.utils.Utils.murmur2(
                        runId.getBytes(java.nio.charset.StandardCharsets.UTF_8)))
                % 3;
    }

    @Test
    void pagesThroughFilteredListsReturningEachItemOnce() throws Exception {
        String batch = "b" + UUID.randomUUID().toString().substring(0, 8);
        String project = "project:list-" + batch;
        for (int i = 0; i < 5; i++) {
            assertThat(post(
                                    "/v1/runs",
                                    "{\"runId\": \"" + batch + "-" + i + "\", \"scope\": \"shared\", \"project\": \""
                                            + project + "\", \"labels\": {\"batch\": \"" + batch + "\"}, "
                                            + "\"activation\": {\"surface\": \"ui\", \"actor\": \"a\"}}")
                            .statusCode())
                    .isEqualTo(202);
        }
        // A second later than the creations: appends within one millisecond tie, and ties go by id.
        post(
                "/v1/runs/" + batch + "-0/events",
                "{\"type\": \"RunStarted\", \"occurredAt\": \""
                        + java.time.Instant.now().plusSeconds(1).truncatedTo(java.time.temporal.ChronoUnit.MILLIS)
                        + "\"}");
        await().atMost(Duration.ofSeconds(30))
                .until(() -> JSON.readTree(get("/v1/runs?status=running&project=" + project)
                                        .body())
                                .get("items")
                                .size()
                        == 1);

        await().atMost(Duration.ofSeconds(30))
                .until(() -> JSON.readTree(get("/v1/runs?project=" + project + "&limit=1000")
                                        .body())
                                .get("items")
                                .size()
                        == 5);
        java.util.List<String> seen = new java.util.ArrayList<>();
        String cursor = null;
        int pages = 0;
        do {
            JsonNode page = JSON.readTree(
                    get("/v1/runs?label=batch:" + batch + "&limit=2" + (cursor == null ? "" : "&cursor=" + cursor))
                            .body());
            page.get("items").forEach(run -> seen.add(run.get("runId").asText()));
            cursor = page.get("nextCursor").isNull()
                    ? null
                    : page.get("nextCursor").asText();
            pages++;
        } while (cursor != null && pages < 10);

        assertThat(seen).hasSize(5).doesNotHaveDuplicates().allMatch(id -> id.startsWith(batch));
        assertThat(seen.get(0)).as("newest update first").isEqualTo(batch + "-0");
        assertThat(JSON.readTree(get("/v1/runs?project=" + project + "&limit=1000")
                                .body())
                        .get("items"))
                .hasSize(5);
        assertProblem(get("/v1/runs?status=sleeping"), 400, "status");
        assertProblem(get("/v1/runs?limit=5000"), 400, "limit");
        assertProblem(get("/v1/runs?label=nocolon"), 400, "label");
        assertProblem(get("/v1/runs?status=running&cursor=%25%25"), 400, "cursor");
    }

    @Test
    void waitsForTheFoldsDecisionWhenAsked() throws Exception {
        HttpResponse<String> created = post("/v1/runs?wait=applied", """
                {"scope": "shared", "project": "p:1", "activation": {"surface": "ui", "actor": "a"}}""");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(200);
        JsonNode answer = JSON.readTree(created.body());
        assertThat(answer.get("outcome").asText()).isEqualTo("applied");
        assertThat(answer.get("state").get("status").asText()).isEqualTo("queued");
        String runId = answer.get("runId").asText();

        HttpResponse<String> started = post(
                "/v1/runs/" + runId + "/events?wait=applied",
                "{\"type\": \"RunStarted\", \"eventId\": \"start-" + runId + "\", \"expectedVersion\": 1}");
        assertThat(started.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(started.body()).get("version").asLong()).isEqualTo(2);

        HttpResponse<String> again = post(
                "/v1/runs/" + runId + "/events?wait=applied",
                "{\"type\": \"RunStarted\", \"eventId\": \"start-" + runId + "\", \"expectedVersion\": 1}");
        assertThat(again.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(again.body()).get("outcome").asText()).isEqualTo("duplicate");

        HttpResponse<String> stale = post(
                "/v1/runs/" + runId + "/events?wait=applied",
                "{\"type\": \"RunSucceeded\", \"expectedVersion\": 1, \"result\": {\"summary\": \"done\"}}");
        assertProblem(stale, 409);
        assertThat(JSON.readTree(stale.body()).get("reason").asText()).isEqualTo("version_conflict");
        assertProblem(
                post("/v1/runs/" + runId + "/events?wait=applied&timeoutMs=99999", "{\"type\": \"RunResumed\"}"),
                400,
                "timeoutMs");
    }

    @Test
    void aRunWaitsOnTwoInterruptsAnsweredOverHttpWithEveryRefusalNamed() throws Exception {
        String roomId = JSON.readTree(post("/v1/rooms?wait=applied", "{\"kind\": \"session\", \"project\": \"p:hitl\"}")
                        .body())
                .get("roomId")
                .asText();
        String runId = JSON.readTree(post(
                                "/v1/runs?wait=applied",
                                "{\"project\": \"p:hitl\", \"sessionRoomId\": \"" + roomId + "\"}")
                        .body())
                .get("runId")
                .asText();
        post("/v1/runs/" + runId + "/events?wait=applied", "{\"type\": \"RunStarted\"}");
        HttpResponse<String> waiting = post("/v1/runs/" + runId + "/events?wait=applied", """
                {"type": "RunWaiting", "waitingOn": {"kind": "approval", "detail": "deploy and budget"},
                 "interrupts": [
                   {"interruptId": "approve-deploy", "reason": "tool_approval", "message": "Deploy?",
                    "toolCallId": "call-1",
                    "responseSchema": {"type": "object", "properties": {"approved": {"type": "boolean"}},
                                       "required": ["approved"]}},
                   {"interruptId": "budget", "reason": "input", "expiresAt": "2099-01-01T00:00:00Z"}]}""");
        assertThat(waiting.statusCode()).as(waiting.body()).isEqualTo(200);
        // The schema is JSON in, JSON out: the API shows the value, the log holds its text.
        JsonNode raised = JSON.readTree(get("/v1/runs/" + runId).body()).get("interrupts");
        assertThat(raised.get(0).get("responseSchema").get("required").get(0).asText())
                .isEqualTo("approved");
        assertThat(raised.get(0).get("status").asText()).isEqualTo("open");
        JsonNode listed = JSON.readTree(
                        get("/v1/runs?interrupt=open&project=p:hitl").body())
                .get("items");
        assertThat(listed).extracting(run -> run.get("runId").asText()).containsExactly(runId);
        String answer = "/v1/runs/" + runId + "/interrupts/";

        HttpResponse<String> wrongShape =
                post(answer + "approve-deploy/answer", "{\"payload\": {\"approved\": \"yes\"}}");
        assertProblem(wrongShape, 409);
        assertThat(JSON.readTree(wrongShape.body()).get("reason").asText()).isEqualTo("invalid_answer");
        assertThat(JSON.readTree(wrongShape.body()).get("detail").asText()).contains("approved");
        HttpResponse<String> unknown = post(answer + "nope/answer", "{\"status\": \"cancelled\"}");
        assertThat(JSON.readTree(unknown.body()).get("reason").asText()).isEqualTo("no_such_interrupt");
        assertProblem(post(answer + "budget/answer", "{\"status\": \"maybe\"}"), 400);
        assertProblem(post(answer + "budget/answer", "{\"verdict\": 1}"), 400, "verdict");
        // An observer may read the run but not answer for it.
        assertProblem(post(answer + "budget/answer", "{}", observerToken), 403);

        HttpResponse<String> approved = post(
                answer + "approve-deploy/answer",
                "{\"payload\": {\"approved\": true}, \"answeredBy\": \"alice@example.com\"}",
                serviceToken);
        assertThat(approved.statusCode()).as(approved.body()).isEqualTo(200);
        assertThat(JSON.readTree(approved.body()).get("state").get("status").asText())
                .isEqualTo("waiting");
        HttpResponse<String> again =
                post(answer + "approve-deploy/answer", "{\"payload\": {\"approved\": true}}", serviceToken);
        assertThat(JSON.readTree(again.body()).get("outcome").asText())
                .as(again.body())
                .isEqualTo("duplicate");
        HttpResponse<String> changed = post(answer + "approve-deploy/answer", "{\"status\": \"cancelled\"}");
        assertThat(JSON.readTree(changed.body()).get("reason").asText()).isEqualTo("interrupt_answered");
        assertProblem(post("/v1/runs/" + runId + "/events?wait=applied", "{\"type\": \"RunResumed\"}"), 409);

        HttpResponse<String> last = post(answer + "budget/answer", "{\"payload\": 250}");
        JsonNode run = JSON.readTree(last.body()).get("state");
        assertThat(run.get("status").asText()).isEqualTo("running");
        assertThat(run.get("interrupts"))
                .extracting(
                        i -> i.get("interruptId").asText(),
                        i -> i.get("status").asText(),
                        i -> i.get("answeredBy").asText(),
                        i -> i.get("payload").toString())
                .containsExactly(
                        tuple("approve-deploy", "resolved", "alice@example.com", "{\"approved\":true}"),
                        tuple("budget", "resolved", "admin", "250"));
        assertThat(JSON.readTree(get("/v1/runs?interrupt=open&project=p:hitl").body())
                        .get("items"))
                .isEmpty();
        // The run's session room shows what it asked and was answered, as the fold's own log lines.
        await().atMost(Duration.ofSeconds(30))
                .untilAsserted(() -> assertThat(JSON.readTree(get("/v1/rooms/" + roomId + "/transcript")
                                        .body())
                                .get("items"))
                        .extracting(entry -> entry.path("text").asText())
                        .containsExactly(
                                "interrupt approve-deploy raised (tool_approval) for tool call call-1: Deploy?",
                                "interrupt budget raised (input)",
                                "interrupt approve-deploy resolved by alice@example.com: {\"approved\":true}",
                                "interrupt budget resolved by admin: 250"));
    }

    @Test
    void aWebhookToThisMachineOrItsNetworkIsRefusedAndAPublicOneIsSubscribedOnce() throws Exception {
        for (String url : List.of(
                "http://127.0.0.1:8080/hook",
                "http://localhost/hook",
                "http://10.1.2.3/hook",
                "http://169.254.169.254/latest/meta-data",
                "http://[::1]/hook",
                "http://[fd00::1]/hook",
                "ftp://192.0.2.10/hook",
                "http://user:pw@192.0.2.10/hook")) {
            assertProblem(post("/v1/webhooks", "{\"url\": \"" + url + "\", \"events\": [\"run.failed\"]}"), 400, "url");
        }
        assertProblem(
                post("/v1/webhooks", "{\"url\": \"http://192.0.2.10/\", \"events\": [\"run.waiting\"]}", serviceToken),
                403);
        HttpResponse<String> created = post(
                "/v1/webhooks",
                "{\"url\": \"http://192.0.2.10/hook\", \"events\": [\"run.failed\"], \"projects\": [\"p:hooks/*\"]}",
                operatorToken);
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        JsonNode subscription = JSON.readTree(created.body());
        assertThat(subscription.get("secret").asText()).startsWith("whsec_");
        String id = subscription.get("webhookId").asText();
        JsonNode listed = JSON.readTree(get("/v1/webhooks").body()).get("items");
        assertThat(listed).anySatisfy(item -> {
            assertThat(item.get("webhookId").asText()).isEqualTo(id);
            assertThat(item.has("secret")).isFalse();
            assertThat(item.get("delivery").get("deadLettered").asLong()).isZero();
        });
        assertThat(ApiCalls.HTTP
                        .send(
                                request("/v1/webhooks/" + id, adminToken)
                                        .DELETE()
                                        .build(),
                                HttpResponse.BodyHandlers.ofString())
                        .statusCode())
                .isEqualTo(204);
        assertThat(get("/v1/webhooks/" + id).statusCode()).isEqualTo(404);
    }

    private static void assertProblem(HttpResponse<String> response, int status) throws Exception {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        assertThat(response.headers().firstValue("Content-Type"))
                .hasValueSatisfying(type -> assertThat(type).startsWith("application/problem+json"));
    }

    private static void assertProblem(HttpResponse<String> response, int status, String field) throws Exception {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        assertThat(response.headers().firstValue("Content-Type"))
                .hasValueSatisfying(type -> assertThat(type).startsWith("application/problem+json"));
        JsonNode problem = JSON.readTree(response.body());
        assertThat(problem.get("status").asInt()).isEqualTo(status);
        assertThat(problem.get("field").asText()).as(response.body()).isEqualTo(field);
    }

    @Test
    void aRetentionPolicyIsPlannedWhileDisabledThenEnabledDeletesWhatItPlanned() throws Exception {
        String tag = UUID.randomUUID().toString().substring(0, 8);
        String project = "project:retain-" + tag;
        List<String> finished = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            String runId = JSON.readTree(post("/v1/runs", "{\"project\": \"" + project + "\"}")
                            .body())
                    .get("runId")
                    .asText();
            assertThat(post("/v1/runs/" + runId + "/events", "{\"type\": \"RunStarted\"}")
                            .statusCode())
                    .isEqualTo(202);
            if (i < 2) {
                String end = i == 0
                        ? "{\"type\": \"RunSucceeded\", \"result\": {\"summary\": \"ok\"}}"
                        : "{\"type\": \"RunLabelled\", \"labels\": {\"pinned\": \"yes\"}}";
                assertThat(post("/v1/runs/" + runId + "/events?wait=applied", end)
                                .statusCode())
                        .isEqualTo(200);
                if (i == 1) {
                    post("/v1/runs/" + runId + "/events?wait=applied", "{\"type\": \"RunCancelled\"}");
                }
            }
            finished.add(runId);
        }
        String path = "/v1/retention/policies/old-" + tag;
        String policy = "{\"applies\": \"runs\", \"projects\": [\"" + project + "\"], \"olderThan\": \"1s\","
                + " \"keep\": [\"pinned\"], \"enabled\": false}";
        assertProblem(put(path, policy, Map.of("Content-Type", "application/json"), operatorToken), 403);
        assertProblem(
                put(path, policy.replace("1s", "soon"), Map.of("Content-Type", "application/json")), 400, "olderThan");
        HttpResponse<String> set = put(path, policy, Map.of("Content-Type", "application/json"));
        assertThat(set.statusCode()).as(set.body()).isEqualTo(200);
        assertThat(JSON.readTree(get("/v1/retention/policies", observerToken).body())
                        .path("policies")
                        .findValuesAsText("id"))
                .contains("old-" + tag);
        Thread.sleep(1_100);

        // Disabled, it deletes nothing; its plan names the succeeded run alone (the other is pinned, the third runs).
        assertProblem(get("/v1/retention/plan?policy=old-" + tag, operatorToken), 403);
        JsonNode plan =
                JSON.readTree(get("/v1/retention/plan?policy=old-" + tag).body());
        assertThat(plan.path("total").asLong()).as(plan.toString()).isEqualTo(1);
        assertThat(plan.path("byProject").path(project).asLong()).isEqualTo(1);
        assertThat(plan.path("ids").get(0).asText()).isEqualTo(finished.get(0));
        assertThat(get("/v1/runs/" + finished.get(0)).statusCode()).isEqualTo(200);

        assertThat(put(path, policy.replace("false", "true"), Map.of("Content-Type", "application/json"))
                        .statusCode())
                .isEqualTo(200);
        await().atMost(Duration.ofSeconds(30))
                .until(() -> get("/v1/runs/" + finished.get(0)).statusCode() == 404);
        assertThat(get("/v1/runs/" + finished.get(1)).statusCode()).isEqualTo(200);
        assertThat(get("/v1/runs/" + finished.get(2)).statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(get("/v1/runs?project=" + project).body())
                        .path("items")
                        .findValuesAsText("runId"))
                .doesNotContain(finished.get(0))
                .hasSize(2);

        HttpRequest.Builder delete = request(path, adminToken).DELETE();
        assertThat(HTTP.send(delete.build(), HttpResponse.BodyHandlers.ofString())
                        .statusCode())
                .isEqualTo(204);
        assertThat(get(path).statusCode()).isEqualTo(404);
    }

    private static HttpResponse<String> get(String path) throws Exception {
        return get(path, adminToken);
    }

    private static HttpResponse<String> post(String path, String body) throws Exception {
        return post(path, body, adminToken);
    }

    private static HttpResponse<String> get(String path, String token) throws Exception {
        return ApiCalls.get(api.baseUrl() + path, token);
    }

    private static HttpResponse<String> post(String path, String body, String token) throws Exception {
        return ApiCalls.post(api.baseUrl() + path, body, token);
    }

    private static HttpResponse<String> put(String path, String body, Map<String, String> headers) throws Exception {
        return put(path, body, headers, adminToken);
    }

    private static HttpResponse<String> put(String path, String body, Map<String, String> headers, String token)
            throws Exception {
        HttpRequest.Builder request = request(path, token)
                .header("Content-Type", "text/plain")
                .PUT(HttpRequest.BodyPublishers.ofString(body));
        headers.forEach(request::header);
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpRequest.Builder request(String path, String token) {
        return ApiCalls.request(api.baseUrl() + path, token);
    }
}
