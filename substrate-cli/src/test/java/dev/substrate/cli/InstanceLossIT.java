package dev.substrate.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.substrate.api.auth.Role;
import dev.substrate.api.auth.TokenFile;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.config.TopicSettings;
import dev.substrate.testing.KafkaCluster;
import dev.substrate.testing.SharedKafka;
import dev.substrate.testing.SseConnection;
import dev.substrate.testing.TestRecords;
import dev.substrate.testing.TestSettings;
import dev.substrate.topic.Topics;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Three {@code substrate serve} processes of one application, with one standby replica of each state
 * partition; one is killed with SIGKILL while a room streams and queries run. Queries answer throughout (from a
 * standby while the dead instance still owns its keys, 503 with {@code Retry-After} at most while partitions
 * move), an observer of the dead instance reconnects to another with {@code Last-Event-ID} and misses
 * nothing, and a webhook receiver gets every notification of a burst delivered across the kill at least once.
 */
@ExtendWith(SharedKafka.class)
@Timeout(600)
class InstanceLossIT {

    private static final Logger log = LoggerFactory.getLogger(InstanceLossIT.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final int RUNS = 60;
    private static final int ROOM_EVENTS = 400;

    @TempDir
    Path dir;

    private String token;

    @Test
    void killingAnInstanceMovesItsPartitionsWhileQueriesAndObserversGoOn(KafkaCluster kafka) throws Exception {
        String prefix = "inst" + UUID.randomUUID().toString().substring(0, 6) + ".";
        Path tokens = dir.resolve("tokens.json");
        token = new TokenFile(tokens).create("ops", Set.of(Role.ADMIN));
        Map<String, String> environment = Map.of(
                "SUBSTRATE_BOOTSTRAP_SERVERS",
                kafka.bootstrapServers(),
                "SUBSTRATE_CLUSTER_SECRET",
                TestSettings.CLUSTER_SECRET,
                "SUBSTRATE_HTTP_PORT",
                "0",
                "SUBSTRATE_TOPIC_PREFIX",
                prefix,
                "SUBSTRATE_TOPIC_PARTITIONS",
                "6",
                "SUBSTRATE_TOKENS_FILE",
                tokens.toString(),
                "SUBSTRATE_APPLICATION_ID",
                prefix + "app",
                "SUBSTRATE_KAFKA_NUM_STANDBY_REPLICAS",
                "1",
                "SUBSTRATE_KAFKA_SESSION_TIMEOUT_MS",
                "6000",
                "SUBSTRATE_KAFKA_COMMIT_INTERVAL_MS",
                "100");
        environment = new HashMap<>(environment);
        // Webhooks to this test's receiver on loopback, at most 50 in flight per subscription.
        environment.put("SUBSTRATE_WEBHOOKS_ALLOW_PRIVATE", "true");
        environment.put("SUBSTRATE_WEBHOOKS_MAX_IN_FLIGHT", "50");
        environment.put("SUBSTRATE_WEBHOOKS_RETRY_INITIAL_MS", "100");
        List<SubstrateProcess> processes = new ArrayList<>();
        Map<String, Integer> received = new ConcurrentHashMap<>();
        HttpServer receiver = receiver(received);
        try {
            // The three start at once: they join the group together rather than one rebalance after another.
            for (String name : List.of("a", "b", "c")) {
                processes.add(SubstrateProcess.start(
                        environment, "serve", "--data-dir", dir.resolve(name).toString()));
            }
            List<String> urls = new ArrayList<>();
            for (SubstrateProcess process : processes) {
                urls.add(process.awaitOutput("HTTP\\s+(\\S+)", Duration.ofSeconds(90)));
            }
            String a = urls.get(0);
            String b = urls.get(1);
            String c = urls.get(2);
            for (String url : urls) {
                await().atMost(Duration.ofMinutes(2)).until(() -> status(url + "/ready") == 200);
            }
            HttpResponse<String> subscribed = post(
                    a + "/v1/webhooks",
                    "{\"url\": \"http://127.0.0.1:" + receiver.getAddress().getPort()
                            + "/hook\", \"events\": [\"run.succeeded\"]}");
            assertThat(subscribed.statusCode()).as(subscribed.body()).isEqualTo(201);
            List<String> runIds = new ArrayList<>();
            for (int i = 0; i < RUNS; i++) {
                String runId = "inst-run-" + i;
                HttpResponse<String> created = post(
                        a + "/v1/runs?wait=applied",
                        "{\"runId\": \"" + runId + "\", \"scope\": \"shared\", \"project\": \"project:inst\","
                                + " \"activation\": {\"surface\": \"operator\", \"actor\": \"ops\"}}");
                assertThat(created.statusCode()).as(created.body()).isEqualTo(200);
                runIds.add(runId);
            }
            Map<String, String> ownerBefore = new HashMap<>();
            for (String runId : runIds) {
                ownerBefore.put(
                        runId,
                        get(a + "/v1/runs/" + runId)
                                .headers()
                                .firstValue("X-Substrate-Answered-By")
                                .orElseThrow());
            }
            String victim = URI.create(c).getAuthority();
            long ownedByVictim =
                    ownerBefore.values().stream().filter(victim::equals).count();

            HttpResponse<String> room = post(
                    a + "/v1/rooms?wait=applied",
                    "{\"kind\": \"session\", \"project\": \"project:inst\", \"members\": []}");
            assertThat(room.statusCode()).as(room.body()).isEqualTo(200);
            String roomId = JSON.readTree(room.body()).get("roomId").asText();
            SseConnection observed = SseConnection.open(
                    HTTP, c + "/v1/rooms/" + roomId + "/stream?from=start", Map.of("Authorization", "Bearer " + token));
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> !observed.events().isEmpty());

            AtomicLong roomAppendsRefused = new AtomicLong();
            CompletableFuture<Void> appending = CompletableFuture.runAsync(() -> {
                for (int i = 0; i < ROOM_EVENTS; i++) {
                    HttpResponse<String> appended = post(
                            a + "/v1/rooms/" + roomId + "/events",
                            "{\"type\": \"LogEmitted\", \"level\": \"info\", \"message\": \"line " + i + "\"}");
                    if (appended.statusCode() == 503) {
                        // The room's state (its permission check reads it) is moving: nothing was appended.
                        roomAppendsRefused.incrementAndGet();
                        i--;
                        sleep(200);
                        continue;
                    }
                    assertThat(appended.statusCode()).as(appended.body()).isEqualTo(202);
                    sleep(15); // paces the room, about 60 events a second
                }
            });
            Map<String, Integer> statuses = new ConcurrentHashMap<>();
            AtomicLong fromStandby = new AtomicLong();
            AtomicLong withoutRetryAfter = new AtomicLong();
            AtomicBoolean querying = new AtomicBoolean(true);
            CompletableFuture<Void> queries = CompletableFuture.runAsync(() -> {
                for (int i = 0; querying.get(); i++) {
                    HttpResponse<String> answer = get((i % 2 == 0 ? a : b) + "/v1/runs/" + runIds.get(i % RUNS));
                    statuses.merge(String.valueOf(answer.statusCode()), 1, Integer::sum);
                    if (answer.headers().firstValue("X-Substrate-Standby-Lag").isPresent()) {
                        fromStandby.incrementAndGet();
                    }
                    if (answer.statusCode() == 503
                            && answer.headers().firstValue("Retry-After").isEmpty()) {
                        withoutRetryAfter.incrementAndGet();
                    }
                    sleep(5); // paces the queries
                }
            });

            // A burst of runs that succeed, each a webhook delivery, under way across the kill.
            CompletableFuture<Void> succeeding = CompletableFuture.runAsync(() -> {
                for (int i = 0; i < HOOKED_RUNS; i++) {
                    String runId = "inst-hooked-" + i;
                    appendUntilTaken(a + "/v1/runs", "{\"runId\": \"" + runId + "\", \"project\": \"project:inst\"}");
                    appendUntilTaken(a + "/v1/runs/" + runId + "/events", "{\"type\": \"RunStarted\"}");
                    appendUntilTaken(
                            a + "/v1/runs/" + runId + "/events",
                            "{\"type\": \"RunSucceeded\", \"result\": {\"summary\": \"done\"}}");
                }
            });
            Thread.sleep(1_500); // queries, appends and deliveries under way before the kill
            long killedAt = System.nanoTime();
            processes.get(2).kill();
            await().atMost(Duration.ofSeconds(30)).until(observed::ended);
            List<SseConnection.Event> beforeKill = observed.events();
            String lastId = beforeKill.get(beforeKill.size() - 1).id();
            SseConnection resumed = reconnect(a + "/v1/rooms/" + roomId + "/stream", lastId);

            // Once the group notices the loss, the two that are left hold every partition again.
            await().atMost(Duration.ofMinutes(2))
                    .pollInterval(Duration.ofMillis(200))
                    .until(() -> runIds.stream().allMatch(runId -> {
                        HttpResponse<String> answer = get(a + "/v1/runs/" + runId);
                        return answer.statusCode() == 200
                                && answer.headers()
                                        .firstValue("X-Substrate-Standby-Lag")
                                        .isEmpty()
                                && !victim.equals(answer.headers()
                                        .firstValue("X-Substrate-Answered-By")
                                        .orElse(""));
                    }));
            double movedAfterSeconds = (System.nanoTime() - killedAt) / 1e9;
            appending.get();
            succeeding.get();
            // Every succeeded run reaches the receiver at least once: what the killed instance had read and not
            // committed is sent again by the instance that took its partitions.
            await().atMost(Duration.ofMinutes(2)).until(() -> received.size() >= HOOKED_RUNS);
            int deliveries =
                    received.values().stream().mapToInt(Integer::intValue).sum();
            int duplicated = deliveries - received.size();
            Thread.sleep(1_000); // queries after the move, on the two left
            querying.set(false);
            queries.get();

            List<Long> roomOffsets = new ArrayList<>();
            TestRecords.readAll(
                            kafka,
                            Topics.from(SubstrateConfig.of(Map.of(TopicSettings.PREFIX.key(), prefix)))
                                    .roomEvents()
                                    .name())
                    .stream()
                    .filter(record -> roomId.equals(record.key()))
                    .forEach(record -> roomOffsets.add(record.offset()));
            await().atMost(Duration.ofSeconds(60))
                    .until(() -> beforeKill.size() + resumed.events().size() >= roomOffsets.size());
            resumed.close();
            List<Long> seen = new ArrayList<>();
            beforeKill.forEach(event -> seen.add(Long.parseLong(event.id())));
            resumed.events().forEach(event -> seen.add(Long.parseLong(event.id())));
            for (SseConnection.Event event : resumed.events()) {
                JsonNode data = JSON.readTree(event.data());
                assertThat(data.path("roomId").asText()).isEqualTo(roomId);
            }

            log.info(
                    "Killed 1 of 3 instances (it held {} of {} runs); every run answered by the two left after {} s;"
                            + " queries meanwhile {} ({} from a standby replica); observer: {} events before the kill,"
                            + " {} after reconnecting elsewhere, {} in the log ({} room appends answered 503 and sent"
                            + " again); lost 0, duplicated 0; webhooks: {} runs succeeded, {} delivered to the receiver,"
                            + " {} of them twice (lost 0)",
                    ownedByVictim,
                    RUNS,
                    String.format("%.1f", movedAfterSeconds),
                    new TreeMap<>(statuses),
                    fromStandby.get(),
                    beforeKill.size(),
                    resumed.events().size(),
                    roomOffsets.size(),
                    roomAppendsRefused.get(),
                    HOOKED_RUNS,
                    deliveries,
                    duplicated);
            assertThat(received.keySet())
                    .as("every succeeded run was delivered")
                    .hasSize(HOOKED_RUNS);
            assertThat(duplicated)
                    .as("sent again: what the killed instance had read and not committed, not the whole topic")
                    .isLessThan(HOOKED_RUNS / 2);
            assertThat(seen).as("every event of the room once, in order").isEqualTo(roomOffsets);
            assertThat(statuses.keySet()).as("query answers %s", statuses).isSubsetOf("200", "503");
            assertThat(withoutRetryAfter.get()).as("503s without Retry-After").isZero();
            assertThat(ownedByVictim).as("the killed instance held some runs").isPositive();
            assertThat(fromStandby.get()).as("answers from a standby replica").isPositive();
        } finally {
            for (SubstrateProcess process : processes) {
                process.close();
            }
            receiver.stop(0);
        }
    }

