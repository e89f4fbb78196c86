package dev.substrate.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.substrate.api.auth.Role;
import dev.substrate.api.auth.TokenFile;
import dev.substrate.testing.KafkaCluster;
import dev.substrate.testing.SharedKafka;
import dev.substrate.testing.SseConnection;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** {@code GET /v1/rooms/{id}/stream}: resume, fan-out from one consumer, the blocks view, and room permissions. */
@ExtendWith(SharedKafka.class)
@Timeout(300)
class RoomStreamSseIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = ApiCalls.HTTP;

    private static ApiInstance instance;

    @TempDir
    static Path dataDir;

    private static String operator;
    private static String owner;
    private static String reader;
    private static String writer;
    private static String outsider;

    @BeforeAll
    static void start(KafkaCluster kafka) throws Exception {
        TokenFile tokens = new TokenFile(dataDir.resolve("tokens.json"));
        operator = tokens.create("ops", Set.of(Role.OPERATOR));
        owner = tokens.create("svc:owner", Set.of(Role.SERVICE));
        reader = tokens.create("ui:reader", Set.of(Role.OBSERVER));
        writer = tokens.create("svc:writer", Set.of(Role.SERVICE));
        outsider = tokens.create("svc:outsider", Set.of(Role.SERVICE));
        // One principal opens the fan-out test's 500 streams.
        instance = ApiInstance.startReady(
                kafka,
                "sse",
                dataDir,
                tokens,
                "stream.heartbeat.ms",
                "300",
                "stream.max.clients.per.principal",
                "1000");
    }

    @AfterAll
    static void stop() {
        if (instance != null) {
            instance.close();
        }
    }

    @Test
    void aClientThatReconnectsWithLastEventIdDuringAppendsLosesAndRepeatsNothing() throws Exception {
        String roomId = createRoom("[]");
        List<String> appended = new ArrayList<>();
        appended.add(firstEventId(roomId));
        CompletableFuture<Void> appending = CompletableFuture.runAsync(() -> {
            for (int i = 0; i < 300; i++) {
                appended.add(append(
                        roomId,
                        "{\"type\": \"LogEmitted\", \"level\": \"info\", \"message\": \"line " + i + "\"}",
                        operator));
            }
        });

        SseConnection first = stream(roomId, "", operator, Map.of());
        await().atMost(Duration.ofSeconds(60)).until(() -> first.events().size() >= 60);
        first.close();
        List<SseConnection.Event> before = first.events();
        String lastId = before.get(before.size() - 1).id();

        SseConnection second = stream(roomId, "", operator, Map.of("Last-Event-ID", lastId));
        appending.get();
        // Said on failure: whether the second stream ended (and how), and the last event it got.
        await().atMost(Duration.ofSeconds(60))
                .untilAsserted(() -> assertThat(before.size() + second.events().size())
                        .as(
                                "events before the reconnect + after it; the second stream %s, status %d, last %s",
                                second.ended() ? "ended (" + second.failure() + ")" : "open",
                                second.status(),
                                second.events().isEmpty()
                                        ? "none"
                                        : second.events().get(second.events().size() - 1))
                        .isGreaterThanOrEqualTo(appended.size()));
        second.close();

        List<String> seen = new ArrayList<>();
        List<Long> cursors = new ArrayList<>();
        for (SseConnection.Event event : concat(before, second.events())) {
            seen.add(JSON.readTree(event.data()).get("eventId").asText());
            cursors.add(Long.parseLong(event.id()));
        }
        System.out.printf(
                "SSE resume: %d events before the disconnect, %d after, %d appended%n",
                before.size(), second.events().size(), appended.size());
        assertThat(seen).as("every event once, in order").isEqualTo(appended);
        assertThat(cursors).isSorted().doesNotHaveDuplicates();
    }

    @Test
    void fiveHundredClientsOnOneRoomAreFedByOneConsumer() throws Exception {
        String roomId = createRoom("[]");
        await().atMost(Duration.ofSeconds(30)).until(() -> gauge("substrate_room_streams_open") == 0);
        List<SseConnection> clients = new ArrayList<>();
        try {
            for (int i = 0; i < 500; i++) {
                clients.add(stream(roomId, "", operator, Map.of()));
            }
            await().atMost(Duration.ofSeconds(120))
                    .until(() ->
                            clients.stream().allMatch(client -> client.events().size() == 1));
            List<String> appended = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                appended.add(append(
                        roomId, "{\"type\": \"TextDelta\", \"blockId\": \"b\", \"text\": \"" + i + "\"}", operator));
            }
            await().atMost(Duration.ofSeconds(120))
                    .until(() ->
                            clients.stream().allMatch(client -> client.events().size() == 21));
            long open = gauge("substrate_room_streams_open");
            long consumers = gauge("substrate_room_stream_consumers");
            System.out.printf("SSE fan-out: %d clients open, fed by %d Kafka consumer(s)%n", open, consumers);
            assertThat(open).isEqualTo(500);
            assertThat(consumers).isEqualTo(1);
            for (SseConnection client : clients) {
                List<String> ids = new ArrayList<>();
                for (SseConnection.Event event : client.events().subList(1, 21)) {
                    ids.add(JSON.readTree(event.data()).get("eventId").asText());
                }
                assertThat(ids).isEqualTo(appended);
            }
        } finally {
            clients.forEach(SseConnection::close);
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> gauge("substrate_room_stream_consumers") == 0);
    }

    @Test
    void aWebSocketClientThatStopsReadingIsClosedAsSlowAndItsSlotFreed() throws Exception {
        String roomId = createRoom("[]");
        await().atMost(Duration.ofSeconds(30)).until(() -> gauge("substrate_room_streams_open") == 0);
        CompletableFuture<Integer> closed = new CompletableFuture<>();
        java.util.concurrent.atomic.AtomicInteger received = new java.util.concurrent.atomic.AtomicInteger();
        java.net.http.WebSocket.Listener stalled = new java.net.http.WebSocket.Listener() {
            @Override
            public void onOpen(java.net.http.WebSocket socket) {
                socket.request(1); // the snapshot, then nothing: the client stops reading
            }

            @Override
            public java.util.concurrent.CompletionStage<?> onText(
                    java.net.http.WebSocket socket, CharSequence data, boolean last) {
                received.incrementAndGet();
                return null;
            }

            @Override
            public java.util.concurrent.CompletionStage<?> onClose(
                    java.net.http.WebSocket socket, int status, String reason) {
                closed.complete(status);
                return null;
            }
        };
        java.net.http.WebSocket socket = HttpClient.newHttpClient()
                .newWebSocketBuilder()
                .header("Authorization", "Bearer " + operator)
                .buildAsync(URI.create(instance.url().replace("http", "ws") + "/v1/rooms/" + roomId + "/ws"), stalled)
                .get(30, java.util.concurrent.TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(30)).until(() -> gauge("substrate_room_streams_open") == 1);

        // More than the connection's buffers hold, and more events than a subscription buffers (1024).
        String line = "x".repeat(8 * 1024);
        for (int i = 0; i < 2_000; i++) {
            append(roomId, "{\"type\": \"LogEmitted\", \"level\": \"info\", \"message\": \"" + line + "\"}", operator);
        }

        // The server lets the stalled client go (two heartbeats, at least 5 s, for a message) and frees its slot.
        await().atMost(Duration.ofSeconds(60)).until(() -> gauge("substrate_room_streams_open") == 0);
        socket.request(Long.MAX_VALUE);
        assertThat(closed.get(60, java.util.concurrent.TimeUnit.SECONDS))
                .as("closed as slow (try again later), after " + received.get() + " messages")
                .isEqualTo(1013);
    }

    @Test
    void theBlocksViewSendsWholeBlocksAndResumesInsideAnOpenBlock() throws Exception {
        String roomId = createRoom("[]");
        append(
                roomId,
                "{\"type\": \"BlockStarted\", \"blockId\": \"b1\", \"kind\": \"text\", \"role\": \"assistant\"}",
                operator);
        append(roomId, "{\"type\": \"TextDelta\", \"blockId\": \"b1\", \"text\": \"Hel\"}", operator);
        SseConnection raw = stream(roomId, "", operator, Map.of());
        await().atMost(Duration.ofSeconds(30)).until(() -> raw.events().size() == 3);
        raw.close();
        String insideTheBlock = raw.events().get(2).id();
        // The fold has applied the delta before the resume, so the open block comes from the room's state.
        get("/v1/rooms/" + roomId + "?position=" + lastPosition, operator);

        SseConnection blocks = stream(roomId, "?view=blocks", operator, Map.of("Last-Event-ID", insideTheBlock));
        SseConnection fromStart = stream(roomId, "?view=blocks", operator, Map.of());
        append(roomId, "{\"type\": \"TextDelta\", \"blockId\": \"b1\", \"text\": \"lo\"}", operator);
        append(roomId, "{\"type\": \"BlockCompleted\", \"blockId\": \"b1\"}", operator);
        append(roomId, "{\"type\": \"LogEmitted\", \"level\": \"warn\", \"message\": \"disk\"}", operator);

        await().atMost(Duration.ofSeconds(30)).until(() -> blocks.events().size() == 2);
        await().atMost(Duration.ofSeconds(30)).until(() -> fromStart.events().size() == 3);
        blocks.close();
        fromStart.close();
        assertThat(blocks.events()).extracting(SseConnection.Event::name).containsExactly("block", "LogEmitted");
        JsonNode block = JSON.readTree(blocks.events().get(0).data());
        assertThat(block.get("text").asText()).isEqualTo("Hello");
        assertThat(block.get("role").asText()).isEqualTo("assistant");
        assertThat(block.get("startCursor").asLong()).isLessThan(Long.parseLong(insideTheBlock));
        assertThat(fromStart.events())
                .extracting(SseConnection.Event::name)
                .containsExactly("RoomCreated", "block", "LogEmitted");
        assertThat(JSON.readTree(fromStart.events().get(1).data()).get("text").asText())
                .isEqualTo("Hello");
    }

    @Test
    void membersReadOutsidersAreRefusedAndARevokedReadersStreamEnds() throws Exception {
        String roomId = createRoom("[{\"principal\": \"svc:owner\", \"role\": \"owner\"}]", owner);
        assertStatus(get("/v1/rooms/" + roomId + "/stream", outsider), 403);
        assertStatus(get("/v1/rooms/" + roomId + "/stream", reader), 403);
        assertStatus(get("/v1/rooms/" + roomId, outsider), 403);
        assertStatus(
                post(
                        "/v1/rooms/" + roomId + "/events",
                        "{\"type\": \"LogEmitted\", \"level\": \"info\", " + "\"message\": \"x\"}",
                        outsider),
                403);

        appendApplied(
                roomId,
                "{\"type\": \"MemberGranted\", \"member\": {\"principal\": \"ui:reader\", \"role\": " + "\"reader\"}}",
                owner);
        appendApplied(
                roomId,
                "{\"type\": \"MemberGranted\", \"member\": {\"principal\": \"svc:writer\", \"role\": " + "\"writer\"}}",
                owner);
        SseConnection granted = stream(roomId, "", reader, Map.of());
        await().atMost(Duration.ofSeconds(30)).until(() -> granted.events().size() == 3);
        assertThat(granted.status()).isEqualTo(200);

        assertStatus(
                post(
                        "/v1/rooms/" + roomId + "/events",
                        "{\"type\": \"LogEmitted\", \"level\": \"info\", " + "\"message\": \"x\"}",
                        reader),
                403);
        assertStatus(
                post(
                        "/v1/rooms/" + roomId + "/events",
                        "{\"type\": \"MemberRevoked\", \"principal\": " + "\"ui:reader\"}",
                        writer),
                403);
        appendApplied(
                roomId, "{\"type\": \"LogEmitted\", \"level\": \"info\", \"message\": \"by the writer\"}", writer);
        await().atMost(Duration.ofSeconds(30)).until(() -> granted.events().size() == 4);

        appendApplied(roomId, "{\"type\": \"MemberRevoked\", \"principal\": \"ui:reader\"}", owner);
        appendApplied(roomId, "{\"type\": \"LogEmitted\", \"level\": \"info\", \"message\": \"after\"}", writer);
        await().atMost(Duration.ofSeconds(30)).until(granted::ended);
        List<SseConnection.Event> events = granted.events();
        SseConnection.Event end = events.get(events.size() - 1);
        assertThat(end.name()).isEqualTo("end");
        assertThat(JSON.readTree(end.data()).get("reason").asText()).isEqualTo("revoked");
        assertThat(events).extracting(SseConnection.Event::name).doesNotContain("MemberRevoked");
        assertThat(events.stream().map(SseConnection.Event::data)).noneMatch(data -> data.contains("after"));
        assertStatus(get("/v1/rooms/" + roomId + "/stream", reader), 403);
    }

    @Test
    void theAgUiViewEndsARevokedReadersRunWithRunErrorAndRefusesBadInput() throws Exception {
        String roomId = createRoom(
                "[{\"principal\": \"svc:owner\", \"role\": \"owner\"}, {\"principal\": \"ui:reader\", \"role\": "
                        + "\"reader\"}]",
                owner);
        Map<String, String> auth = Map.of("Authorization", "Bearer " + reader);
        SseConnection agUi =
                SseConnection.open(HTTP, instance.url() + "/v1/rooms/" + roomId + "/ag-ui?runId=ui-1", auth);
        await().atMost(Duration.ofSeconds(30)).until(() -> agUi.events().size() >= 3);
        JsonNode started = JSON.readTree(agUi.events().get(0).data());
        assertThat(started.get("type").asText()).isEqualTo("RUN_STARTED");
        assertThat(started.get("threadId").asText()).isEqualTo(roomId);
        assertThat(started.get("runId").asText()).isEqualTo("ui-1");

        appendApplied(roomId, "{\"type\": \"MemberRevoked\", \"principal\": \"ui:reader\"}", owner);
        await().atMost(Duration.ofSeconds(30)).until(agUi::ended);
        JsonNode last =
                JSON.readTree(agUi.events().get(agUi.events().size() - 1).data());
        assertThat(last.get("type").asText()).isEqualTo("RUN_ERROR");
        assertThat(last.get("code").asText()).isEqualTo("revoked");

        assertStatus(post("/v1/rooms/" + roomId + "/ag-ui", "{\"threadId\": \"other\", \"runId\": \"r\"}", owner), 400);
        assertStatus(post("/v1/rooms/" + roomId + "/ag-ui", "{\"threadId\": \"" + roomId + "\"}", owner), 400);
        assertStatus(post("/v1/rooms/" + roomId + "/ag-ui", "{\"runId\": \"r\"}", reader), 403);
    }

    @Test
    void refusesBadStreamRequestsAndSendsHeartbeats() throws Exception {
        String roomId = createRoom("[]");
        assertStatus(get("/v1/rooms/" + roomId + "/stream?view=deltas", operator), 400);
        assertStatus(get("/v1/rooms/" + roomId + "/stream?after=abc", operator), 400);
        assertStatus(get("/v1/rooms/" + roomId + "/stream?from=later", operator), 400);
        assertStatus(get("/v1/rooms/" + roomId + "/stream?from=now&after=3", operator), 400);
        assertStatus(get("/v1/rooms/room-missing/stream", operator), 404);
        assertStatus(get("/v1/rooms/" + roomId + "/stream", null), 401);

        SseConnection live = stream(roomId, "?from=now", operator, Map.of());
        await().atMost(Duration.ofSeconds(30)).until(() -> live.comments().contains("heartbeat"));
        String eventId = append(roomId, "{\"type\": \"StatusChanged\", \"status\": \"ready\"}", operator);
        await().atMost(Duration.ofSeconds(30)).until(() -> live.events().size() == 1);
        live.close();
        assertThat(JSON.readTree(live.events().get(0).data()).get("eventId").asText())
                .isEqualTo(eventId);
        assertThat(live.events().get(0).name()).isEqualTo("StatusChanged");
    }

    // --- helpers ---

    private static volatile String lastPosition;

    private static SseConnection stream(String roomId, String query, String token, Map<String, String> headers) {
        Map<String, String> all = new java.util.HashMap<>(headers);
        all.put("Authorization", "Bearer " + token);
        return SseConnection.open(HTTP, instance.url() + "/v1/rooms/" + roomId + "/stream" + query, all);
    }

    private static String createRoom(String members) throws Exception {
        return createRoom(members, operator);
    }

    private static String createRoom(String members, String token) throws Exception {
        HttpResponse<String> created = post(
                "/v1/rooms?wait=applied",
                "{\"kind\": \"session\", \"project\": \"project:acme/web\", \"members\": " + members + "}",
                token);
        assertThat(created.statusCode()).as(created.body()).isEqualTo(200);
        JsonNode answer = JSON.readTree(created.body());
        createdEventIds.put(answer.get("roomId").asText(), answer.get("eventId").asText());
        return answer.get("roomId").asText();
    }

    private static final Map<String, String> createdEventIds = new java.util.concurrent.ConcurrentHashMap<>();

    private static String firstEventId(String roomId) {
        return createdEventIds.get(roomId);
    }

    private static String append(String roomId, String event, String token) {
        try {
            HttpResponse<String> answer = post("/v1/rooms/" + roomId + "/events", event, token);
            assertThat(answer.statusCode()).as(answer.body()).isEqualTo(202);
            JsonNode body = JSON.readTree(answer.body());
            lastPosition = body.get("position").asText();
            return body.get("eventId").asText();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static void appendApplied(String roomId, String event, String token) throws Exception {
        HttpResponse<String> answer = post("/v1/rooms/" + roomId + "/events?wait=applied", event, token);
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        assertThat(JSON.readTree(answer.body()).get("outcome").asText()).isEqualTo("applied");
    }

    private static long gauge(String name) throws Exception {
        String metrics = HTTP.send(
                        ApiCalls.request(instance.url() + "/metrics", operator).build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
        Matcher matcher = Pattern.compile("(?m)^" + name + " (\\d+)$").matcher(metrics);
        assertThat(matcher.find()).as(name).isTrue();
        return Long.parseLong(matcher.group(1));
    }

    private static void assertStatus(HttpResponse<String> answer, int status) {
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(status);
        assertThat(answer.headers().firstValue("Content-Type"))
                .hasValueSatisfying(type -> assertThat(type).startsWith("application/problem+json"));
    }

    private static <T> List<T> concat(List<T> a, List<T> b) {
        List<T> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    private static HttpResponse<String> get(String path, String token) throws Exception {
        return ApiCalls.get(instance.url() + path, token);
    }

    private static HttpResponse<String> post(String path, String body, String token) throws Exception {
        return ApiCalls.post(instance.url() + path, body, token);
    }
}
