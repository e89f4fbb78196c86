package dev.substrate.cli.internal.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.substrate.api.auth.Role;
import dev.substrate.cli.internal.SubstrateNode;
import dev.substrate.client.SubstrateClient;
import dev.substrate.config.HttpSettings;
import dev.substrate.config.KafkaSettings;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.config.TopicSettings;
import dev.substrate.event.EventIds;
import dev.substrate.events.common.Correlation;
import dev.substrate.events.room.RoomCreated;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.events.room.RoomKind;
import dev.substrate.events.room.StreamMode;
import dev.substrate.events.run.Activation;
import dev.substrate.events.run.ActivationSurface;
import dev.substrate.events.run.RunCreated;
import dev.substrate.events.run.RunEvent;
import dev.substrate.events.run.RunScope;
import dev.substrate.events.run.RunStarted;
import dev.substrate.topic.TopicSetup;
import dev.substrate.topic.Topics;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

/**
 * {@code substrate bench --scale N}: folds N runs (half of them started) and N/10 rooms, then reports what that
 * costs: the fold's rate, its stores on disk, the heap after a full GC, the time to answer again after a restart
 * (with its state, and from the changelogs alone), and the latency of paging through {@code runs?status=}.
 */
public final class ScaleRun {

    private static final int WINDOW = 10_000;
    private static final int PAGES = 50;

    private final Map<String, String> settings;
    private final Path dataDir;
    private final PrintWriter progress;

    public ScaleRun(Map<String, String> settings, Path dataDir, PrintWriter progress) {
        this.settings = Map.copyOf(settings);
        this.dataDir = dataDir;
        this.progress = progress;
    }

    /** Folds {@code runs} runs and a tenth as many rooms, and measures. */
    public ObjectNode run(int runs) throws Exception {
        String prefix = "scale-" + UUID.randomUUID().toString().substring(0, 8) + ".";
        Map<String, String> instance = new HashMap<>(settings);
        instance.put(TopicSettings.PREFIX.key(), prefix);
        instance.put(KafkaSettings.DATA_DIR.key(), dataDir.resolve(prefix).toString());
        instance.put(HttpSettings.PORT.key(), "0");
        instance.put("application.id", prefix + "fold");
        SubstrateConfig config = SubstrateConfig.load(System.getenv(), instance);
        Topics topics = Topics.from(config);
        try (Admin admin = Admin.create(new HashMap<>(config.kafkaProperties(AdminClientConfig.configNames())))) {
            TopicSetup.ensure(
                    admin, topics, config.get(TopicSettings.PARTITIONS), config.get(TopicSettings.REPLICATION_FACTOR));
        }
        int rooms = Math.max(1, runs / 10);
        step("appending " + runs + " runs (half started) and " + rooms + " rooms");
        long events = append(config, runs, rooms);

        ObjectNode report = JsonNodeFactory.instance.objectNode();
        report.put("runs", runs);
        report.put("rooms", rooms);
        report.put("events", events);
        String token;
        HttpClient http = HttpClient.newHttpClient();
        Path stateDir = config.get(KafkaSettings.DATA_DIR).resolve("streams");

        step("folding");
        long start = System.nanoTime();
        try (SubstrateNode node = SubstrateNode.start(config)) {
            token = node.mintToken("scale", Set.of(Role.OPERATOR), "bench");
            CaughtUp.await(config, node.fold().applicationId(), topics);
            double seconds = seconds(start);
            report.put("foldSeconds", Latencies.round(seconds));
            report.put("foldPerSecond", Math.round(events / seconds));
            report.put("heapAfterGcBytes", heapAfterGc());
            step("paging through runs?status=running");
            report.set("pagedList", pages(http, node.httpUrl(), token));
        }

        // Measured once the fold has stopped: RocksDB writes its memtables out on close.
        report.put("storeBytes", bytes(stateDir));
        step("restarting with its state");
        report.put("restartSeconds", Latencies.round(restart(config, http, token)));
        BenchFiles.deleteRecursively(stateDir);
        step("restarting without its state: restoring from the changelogs");
        report.put("restoreSeconds", Latencies.round(restart(config, http, token)));
        return report;
    }