    /** Runs that succeed in the burst: one webhook message each. */
    private static final int HOOKED_RUNS = 300;

    /** A webhook receiver on loopback counting each message id it is sent, answering 200 after a moment. */
    private static HttpServer receiver(Map<String, Integer> received) throws java.io.IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
        server.createContext("/hook", exchange -> {
            try (exchange) {
                exchange.getRequestBody().readAllBytes();
                received.merge(exchange.getRequestHeaders().getFirst("webhook-id"), 1, Integer::sum);
                sleep(5); // a receiver that takes a moment: messages are in flight when the instance dies
                exchange.sendResponseHeaders(200, -1);
            }
        });
        server.setExecutor(java.util.concurrent.Executors.newFixedThreadPool(4));
        server.start();
        return server;
    }

    /** Appends until Kafka took it: a 503 (the partition's state moving) is sent again. */
    private void appendUntilTaken(String url, String body) {
        while (true) {
            HttpResponse<String> answer = post(url, body);
            if (answer.statusCode() != 503) {
                assertThat(answer.statusCode()).as(answer.body()).isEqualTo(202);
                return;
            }
            sleep(200);
        }
    }

    /**
     * Reconnects as a browser's {@code EventSource} does: with {@code Last-Event-ID}, again after a second while
     * the answer is not 200 (a 503 while the room's state moves).
     */
    private SseConnection reconnect(String url, String lastId) {
        for (int attempt = 0; ; attempt++) {
            SseConnection connection =
                    SseConnection.open(HTTP, url, Map.of("Authorization", "Bearer " + token, "Last-Event-ID", lastId));
            await().atMost(Duration.ofSeconds(30)).until(() -> connection.status() != 0 || connection.ended());
            if (connection.status() == 200) {
                log.info("Observer reconnected to {} after {} refused attempts", url, attempt);
                return connection;
            }
            assertThat(connection.status()).as("reconnect answer").isIn(0, 503);
            connection.close();
            sleep(1_000);
        }
    }

    private int status(String url) {
        return get(url).statusCode();
    }

    private HttpResponse<String> get(String url) {
        return send(HttpRequest.newBuilder(URI.create(url)).GET());
    }

    private HttpResponse<String> post(String url, String body) {
        return send(HttpRequest.newBuilder(URI.create(url))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    private HttpResponse<String> send(HttpRequest.Builder request) {
        try {
            return HTTP.send(
                    request.timeout(Duration.ofSeconds(30))
                            .header("Authorization", "Bearer " + token)
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
