package dev.substrate.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.substrate.api.auth.Role;
import dev.substrate.api.auth.TokenFile;
import dev.substrate.testing.KafkaCluster;
import dev.substrate.testing.SharedKafka;
import java.io.InputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The permission matrix, generated from the route table itself: every route the API registers ({@link
 * HttpApi#endpoints()}), asked by every role, unscoped, scoped to the fixtures' projects and scoped elsewhere, member
 * and non-member of the fixtures' room, on both of two instances (so that every keyed read is answered once where
 * its key lives and once forwarded), with the expected answer derived from one table ({@link #RULES}) and not from
 * the product's code. A route with no entry in the table fails the test: a new route cannot go unchecked.
 */
@ExtendWith(SharedKafka.class)
@Timeout(600)
class PermissionMatrixIT {

    private static final Logger log = LoggerFactory.getLogger(PermissionMatrixIT.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What a route touches. */
    enum Target {
        NONE,
        TOKEN,
        WEBHOOK,
        RUN,
        ROOM,
        ARTIFACT
    }

    /**
     * What the table says of one route: the permission the route must be registered with, what it touches, and
     * the status of an allowed call.
     */
    record Rule(String permission, Target target, int allowed) {}

    /** Every route, by {@code METHOD path}: the one table the expectations come from. */
    static final Map<String, Rule> RULES = new TreeMap<>();

    static {
        rule("GET /health", "PUBLIC", Target.NONE, 200);
        rule("GET /ready", "PUBLIC", Target.NONE, 200);
        rule("GET /openapi.json", "PUBLIC", Target.NONE, 200);
        rule("GET /metrics", "AUTHENTICATED", Target.NONE, 200);
        rule("GET /v1/whoami", "AUTHENTICATED", Target.NONE, 200);
        rule("POST /v1/tokens", "MANAGE_TOKENS", Target.TOKEN, 201);
        rule("GET /v1/tokens", "MANAGE_TOKENS", Target.TOKEN, 200);
        // An id no token has: an admin is told so, anyone else may not ask.
        rule("DELETE /v1/tokens/{tokenId}", "MANAGE_TOKENS", Target.TOKEN, 404);
        rule("POST /v1/webhooks", "MANAGE_WEBHOOKS", Target.WEBHOOK, 201);
        rule("GET /v1/webhooks", "MANAGE_WEBHOOKS", Target.WEBHOOK, 200);
        // An id no subscription has.
        rule("GET /v1/webhooks/{webhookId}", "MANAGE_WEBHOOKS", Target.WEBHOOK, 404);
        rule("DELETE /v1/webhooks/{webhookId}", "MANAGE_WEBHOOKS", Target.WEBHOOK, 404);
        rule("POST /v1/webhooks/{webhookId}/replay", "MANAGE_WEBHOOKS", Target.WEBHOOK, 404);
        rule("GET /v1/runs/counts", "LIST", Target.RUN, 200);
        rule("GET /v1/usage", "LIST", Target.RUN, 200);
        rule("GET /v1/prices", "LIST", Target.NONE, 200);
        rule("PUT /v1/prices", "MANAGE_PRICES", Target.NONE, 200);
        rule("GET /v1/retention/policies", "LIST", Target.NONE, 200);
        // A policy set disabled (it deletes nothing); the reads, removal and plan name one no one set.
        rule("PUT /v1/retention/policies/{policyId}", "MANAGE_RETENTION", Target.NONE, 200);
        rule("GET /v1/retention/policies/{policyId}", "LIST", Target.NONE, 404);
        rule("DELETE /v1/retention/policies/{policyId}", "MANAGE_RETENTION", Target.NONE, 404);
        rule("GET /v1/retention/plan", "MANAGE_RETENTION", Target.NONE, 404);
        // A room no one created: there is nothing to erase.
        rule("POST /v1/erasures", "ERASE", Target.NONE, 404);
        // No project is encrypted on the fixtures' instances: nothing to rewrap.
        rule("POST /v1/keys/rewrap", "ERASE", Target.NONE, 200);
        // An export of one agent span of the fixtures' project: it creates a run (once; then duplicates).
        rule("POST /v1/otlp/v1/traces", "CREATE", Target.RUN, 200);
        rule("POST /v1/runs", "CREATE", Target.RUN, 202);
        rule("GET /v1/runs", "LIST", Target.RUN, 200);
        rule("GET /v1/runs/{runId}", "READ", Target.RUN, 200);
        rule("POST /v1/runs/{runId}/events", "APPEND", Target.RUN, 202);
        rule("GET /v1/runs/{runId}/outcomes/{eventId}", "READ", Target.RUN, 200);
        rule("GET /v1/runs/{runId}/events", "READ", Target.RUN, 200);
        // The fixture run raised no interrupt: an allowed answer is decided by the fold, and refused.
        rule("POST /v1/runs/{runId}/interrupts/{interruptId}/answer", "APPEND", Target.RUN, 409);
        rule("POST /v1/rooms", "CREATE", Target.ROOM, 202);
        rule("GET /v1/rooms", "LIST", Target.ROOM, 200);
        rule("GET /v1/rooms/{roomId}", "READ", Target.ROOM, 200);
        rule("POST /v1/rooms/{roomId}/events", "APPEND", Target.ROOM, 202);
        rule("GET /v1/rooms/{roomId}/outcomes/{eventId}", "READ", Target.ROOM, 200);
        rule("GET /v1/rooms/{roomId}/transcript", "READ", Target.ROOM, 200);
        rule("GET /v1/rooms/{roomId}/stream", "READ", Target.ROOM, 200);
        rule("GET /v1/rooms/{roomId}/ag-ui", "READ", Target.ROOM, 200);
        rule("POST /v1/rooms/{roomId}/ag-ui", "READ", Target.ROOM, 200);
        // The fixture room has no turn in progress: nothing to resume.
        rule("GET /v1/rooms/{roomId}/ai-sdk/stream", "READ", Target.ROOM, 204);
        rule("GET /v1/rooms/{roomId}/ai-sdk/messages", "READ", Target.ROOM, 200);
        rule("GET /v1/rooms/{roomId}/ds", "READ", Target.ROOM, 200);
        rule("HEAD /v1/rooms/{roomId}/ds", "READ", Target.ROOM, 200);
        // Read-only: refused once the caller was found to read the room, so a non-reader learns nothing.
        rule("POST /v1/rooms/{roomId}/ds", "READ", Target.ROOM, 405);
        rule("PUT /v1/rooms/{roomId}/ds", "READ", Target.ROOM, 405);
        rule("DELETE /v1/rooms/{roomId}/ds", "READ", Target.ROOM, 405);
        rule("POST /v1/rooms/{roomId}/ws-ticket", "READ", Target.ROOM, 200);
        // A plain GET of the WebSocket is decided as its upgrade is, then answered 426.
        rule("GET /v1/rooms/{roomId}/ws", "READ", Target.ROOM, 426);
        rule("POST /v1/artifacts", "CREATE", Target.ARTIFACT, 202);
        rule("GET /v1/artifacts", "LIST", Target.ARTIFACT, 200);
        rule("GET /v1/artifacts/{artifactId}", "READ", Target.ARTIFACT, 200);
        rule("POST /v1/artifacts/{artifactId}/events", "APPEND", Target.ARTIFACT, 202);
        rule("GET /v1/artifacts/{artifactId}/outcomes/{eventId}", "READ", Target.ARTIFACT, 200);
        rule("PUT /v1/artifacts/{artifactId}/content", "APPEND", Target.ARTIFACT, 202);
        rule("GET /v1/artifacts/{artifactId}/content", "READ", Target.ARTIFACT, 200);
        // Instances ask each other here, signed; a caller with a token of its own is refused.
        rule("GET /internal/entities/{kind}/{id}", "INSTANCE", Target.NONE, 403);
    }

    private static void rule(String route, String permission, Target target, int allowed) {
        RULES.put(route, new Rule(permission, target, allowed));
    }

    /** Where a token reaches: every project, the fixtures' projects, or only others. */
    enum Reach {
        ALL(null),
        IN("project:in/*"),
        OUT("project:out/*");

        final String pattern;

        Reach(String pattern) {
            this.pattern = pattern;
        }
    }

    /** One caller of the matrix: no token at all when {@code role} is null. */
    record Caller(Role role, Reach reach, boolean member, String token) {
        String name() {
            return role == null ? "anonymous" : role.id() + "-" + reach.name().toLowerCase() + (member ? "-m" : "-n");
        }
    }

    private static final String PROJECT = "project:in/x";

    @TempDir
    static Path dir;

    private static final List<ApiInstance> instances = new ArrayList<>();
    private static final List<Caller> callers = new ArrayList<>();
    private static String admin;
    private static String runId;
    private static String runEvent;
    private static String roomId;
    private static String roomEvent;
    private static String artifactId;
    private static String artifactEvent;

    @BeforeAll
    static void start(KafkaCluster kafka) throws Exception {
        TokenFile file = new TokenFile(dir.resolve("tokens.json"));
        admin = file.create("root", Set.of(Role.ADMIN));
        instances.addAll(ApiInstance.startApplication(kafka, "matrix", dir, file, 2, 4));
        callers.add(new Caller(null, Reach.ALL, false, null));
        StringBuilder members = new StringBuilder();
        for (Role role : Role.values()) {
            for (Reach reach : Reach.values()) {
                for (boolean member : List.of(true, false)) {
                    Caller unminted = new Caller(role, reach, member, null);
                    String token = instances
                            .get(0)
                            .tokens
                            .create(
                                    unminted.name(),
                                    Set.of(role),
                                    reach.pattern == null ? List.of() : List.of(reach.pattern),
                                    "matrix")
                            .token();
                    callers.add(new Caller(role, reach, member, token));
                    if (member) {
                        members.append(members.length() == 0 ? "" : ",")
                                .append("{\"principal\": \"")
                                .append(unminted.name())
                                .append("\", \"role\": \"writer\"}");
                    }
                }
            }
        }
        // Every token known to the other instance before it is asked in a forwarded request's claims.
        for (Caller caller : callers) {
            if (caller.token() != null) {
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> ApiCalls.get(url(1, "/v1/whoami"), caller.token())
                                        .statusCode()
                                == 200);
            }
        }
        // With usage, so that GET /v1/usage has the fixture's project to show (or hide).
        var run = created(
                "/v1/runs", "{\"project\": \"" + PROJECT + "\", \"usage\": {\"model\": \"m\", \"inputTokens\": 3}}");
        runId = run.path("runId").asText();
        runEvent = run.path("eventId").asText();
        var room = created(
                "/v1/rooms",
                "{\"kind\": \"session\", \"project\": \"" + PROJECT + "\", \"members\": [" + members + "]}");
        roomId = room.path("roomId").asText();
        roomEvent = room.path("eventId").asText();
        var artifact = created(
                "/v1/artifacts",
                "{\"kind\": \"report\", \"name\": \"r\", \"parentId\": \"" + PROJECT + "\", \"provenance\": "
                        + "{\"roomId\": \"" + roomId + "\"}}");
        artifactId = artifact.path("artifactId").asText();
        HttpResponse<String> put = ApiCalls.HTTP.send(
                ApiCalls.request(url(0, "/v1/artifacts/" + artifactId + "/content?wait=applied"), admin)
                        .header("Content-Type", "text/plain")
                        .PUT(HttpRequest.BodyPublishers.ofString("the room's report"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
        artifactEvent = JSON.readTree(put.body()).path("eventId").asText();
    }

    @AfterAll
    static void stop() {
        instances.forEach(ApiInstance::close);
    }

    private static String url(int instance, String path) {
        return instances.get(instance).url() + path;
    }

    private static com.fasterxml.jackson.databind.JsonNode created(String path, String body) throws Exception {
        HttpResponse<String> answer = ApiCalls.post(url(0, path + "?wait=applied"), body, admin);
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        return JSON.readTree(answer.body());
    }

    @Test
    void everyRouteAnswersEveryCallerAsTheTableSays() throws Exception {
        List<HttpApi.Endpoint> endpoints = instances.get(0).api.endpoints();
        List<String> missing = new ArrayList<>();
        for (HttpApi.Endpoint endpoint : endpoints) {
            if (!RULES.containsKey(endpoint.method() + " " + endpoint.path())) {
                missing.add(endpoint.method() + " " + endpoint.path());
            }
        }
        if (!missing.isEmpty()) {
            fail("routes with no entry in the permission matrix (add one to PermissionMatrixIT.RULES): " + missing);
        }
        assertThat(RULES.keySet())
                .as("every entry of the table is a route")
                .containsExactlyInAnyOrderElementsOf(endpoints.stream()
                        .map(endpoint -> endpoint.method() + " " + endpoint.path())
                        .toList());

        List<String> wrong = new ArrayList<>();
        int cases = 0;
        for (HttpApi.Endpoint endpoint : endpoints) {
            Rule rule = RULES.get(endpoint.method() + " " + endpoint.path());
            assertThat(endpoint.permission())
                    .as(endpoint.method() + " " + endpoint.path() + " is registered with the permission the table says")
                    .isEqualTo(rule.permission());
            for (Caller caller : callers) {
                int expected = expected(rule, caller);
                for (int instance = 0; instance < instances.size(); instance++) {
                    Answer answer = call(instance, endpoint, caller);
                    cases++;
                    if (answer.status() != expected) {
                        wrong.add(endpoint.method() + " " + endpoint.path() + " by " + caller.name() + " on "
                                + "abcd".charAt(instance) + ": " + answer.status() + ", expected " + expected + " ("
                                + answer.body() + ")");
                    } else if (expected == 200 && rule.permission().equals("LIST")) {
                        listedOnlyWhatItMayRead(rule, caller, answer, wrong, endpoint);
                    }
                }
            }
        }
        log.info(
                "Permission matrix: {} routes x {} callers x {} instances = {} cases",
                endpoints.size(),
                callers.size(),
                instances.size(),
                cases);
        System.out.printf(
                "Permission matrix: %d routes x %d callers x %d instances = %d cases%n",
                endpoints.size(), callers.size(), instances.size(), cases);
        assertThat(wrong).as("answers that differ from the table").isEmpty();
    }

    /** The answer the table gives {@code caller} on a route of {@code rule}. */
    static int expected(Rule rule, Caller caller) {
        if (rule.permission().equals("PUBLIC") || rule.permission().equals("INSTANCE")) {
            // An instance's route is refused to every caller that is not an instance, token or none.
            return rule.allowed();
        }
        if (caller.role() == null) {
            return 401;
        }
        boolean appender = caller.role() != Role.OBSERVER;
        boolean everyRoom = caller.role() == Role.ADMIN || caller.role() == Role.OPERATOR;
        boolean outside = caller.reach() == Reach.OUT;
        switch (rule.permission()) {
            case "AUTHENTICATED", "LIST":
                return rule.allowed();
            case "MANAGE_TOKENS", "MANAGE_PRICES", "MANAGE_RETENTION", "ERASE":
                return caller.role() == Role.ADMIN ? rule.allowed() : 403;
            case "MANAGE_WEBHOOKS":
                if (!everyRoom) {
                    return 403;
                }
                // The subscription sent names the fixtures' project: outside it, one may not subscribe to it.
                return outside && rule.allowed() == 201 ? 403 : rule.allowed();
            case "CREATE":
                if (!appender || outside) {
                    return 403;
                }
                // An artifact of a room is created by its writers (and operators and admins).
                return rule.target() == Target.ARTIFACT && !everyRoom && !caller.member() ? 403 : rule.allowed();
            case "APPEND":
                if (!appender) {
                    return 403;
                }
                if (outside) {
                    return 404;
                }
                return switch (rule.target()) {
                    case RUN -> rule.allowed();
                    // The actor's membership decides, whatever its role: the fold applies the same rule.
                    case ROOM -> caller.member() ? rule.allowed() : 403;
                    case ARTIFACT -> everyRoom || caller.member() ? rule.allowed() : 403;
                    default -> throw new IllegalStateException(rule.toString());
                };
            case "READ":
                if (outside) {
                    return 404;
                }
                return rule.target() == Target.RUN || everyRoom || caller.member() ? rule.allowed() : 403;
            default:
                throw new IllegalStateException("no expectation for " + rule);
        }
    }

    /** A list answers nothing of the fixtures to a caller who may not read them. */
    private static void listedOnlyWhatItMayRead(
            Rule rule, Caller caller, Answer answer, List<String> wrong, HttpApi.Endpoint endpoint) {
        boolean everyRoom = caller.role() == Role.ADMIN || caller.role() == Role.OPERATOR;
        boolean mayRead = caller.reach() != Reach.OUT && (rule.target() == Target.RUN || everyRoom || caller.member());
        if (rule.target() == Target.NONE) {
            // Not a list of entities (the price table): nothing of the fixtures to leave out.
            return;
        }
        String fixture = switch (rule.target()) {
            case RUN -> endpoint.path().endsWith("counts") || endpoint.path().endsWith("usage") ? PROJECT : runId;
            case ROOM -> roomId;
            case ARTIFACT -> artifactId;
            default -> throw new IllegalStateException(rule.toString());
        };
        if (!mayRead && answer.body().contains(fixture)) {
            wrong.add(endpoint.path() + " listed " + fixture + " to " + caller.name());
        }
    }

    record Answer(int status, String body) {}

    /** Calls {@code endpoint} on instance {@code instance} as {@code caller}, with what the route needs. */
    private static Answer call(int instance, HttpApi.Endpoint endpoint, Caller caller) throws Exception {
        String path = endpoint.path()
                .replace("{kind}/{id}", "room/" + roomId)
                .replace("{runId}", runId)
                .replace("{roomId}", roomId)
                .replace("{artifactId}", artifactId)
                .replace("{tokenId}", "00000000deadbeef")
                .replace("{interruptId}", "no-such-interrupt")
                .replace("{webhookId}", "wh-none")
                .replace("{policyId}", endpoint.method().equals("PUT") ? "matrix-set" : "matrix-none")
                .replace(
                        "{eventId}",
                        endpoint.path().startsWith("/v1/runs")
                                ? runEvent
                                : endpoint.path().startsWith("/v1/rooms") ? roomEvent : artifactEvent);
        if (path.equals("/v1/runs/counts")) {
            path += "?groupBy=project";
        }
        if (path.equals("/v1/retention/plan")) {
            path += "?policy=matrix-none";
        }
        HttpRequest.Builder request = ApiCalls.request(url(instance, path), caller.token());
        String body = body(endpoint);
        String contentType = endpoint.method().equals("PUT") ? "text/plain" : "application/json";
        request.method(
                endpoint.method(),
                body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            request.header("Content-Type", contentType);
        }
        if (path.endsWith("/stream") || path.endsWith("/ag-ui")) {
            // A stream answers its status, then goes on: read the status and leave.
            HttpResponse<InputStream> streamed =
                    ApiCalls.HTTP.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream in = streamed.body()) {
                return new Answer(
                        streamed.statusCode(),
                        streamed.statusCode() == 200
                                ? ""
                                : new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
            }
        }
        HttpResponse<String> answer = ApiCalls.HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
        return new Answer(answer.statusCode(), answer.body());
    }

    /** What a route that takes a body is sent: a harmless, valid one. */
    private static String body(HttpApi.Endpoint endpoint) {
        return switch (endpoint.method() + " " + endpoint.path()) {
            case "POST /v1/tokens" -> "{\"principal\": \"minted\", \"roles\": [\"observer\"]}";
            case "POST /v1/runs" -> "{\"project\": \"" + PROJECT + "\"}";
            case "POST /v1/rooms" -> "{\"kind\": \"session\", \"project\": \"" + PROJECT + "\"}";
            case "POST /v1/artifacts" ->
                "{\"kind\": \"report\", \"name\": \"n\", \"parentId\": \"" + PROJECT + "\", \"provenance\": "
                        + "{\"roomId\": \"" + roomId + "\"}}";
            case "POST /v1/runs/{runId}/events" -> "{\"type\": \"RunLabelled\", \"labels\": {\"k\": \"v\"}}";
            case "POST /v1/erasures" -> "{\"room\": \"no-such-room\", \"reason\": \"the matrix\"}";
            case "PUT /v1/retention/policies/{policyId}" ->
                "{\"applies\": \"runs\", \"olderThan\": \"3650d\", \"enabled\": false}";
            case "PUT /v1/prices" ->
                "{\"currency\": \"USD\", \"models\": {\"m\": {\"inputPerMillion\": 1, \"outputPerMillion\": \"2\"}}}";
            case "POST /v1/otlp/v1/traces" ->
                "{\"resourceSpans\": [{\"resource\": {\"attributes\": [{\"key\": \"substrate.project\", \"value\":"
                        + " {\"stringValue\": \"" + PROJECT + "\"}}]}, \"scopeSpans\": [{\"spans\": [{\"traceId\":"
                        + " \"5f0c0ffee0ddf00d5f0c0ffee0ddf00d\", \"spanId\": \"00f067aa0ba902b7\", \"name\": \"invoke_agent\","
                        + " \"startTimeUnixNano\": \"1700000000000000000\", \"endTimeUnixNano\": \"1700000001000000000\","
                        + " \"attributes\": [{\"key\": \"gen_ai.operation.name\", \"value\": {\"stringValue\":"
                        + " \"invoke_agent\"}}]}]}]}]}";
            case "POST /v1/runs/{runId}/interrupts/{interruptId}/answer" -> "{\"status\": \"cancelled\"}";
            // A documentation address (TEST-NET-1): public, so allowed, and never reached.
            case "POST /v1/webhooks" ->
                "{\"url\": \"http://192.0.2.10/hook\", \"events\": [\"run.timed_out\"], \"projects\": [\"" + PROJECT
                        + "\"]}";
            case "POST /v1/webhooks/{webhookId}/replay" -> "{\"from\": \"2026-01-01T00:00:00Z\"}";
            case "POST /v1/rooms/{roomId}/events" ->
                "{\"type\": \"LogEmitted\", \"level\": \"info\", \"message\": \"m\"}";
            case "POST /v1/artifacts/{artifactId}/events" -> "{\"type\": \"ArtifactRevised\", \"note\": \"n\"}";
            case "PUT /v1/artifacts/{artifactId}/content" -> "new content";
            case "POST /v1/rooms/{roomId}/ag-ui" -> "{\"threadId\": \"" + roomId + "\", \"runId\": \"r1\"}";
            default -> null;
        };
    }
}