    private long append(SubstrateConfig config, int runs, int rooms) {
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        try (SubstrateClient client = SubstrateClient.create(config)) {
            List<CompletableFuture<?>> acks = new ArrayList<>();
            for (int i = 0; i < runs; i++) {
                String runId = "run-" + i;
                window(acks);
                acks.add(client.append(runEvent(
                        runId,
                        now,
                        RunCreated.newBuilder()
                                .setScope(RunScope.shared)
                                .setProject("project:p" + (i % 100))
                                .setActivation(new Activation(ActivationSurface.automation, "svc:scale"))
                                .setLabels(Map.of("team", "t" + (i % 10)))
                                .build())));
                if (i % 2 == 0) {
                    window(acks);
                    acks.add(client.append(runEvent(runId, now, new RunStarted(null))));
                }
            }
            for (int r = 0; r < rooms; r++) {
                window(acks);
                acks.add(client.append(RoomEvent.newBuilder()
                        .setEventId(EventIds.next())
                        .setRoomId("room-" + r)
                        .setOccurredAt(now)
                        .setActor("svc:scale")
                        .setCorrelation(new Correlation(null, null, null))
                        .setPayload(RoomCreated.newBuilder()
                                .setKind(RoomKind.session)
                                .setProject("project:p" + (r % 100))
                                .setStream(StreamMode.durable)
                                .build())
                        .build()));
            }
            CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).join();
            return acks.size();
        }
    }

    private static void window(List<CompletableFuture<?>> acks) {
        if (acks.size() >= WINDOW) {
            acks.get(acks.size() - WINDOW).join(); // at most a window of appends in flight
        }
    }

    private static RunEvent runEvent(String runId, Instant at, Object payload) {
        return RunEvent.newBuilder()
                .setEventId(EventIds.next())
                .setRunId(runId)
                .setOccurredAt(at)
                .setActor("svc:scale")
                .setCorrelation(new Correlation(null, null, null))
                .setPayload(payload)
                .build();
    }

    /** {@value #PAGES} pages of 100 running runs, newest first, each page's latency. */
    private static ObjectNode pages(HttpClient http, String url, String token) throws Exception {
        Latencies latencies = new Latencies();
        ObjectMapper json = new ObjectMapper();
        String cursor = null;
        int pages = 0;
        for (int i = 0; i < PAGES; i++) {
            long start = System.nanoTime();
            HttpResponse<String> page = http.send(
                    HttpRequest.newBuilder(URI.create(url + "/v1/runs?status=running&limit=100"
                                    + (cursor == null ? "" : "&cursor=" + cursor)))
                            .header("Authorization", "Bearer " + token)
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            if (page.statusCode() != 200) {
                throw new IllegalStateException("a page of runs answered " + page.statusCode() + ": " + page.body());
            }
            latencies.record(System.nanoTime() - start);
            pages++;
            JsonNode next = json.readTree(page.body()).get("nextCursor");
            if (next == null || next.isNull()) {
                break;
            }
            cursor = next.asText();
        }
        ObjectNode node = latencies.json();
        node.put("pages", pages);
        node.put("limit", 100);
        return node;
    }

    /** Seconds from starting an instance on the data directory until it answers a key lookup. */
    private double restart(SubstrateConfig config, HttpClient http, String token) throws Exception {
        long start = System.nanoTime();
        try (SubstrateNode node = SubstrateNode.start(config)) {
            while (http.send(
                                    HttpRequest.newBuilder(URI.create(node.httpUrl() + "/v1/runs/run-0"))
                                            .header("Authorization", "Bearer " + token)
                                            .build(),
                                    HttpResponse.BodyHandlers.discarding())
                            .statusCode()
                    != 200) {
                Thread.sleep(100); // restoring; 100 ms is the resolution of the figure
            }
            return seconds(start);
        }
    }

    private static long heapAfterGc() {
        System.gc();
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private static long bytes(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile)
                    .mapToLong(file -> {
                        try {
                            return Files.size(file);
                        } catch (IOException e) {
                            return 0; // a file RocksDB removed while we walked
                        }
                    })
                    .sum();
        }
    }

    private void step(String what) {
        progress.printf("[%tT] scale: %s%n", System.currentTimeMillis(), what);
        progress.flush();
    }

    private static double seconds(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }
}
