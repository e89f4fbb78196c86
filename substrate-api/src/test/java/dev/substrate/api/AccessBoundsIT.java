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
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The findings of the security read (issue 24), each driven over HTTP against a real broker and fold: what a room
 * hides from non-members, positions that cannot be reached, waits that hold no thread and are capped per principal,
 * per-principal stream slots, paged histories and lists whose work per request is bounded.
 */
@ExtendWith(SharedKafka.class)
@Timeout(300)
class AccessBoundsIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int WAITS_PER_PRINCIPAL = 40;

    private static ApiInstance instance;

    @TempDir
    static Path dataDir;

    private static TokenFile tokens;
    private static String admin;
    private static String operator;
    private static String member;
    private static String stranger;
    private static String service;

    @BeforeAll
    static void start(KafkaCluster kafka) throws Exception {
        tokens = new TokenFile(dataDir.resolve("tokens.json"));
        admin = tokens.create("admin", Set.of(Role.ADMIN));
        operator = tokens.create("ops", Set.of(Role.OPERATOR));
        member = tokens.create("member", Set.of(Role.OBSERVER));
        stranger = tokens.create("stranger", Set.of(Role.OBSERVER));
        service = tokens.create("svc:outsider", Set.of(Role.SERVICE));
        instance = ApiInstance.startReady(
                kafka,
                "bounds",
                dataDir,
                tokens,
                "http.position.waits.per.principal",
                Integer.toString(WAITS_PER_PRINCIPAL),
                "stream.max.clients.per.principal",
                "2",
                "query.scan.budget",
                "10",
                "stream.heartbeat.ms",
                "300");
    }

    @AfterAll
    static void stop() {
        if (instance != null) {
            instance.close();
        }
    }

    @Test
    void aRoomsArtifactsAreReadByItsMembersAlone() throws Exception {
        String roomId = createRoom("[{\"principal\": \"member\", \"role\": \"reader\"}]");
        String artifactId = JSON.readTree(post(
                                "/v1/artifacts?wait=applied",
                                "{\"kind\": \"file\", \"name\": \"secret.txt\", \"parentId\": \"project:p\","
                                        + " \"provenance\": {\"roomId\": \"" + roomId + "\"}}",
                                admin)
                        .body())
                .get("artifactId")
                .asText();
        String openId = JSON.readTree(post(
                                "/v1/artifacts?wait=applied",
                                "{\"kind\": \"file\", \"name\": \"open.txt\", \"parentId\": \"project:p\","
                                        + " \"provenance\": {}}",
                                admin)
                        .body())
                .get("artifactId")
                .asText();
        HttpResponse<String> stored = send(ApiCalls.request(url("/v1/artifacts/" + artifactId + "/content"), admin)
                .header("Content-Type", "text/plain")
                .PUT(HttpRequest.BodyPublishers.ofString("the room's output"))
                .build());
        assertThat(stored.statusCode()).as(stored.body()).isEqualTo(202);
        String position = JSON.readTree(stored.body()).get("position").asText();

        for (String token : List.of(member, operator, admin)) {
            assertThat(get("/v1/artifacts/" + artifactId + "?position=" + position, token)
                            .statusCode())
                    .isEqualTo(200);
            assertThat(get("/v1/artifacts/" + artifactId + "/content", token).body())
                    .isEqualTo("the room's output");
            assertThat(ids(get("/v1/artifacts?roomId=" + roomId, token))).containsExactly(artifactId);
        }
        for (String token : List.of(stranger, service)) {
            assertProblem(get("/v1/artifacts/" + artifactId, token), 403);
            assertProblem(get("/v1/artifacts/" + artifactId + "/content", token), 403);
            assertProblem(get("/v1/artifacts?roomId=" + roomId, token), 403);
            Set<String> listed = allIds("/v1/artifacts?limit=1000", token);
            assertThat(listed).contains(openId).doesNotContain(artifactId);
            assertThat(get("/v1/artifacts/" + openId, token).statusCode()).isEqualTo(200);
        }
        assertProblem(
                send(ApiCalls.request(url("/v1/artifacts/" + artifactId + "/content"), service)
                        .header("Content-Type", "text/plain")
                        .PUT(HttpRequest.BodyPublishers.ofString("overwritten"))
                        .build()),
                403);
        assertThat(allIds("/v1/artifacts?limit=1000", operator)).contains(artifactId, openId);
    }

    @Test
    void aPositionTheLogDoesNotHoldIsRefusedAtOnce() throws Exception {
        for (String plain : List.of("p1:run:0:999999999", "p1:run:7:0", "p1:run:-1:0")) {
            String position =
                    Base64.getUrlEncoder().withoutPadding().encodeToString(plain.getBytes(StandardCharsets.UTF_8));
            HttpResponse<String> read = get("/v1/runs/run-any?timeoutMs=30000&position=" + position, admin);
            assertProblem(read, 400);
            assertThat(JSON.readTree(read.body()).get("detail").asText()).contains("not in the log");
            assertProblem(get("/v1/runs?timeoutMs=30000&position=" + position, admin), 400);
        }
    }

    @Test
    void threeHundredWaitsForAPositionHoldNoThreadAndAreCappedPerPrincipal() throws Exception {
        String other = createRun();
        String runId = createRun();
        List<String> waiters = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            waiters.add(instance.mint("waiter-" + i, Role.OBSERVER));
        }
        HttpClient http = HttpClient.newHttpClient();
        instance.fold.streams().pause();
        List<CompletableFuture<HttpResponse<String>>> waits = new ArrayList<>();
        try {
            HttpResponse<String> appended = post("/v1/runs/" + runId + "/events", "{\"type\": \"RunStarted\"}", admin);
            assertThat(appended.statusCode()).as(appended.body()).isEqualTo(202);
            String position = JSON.readTree(appended.body()).get("position").asText();
            for (int i = 0; i < 300; i++) {
                String token = waiters.get(i % waiters.size());
                waits.add(http.sendAsync(
                        ApiCalls.request(url("/v1/runs/" + runId + "?timeoutMs=30000&position=" + position), token)
                                .timeout(Duration.ofSeconds(60))
                                .GET()
                                .build(),
                        HttpResponse.BodyHandlers.ofString()));
            }
            // Every principal's waits past its cap are refused at once; the rest wait, holding no thread.
            await().atMost(Duration.ofSeconds(30))
                    .until(() ->
                            waits.stream().filter(CompletableFuture::isDone).count() == 300 - 6 * WAITS_PER_PRINCIPAL);
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> gauge("substrate_position_waits") == 6 * WAITS_PER_PRINCIPAL);
            for (int i = 0; i < 20; i++) {
                HttpResponse<String> health = http.send(
                        ApiCalls.request(url("/health"), null)
                                .timeout(Duration.ofSeconds(1))
                                .GET()
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(health.statusCode()).isEqualTo(200);
                HttpResponse<String> read = http.send(
                        ApiCalls.request(url("/v1/runs/" + other), admin)
                                .timeout(Duration.ofSeconds(1))
                                .GET()
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(read.statusCode()).as(read.body()).isEqualTo(200);
            }
            assertThat(waits.stream().filter(CompletableFuture::isDone)).allSatisfy(refused -> {
                assertProblem(refused.join(), 429);
                assertThat(refused.join().headers().firstValue("Retry-After")).isPresent();
            });
        } finally {
            instance.fold.streams().resume();
        }
        CompletableFuture.allOf(waits.toArray(CompletableFuture[]::new)).join();
        long answered = waits.stream()
                .filter(wait -> wait.join().statusCode() == 200)
                .peek(wait -> assertThat(wait.join().body()).contains("\"status\":\"running\""))
                .count();
        assertThat(answered).isEqualTo(6L * WAITS_PER_PRINCIPAL);
        System.out.printf(
                "Position waits: 300 sent, %d waited and answered once the fold resumed, %d refused (429)%n",
                answered, 300 - answered);
        assertThat(gauge("substrate_position_waits")).isZero();
    }

    @Test
    void aPositionNotReachedInTimeIs503() throws Exception {
        String runId = createRun();
        instance.fold.streams().pause();
        try {
            HttpResponse<String> appended = post("/v1/runs/" + runId + "/events", "{\"type\": \"RunStarted\"}", admin);
            String position = JSON.readTree(appended.body()).get("position").asText();
            HttpResponse<String> late = get("/v1/runs/" + runId + "?timeoutMs=200&position=" + position, admin);
            assertProblem(late, 503);
            assertThat(JSON.readTree(late.body()).get("type").asText()).endsWith("position-not-reached");
            assertProblem(get("/v1/runs?timeoutMs=200&position=" + position, admin), 503);
        } finally {
            instance.fold.streams().resume();
        }
    }

    @Test
    void onePrincipalHasAFewStreamSlotsAndTheOthersKeepTheirs() throws Exception {
        String roomId = createRoom("[{\"principal\": \"member\", \"role\": \"reader\"}]");
        try (SseConnection first = stream(roomId, member);
                SseConnection second = stream(roomId, member)) {
            await().atMost(Duration.ofSeconds(30)).until(() -> first.status() == 200 && second.status() == 200);
            HttpResponse<String> third = get("/v1/rooms/" + roomId + "/stream", member);
            assertProblem(third, 429);
            try (SseConnection others = stream(roomId, operator)) {
                await().atMost(Duration.ofSeconds(30)).until(() -> others.status() == 200);
            }
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> gauge("substrate_room_streams_open") == 0);
        try (SseConnection again = stream(roomId, member)) {
            await().atMost(Duration.ofSeconds(30)).until(() -> again.status() == 200);
        }
    }

    @Test
    void aRunsHistoryComesInPages() throws Exception {
        String runId = createRun();
        for (String event : List.of(
                "{\"type\": \"RunStarted\"}",
                "{\"type\": \"RunLabelled\", \"labels\": {\"a\": \"1\"}}",
                "{\"type\": \"RunLabelled\", \"labels\": {\"b\": \"2\"}}",
                "{\"type\": \"RunLabelled\", \"labels\": {\"c\": \"3\"}}",
                "{\"type\": \"RunLabelled\", \"labels\": {\"d\": \"4\"}}")) {
            HttpResponse<String> applied = post("/v1/runs/" + runId + "/events?wait=applied", event, admin);
            assertThat(applied.statusCode()).as(applied.body()).isEqualTo(200);
        }
        List<Long> versions = new ArrayList<>();
        String after = "0";
        int pages = 0;
        while (after != null) {
            JsonNode page = JSON.readTree(get("/v1/runs/" + runId + "/events?limit=2&after=" + after, member)
                    .body());
            assertThat(page.get("items").size()).isLessThanOrEqualTo(2);
            page.get("items").forEach(item -> versions.add(item.get("version").asLong()));
            after = page.hasNonNull("next") ? page.get("next").asText() : null;
            pages++;
        }
        assertThat(versions).containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
        assertThat(pages).isEqualTo(3);
        assertProblem(get("/v1/runs/" + runId + "/events?after=-1", member), 400);
    }

    @Test
    void aListFewEntriesPassLooksAtABoundedNumberPerRequestAndStillFindsThemAll() throws Exception {
        String project = "project:scan-" + System.nanoTime();
        Set<String> mine = new HashSet<>();
        for (int i = 0; i < 60; i++) {
            String members = i % 25 == 0 ? "[{\"principal\": \"stranger\", \"role\": \"reader\"}]" : "[]";
            String roomId = createRoom(members, project);
            if (i % 25 == 0) {
                mine.add(roomId);
            }
        }
        Set<String> found = new HashSet<>();
        String cursor = null;
        int pages = 0;
        boolean shortPageWithCursor = false;
        do {
            JsonNode page =
                    JSON.readTree(get("/v1/rooms?limit=50" + (cursor == null ? "" : "&cursor=" + cursor), stranger)
                            .body());
            page.get("items")
                    .forEach(room -> assertThat(found.add(room.get("roomId").asText()))
                            .as("each room once")
                            .isTrue());
            cursor = page.get("nextCursor").isNull()
                    ? null
                    : page.get("nextCursor").asText();
            shortPageWithCursor |= cursor != null && page.get("items").size() < 50;
            pages++;
        } while (cursor != null && pages < 1000);
        assertThat(found).containsAll(mine);
        assertThat(shortPageWithCursor)
                .as("a page cut short by the scan budget, with a cursor to go on")
                .isTrue();
        System.out.printf(
                "Scan budget 10 per partition: %d rooms of the stranger's found in %d pages%n", found.size(), pages);
    }

    @Test
    void metricsNeedATokenOrAPortOfTheirOwn(KafkaCluster kafka, @TempDir Path otherDir) throws Exception {
        assertProblem(get("/metrics", null), 401);
        assertThat(get("/metrics", stranger).statusCode()).isEqualTo(200);
        try (ApiInstance separate = ApiInstance.startReady(kafka, "metrics", otherDir, tokens, "metrics.port", "0")) {
            assertThat(ApiCalls.get(separate.url() + "/metrics", admin).statusCode())
                    .isEqualTo(404);
            HttpResponse<String> scraped = ApiCalls.get(
                    "http://localhost:" + separate.api.metricsPort().orElseThrow() + "/metrics", null);
            assertThat(scraped.statusCode()).isEqualTo(200);
            assertThat(scraped.body()).contains("substrate_fold_ready 1");
        }
    }

    @Test
    void anUploadCutOffMidwayIsA400AndKeepsNothing() throws Exception {
        String artifactId = JSON.readTree(post(
                                "/v1/artifacts?wait=applied",
                                "{\"kind\": \"file\", \"name\": \"cut.bin\", \"parentId\": \"project:p\","
                                        + " \"provenance\": {}}",
                                admin)
                        .body())
                .get("artifactId")
                .asText();
        // A raw socket: declare 1 MiB, send 100 KiB, then stop sending (the client stays connected).
        try (java.net.Socket socket = new java.net.Socket("localhost", instance.api.port())) {
            socket.setSoTimeout(60_000);
            java.io.OutputStream out = socket.getOutputStream();
            out.write(("PUT /v1/artifacts/" + artifactId + "/content HTTP/1.1\r\nHost: localhost\r\n"
                            + "Authorization: Bearer " + admin + "\r\nContent-Type: application/octet-stream\r\n"
                            + "Content-Length: 1048576\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.write(new byte[100 * 1024]);
            out.flush();
            socket.shutdownOutput();
            String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(answer).startsWith("HTTP/1.1 400").contains("before its end");
        }
        try (var files = java.nio.file.Files.walk(dataDir.resolve("blobs"))) {
            assertThat(files.filter(java.nio.file.Files::isRegularFile).map(Path::toString))
                    .noneMatch(file -> file.contains("incoming"));
        }
        assertThat(get("/v1/artifacts/" + artifactId, admin).body()).doesNotContain("blob:");
    }

    // --- helpers ---

    private static String createRun() throws Exception {
        HttpResponse<String> created = post(
                "/v1/runs?wait=applied",
                "{\"scope\": \"shared\", \"project\": \"project:b\", \"activation\": {\"surface\": \"ui\", \"actor\": \"a\"}}",
                admin);
        assertThat(created.statusCode()).as(created.body()).isEqualTo(200);
        return JSON.readTree(created.body()).get("runId").asText();
    }

    private static String createRoom(String members) throws Exception {
        return createRoom(members, "project:b");
    }

    private static String createRoom(String members, String project) throws Exception {
        HttpResponse<String> created = post(
                "/v1/rooms?wait=applied",
                "{\"kind\": \"session\", \"project\": \"" + project + "\", \"members\": " + members + "}",
                admin);
        assertThat(created.statusCode()).as(created.body()).isEqualTo(200);
        return JSON.readTree(created.body()).get("roomId").asText();
    }

    private static SseConnection stream(String roomId, String token) {
        return SseConnection.open(
                ApiCalls.HTTP, url("/v1/rooms/" + roomId + "/stream"), Map.of("Authorization", "Bearer " + token));
    }

    private static List<String> ids(HttpResponse<String> list) throws Exception {
        assertThat(list.statusCode()).as(list.body()).isEqualTo(200);
        List<String> ids = new ArrayList<>();
        JSON.readTree(list.body())
                .get("items")
                .forEach(item -> ids.add(item.get("artifactId").asText()));
        return ids;
    }

    private static Set<String> allIds(String path, String token) throws Exception {
        Set<String> ids = new HashSet<>();
        String cursor = null;
        do {
            HttpResponse<String> page = get(path + (cursor == null ? "" : "&cursor=" + cursor), token);
            ids.addAll(ids(page));
            JsonNode next = JSON.readTree(page.body()).get("nextCursor");
            cursor = next.isNull() ? null : next.asText();
        } while (cursor != null);
        return ids;
    }

    private static long gauge(String name) throws Exception {
        String metrics = get("/metrics", operator).body();
        java.util.regex.Matcher matcher =
                java.util.regex.Pattern.compile("(?m)^" + name + " (\\d+)").matcher(metrics);
        assertThat(matcher.find()).as(name).isTrue();
        return Long.parseLong(matcher.group(1));
    }

    private static void assertProblem(HttpResponse<String> response, int status) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        assertThat(response.headers().firstValue("Content-Type"))
                .hasValueSatisfying(type -> assertThat(type).startsWith("application/problem+json"));
    }

    private static String url(String path) {
        return instance.url() + path;
    }

    private static HttpResponse<String> send(HttpRequest request) throws Exception {
        return ApiCalls.HTTP.send(request, HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> get(String path, String token) throws Exception {
        return ApiCalls.get(url(path), token);
    }

    private static HttpResponse<String> post(String path, String body, String token) throws Exception {
        return ApiCalls.post(url(path), body, token);
    }
}
