package dev.substrate.cli.internal.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.substrate.api.auth.Role;
import dev.substrate.cli.internal.ApiClient;
import dev.substrate.cli.internal.SubstrateNode;
import dev.substrate.client.SubstrateClient;
import dev.substrate.config.HttpSettings;
import dev.substrate.config.KafkaSettings;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.config.TopicSettings;
import dev.substrate.event.Wire;
import dev.substrate.event.WireCodec;
import dev.substrate.events.room.RoomCreated;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.events.room.RoomKind;
import dev.substrate.events.room.TextDelta;
import dev.substrate.events.run.RunEvent;
import dev.substrate.stream.RoomStream;
import dev.substrate.streams.CountBaseline;
import dev.substrate.streams.Phase;
import dev.substrate.topic.TopicSetup;
import dev.substrate.topic.Topics;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * {@code substrate bench}: each part runs its raw-Kafka baseline and the product back to back on the same
 * broker, in one process, and reports figures and ratios. Parts: append, fold, appendToQueryable,
 * observerLatency, query. Nothing here asserts a time.
 */
public final class Bench {

    /** How big a run is; {@code warmUpEvents} are appended and folded first, figures discarded. */
    public record Sizes(
            int events,
            int queryableSamples,
            int observerSamples,
            Duration queryDuration,
            int warmUpEvents,
            StreamBench.Settings stream) {
        /** {@code --quick}: within a few minutes on two cores. */
        public static Sizes quick() {
            return new Sizes(40_000, 200, 500, Duration.ofSeconds(5), 10_000, StreamBench.Settings.quick());
        }

        /** The full run. */
        public static Sizes full() {
            return new Sizes(200_000, 1_000, 3_000, Duration.ofSeconds(10), 20_000, StreamBench.Settings.full());
        }
    }

    private static final int QUERY_THREADS = 8;
    private static final int APPEND_WINDOW = 50_000;
    /** Rounds of the append part, each side in turn; its figures are their medians. Odd. */
    private static final int APPEND_ROUNDS = 3;

    private static final Duration WAIT = Duration.ofSeconds(60);

    private final Map<String, String> settings;
    private final SubstrateConfig base;
    /** The {@code cluster.secret} of this run's instances, unless the settings give one. */
    private final String clusterSecret = java.util.UUID.randomUUID().toString();

    private final Sizes sizes;
    private final PrintWriter progress;
    private final Path dataDir;
    private final String prefix = "bench-" + UUID.randomUUID().toString().substring(0, 8) + ".";

    /**
     * @param settings explicit settings (with {@code bootstrap.servers}) every part starts from; the
     *     environment's {@code SUBSTRATE_*} settings apply too
     * @param dataDir where the instances keep their state
     * @param progress where progress lines go
     */
    public Bench(Map<String, String> settings, Path dataDir, Sizes sizes, PrintWriter progress) {
        this.settings = Map.copyOf(settings);
        this.base = SubstrateConfig.load(System.getenv(), settings);
        this.dataDir = dataDir;
        this.sizes = sizes;
        this.progress = progress;
    }

    /** Runs every part; the report as JSON. */
    public ObjectNode run() throws Exception {
        ObjectNode report = JsonNodeFactory.instance.objectNode();
        report.set("machine", machine());
        ObjectNode used = report.putObject("settings");
        used.put("bootstrapServers", base.get(KafkaSettings.BOOTSTRAP_SERVERS));
        used.put("topicPrefix", prefix);
        used.put("partitions", base.get(TopicSettings.PARTITIONS));
        used.put("events", sizes.events());
        used.put("queryableSamples", sizes.queryableSamples());
        used.put("observerSamples", sizes.observerSamples());
        used.put("querySeconds", sizes.queryDuration().toSeconds());
        used.put("queryThreads", QUERY_THREADS);
        used.put("processingGuarantee", "exactly_once_v2");
        used.put("wireFormat", base.get(TopicSettings.WIRE_FORMAT).setting());

        used.put("warmUpEvents", sizes.warmUpEvents());
        step(
                "warmUp",
                "append and fold " + sizes.warmUpEvents() + " events both ways first, on topics of their own, so "
                        + "that every figure is of compiled code");
        warmUp();

        SubstrateConfig first = config("a");
        Topics topics = setUpTopics(
                first,
                List.of(
                        new NewTopic(rawAppendTopic(prefix), first.get(TopicSettings.PARTITIONS), (short) -1),
                        new NewTopic(prefix + "raw-latency", 1, (short) -1),
                        new NewTopic(rawStreamTopic(), first.get(TopicSettings.PARTITIONS), (short) -1)));
        Backlog backlog = Backlog.of(sizes.events(), topics, "");
        used.put("bytesPerEvent", backlog.averageBytes());

        step(
                "append",
                "raw KafkaProducer vs SubstrateClient, " + backlog.items().size() + " events, " + APPEND_ROUNDS
                        + " rounds each, in turn");
        report.set("append", appendRounds(first, backlog));

        step("fold", "plain Kafka Streams count vs the fold, over the same backlog");
        Pace raw = foldRaw(config("raw"), topics, prefix + "count-baseline");
        String token;
        collectGarbage();
        long foldStart = System.nanoTime();
        try (SubstrateNode a = SubstrateNode.start(first)) {
            Pace fold = pace(
                    a.fold().applicationId(), topics, foldStart, () -> a.fold().phase());
            ObjectNode foldReport = report.putObject("fold");
            foldReport.put("events", backlog.items().size());
            foldReport.put("rawPerSecond", Math.round(raw.perSecond()));
            foldReport.put("substratePerSecond", Math.round(fold.perSecond()));
            foldReport.put("ratio", Latencies.round(fold.perSecond() / raw.perSecond()));
            // What the figures above hold besides folding: each application's start (joining its group, creating
            // its changelogs, opening and restoring its stores) until Kafka Streams says RUNNING.
            foldReport.put("rawStartSeconds", Latencies.round(raw.startSeconds()));
            foldReport.put("substrateStartSeconds", Latencies.round(fold.startSeconds()));
            foldReport.put("rawRunningPerSecond", Math.round(raw.runningPerSecond()));
            foldReport.put("substrateRunningPerSecond", Math.round(fold.runningPerSecond()));
            foldReport.put("runningRatio", Latencies.round(fold.runningPerSecond() / raw.runningPerSecond()));
            // Every record the fold's producers sent (changelogs, state topics, rejections), from Kafka's own metrics.
            long written = recordsSent(a.fold().metrics());
            foldReport.put("recordsWritten", written);
            foldReport.put(
                    "recordsPerEvent",
                    Latencies.round((double) written / backlog.items().size()));

            token = a.mintToken("bench", Set.of(Role.OPERATOR), "bench");
            HttpClient http =
                    HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            checkDecisions(foldReport, http, a, token, backlog.runIds().size(), topics);

            step("appendToQueryable", sizes.queryableSamples() + " appends, each read back at its position");
            report.set("appendToQueryable", appendToQueryable(http, a.httpUrl(), token));

            step(
                    "httpAppend",
                    "appends over HTTP, one event and " + HTTP_BATCH + " events a request, on 1 and " + HTTP_CONNECTIONS
                            + " connections");
            report.set(
                    "httpAppend",
                    httpAppend(
                            a.httpUrl(),
                            token,
                            report.path("append").path("rawPerSecond").asDouble()));
            // The parts after it time reads of what they append: not behind a backlog of this part's appends.
            CaughtUp.await(base, a.fold().applicationId(), topics);

            step("observerLatency", "raw produce->consume vs append->RoomStream vs append->SSE");
            report.set("observerLatency", observerLatency(first, a, token));

            StreamBench.Settings stream = sizes.stream();
            step(
                    "stream",
                    stream.rooms() + " rooms streaming deltas at " + stream.perRoomPerSecond()
                            + "/s each, watched over SSE and RoomStream: raw Kafka, the client, HTTP one delta a"
                            + " request and batched every " + StreamBench.FLUSH.toMillis() + " ms; each then ramped");
            List<String> observerTokens = new ArrayList<>();
            for (int r = 0; r < stream.rooms(); r += 50) {
                observerTokens.add(a.mintToken("bench-observer-" + r, Set.of(Role.OPERATOR), "bench"));
            }
            report.set(
                    "stream",
                    new StreamBench(first, a, token, observerTokens, topics, rawStreamTopic(), stream, progress).run());

            step(
                    "query",
                    "a second instance joins; then " + QUERY_THREADS + " clients for "
                            + sizes.queryDuration().toSeconds() + " s, local and forwarded");
            try (SubstrateNode b = SubstrateNode.start(config("b"))) {
                report.set("query", query(http, a, b, token, backlog.runIds()));
            }
        }
        return report;
    }

    // ---- warm-up -----------------------------------------------------------------------------------------------

    /**
     * The parts' work once over a small backlog on topics of their own (appends both ways, the count and the fold
     * from start to caught up), figures discarded: a JVM compiles its hot code in its first seconds, on the same
     * two cores, and the fold has more code to compile than the count. As JMH's warm-up iterations, for both sides.
     */
    private void warmUp() throws Exception {
        String warmUpPrefix = prefix + "warmup.";
        SubstrateConfig config = config("warmup", warmUpPrefix);
        Topics topics = setUpTopics(
                config,
                List.of(new NewTopic(rawAppendTopic(warmUpPrefix), config.get(TopicSettings.PARTITIONS), (short) -1)));
        append(config, Backlog.of(sizes.warmUpEvents(), topics, ""), rawAppendTopic(warmUpPrefix));
        foldRaw(config("warmup-raw", warmUpPrefix), topics, warmUpPrefix + "count-baseline");
        try (SubstrateNode node = SubstrateNode.start(config)) {
            CaughtUp.await(base, node.fold().applicationId(), topics);
        }
    }

    /** Creates {@code config}'s Substrate topics and the baselines' {@code raw} topics; the Substrate topics. */
    private Topics setUpTopics(SubstrateConfig config, List<NewTopic> raw) throws Exception {
        Topics topics = Topics.from(config);
        try (Admin admin = admin()) {
            TopicSetup.ensure(
                    admin, topics, config.get(TopicSettings.PARTITIONS), config.get(TopicSettings.REPLICATION_FACTOR));
            admin.createTopics(raw).all().get();
            TopicSetup.awaitLeaders(admin, raw.stream().map(NewTopic::name).toList());
        }
        return topics;
    }

    private String rawStreamTopic() {
        return prefix + "raw-stream";
    }

    private static String rawAppendTopic(String prefix) {
        return prefix + "raw-append";
    }

    // ---- append ------------------------------------------------------------------------------------------------

    /**
     * The append part: {@value #APPEND_ROUNDS} rounds of both sides in turn, each on a backlog of the same size, the
     * figures their medians. One round's figures moved by more than half from run to run on this machine; the
     * median of rounds in turn does not follow one slow moment of either side. Every round but the last appends
     * to topics of its own; the last appends the backlog the fold part folds.
     */
    private ObjectNode appendRounds(SubstrateConfig first, Backlog backlog) throws Exception {
        List<ObjectNode> rounds = new ArrayList<>();
        for (int round = 1; round < APPEND_ROUNDS; round++) {
            String roundPrefix = prefix + "append-" + round + ".";
            SubstrateConfig config = config("append-" + round, roundPrefix);
            Topics topics = setUpTopics(
                    config,
                    List.of(new NewTopic(
                            rawAppendTopic(roundPrefix), config.get(TopicSettings.PARTITIONS), (short) -1)));
            rounds.add(append(config, Backlog.of(sizes.events(), topics, ""), rawAppendTopic(roundPrefix)));
        }
        rounds.add(append(first, backlog, rawAppendTopic(prefix)));
        ObjectNode node = JsonNodeFactory.instance.objectNode();
        node.put("events", backlog.items().size());
        node.put("rawPerSecond", Math.round(median(rounds, "rawPerSecond")));
        node.put("substratePerSecond", Math.round(median(rounds, "substratePerSecond")));
        node.put("ratio", median(rounds, "ratio"));
        node.put(
                "wireStartMs", rounds.get(rounds.size() - 1).path("wireStartMs").asDouble());
        ArrayNode each = node.putArray("rounds");
        rounds.forEach(round -> each.addObject()
                .put("rawPerSecond", round.path("rawPerSecond").asLong())
                .put("substratePerSecond", round.path("substratePerSecond").asLong())
                .put("ratio", round.path("ratio").asDouble()));
        return node;
    }

    /** The median of {@code field} among {@code rounds} (an odd number of them). */
    private static double median(List<ObjectNode> rounds, String field) {
        double[] values = rounds.stream()
                .mapToDouble(round -> round.path(field).asDouble())
                .sorted()
                .toArray();
        return values[values.length / 2];
    }

    private ObjectNode append(SubstrateConfig config, Backlog backlog, String rawTopic) throws Exception {
        Map<String, Object> producerConfig = new HashMap<>(config.kafkaProperties(ProducerConfig.configNames()));
        producerConfig.put(ProducerConfig.ACKS_CONFIG, "all");
        producerConfig.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        collectGarbage();
        long rawStart = System.nanoTime();
        try (KafkaProducer<String, byte[]> producer =
                new KafkaProducer<>(producerConfig, new StringSerializer(), new ByteArraySerializer())) {
            for (Backlog.Item item : backlog.items()) {
                producer.send(new ProducerRecord<>(rawTopic, item.key(), item.bytes()));
            }
            producer.flush();
        }
        double rawPerSecond = backlog.items().size() / seconds(rawStart);

        // What a process does once at start (in the confluent format: registering its subjects) is timed apart:
        // the figure is of appends.
        long wireStart = System.nanoTime();
        Wire wire = Wire.start(config);
        double wireStartMs = (System.nanoTime() - wireStart) / 1e6;
        collectGarbage();
        long start = System.nanoTime();
        try (SubstrateClient client = SubstrateClient.create(config, wire)) {
            // At most a window of appends in flight, and only those held: a service does not keep every answer.
            ArrayDeque<CompletableFuture<?>> window = new ArrayDeque<>(APPEND_WINDOW);
            for (Backlog.Item item : backlog.items()) {
                if (window.size() >= APPEND_WINDOW) {
                    window.poll().join();
                }
                window.add(
                        item.event() instanceof RunEvent run
                                ? client.append(run)
                                : client.append((RoomEvent) item.event()));
            }
            window.forEach(CompletableFuture::join);
        }
        double perSecond = backlog.items().size() / seconds(start);
        ObjectNode node = JsonNodeFactory.instance.objectNode();
        node.put("events", backlog.items().size());
        node.put("rawPerSecond", Math.round(rawPerSecond));
        node.put("substratePerSecond", Math.round(perSecond));
        node.put("ratio", Latencies.round(perSecond / rawPerSecond));
        node.put("wireStartMs", Latencies.round(wireStartMs));
        return node;
    }

    /**
     * A full collection before a timed side, as JMH can do between iterations: the garbage of building the backlog
     * and of the side before is collected outside the timing, not in the pauses of whichever side runs next.
     */
    private static void collectGarbage() {
        System.gc();
    }

    // ---- fold --------------------------------------------------------------------------------------------------

    private Pace foldRaw(SubstrateConfig config, Topics topics, String applicationId) throws Exception {
        collectGarbage();
        long start = System.nanoTime();
        try (CountBaseline baseline = CountBaseline.start(
                config,
                applicationId,
                List.of(topics.runEvents().name(), topics.roomEvents().name()))) {
            return pace(baseline.applicationId(), topics, start, baseline::phase);
        }
    }

    /**
     * That the fold decided every event of the backlog once: each of its runs succeeded (a step lost leaves a run
     * short of that) and nothing was refused (a step applied twice is an illegal transition, which is refused).
     * The figures go in the report; a mismatch ends the bench, as no figure of a fold that loses work is worth
     * printing.
     */
    private void checkDecisions(
            ObjectNode foldReport, HttpClient http, SubstrateNode node, String token, int runs, Topics topics)
            throws Exception {
        HttpResponse<String> answer = http.send(
                get(node.httpUrl() + "/v1/runs/counts?groupBy=status&project=project:bench", token),
                HttpResponse.BodyHandlers.ofString());
        ObjectNode check = foldReport.putObject("decisions");
        check.put("runs", runs);
        if (answer.statusCode() == 422) {
            // More runs than one count may look at (query.count.budget): the check cannot be made, which is said.
            check.put("notChecked", answer.body());
            return;
        }
        JsonNode counts = new ObjectMapper().readTree(answer.body());
        long succeeded = counts.path("counts").path("succeeded").asLong(-1);
        long total = counts.path("total").asLong(-1);
        long rejected = CaughtUp.endOffsets(base, topics.rejections().name());
        check.put("runsSucceeded", succeeded);
        check.put("rejectionsOffset", rejected);
        if (answer.statusCode() != 200 || succeeded != runs || total != runs || rejected != 0) {
            throw new IllegalStateException("the fold's decisions do not add up: " + runs + " runs appended, "
                    + answer.statusCode() + " " + answer.body() + ", the rejections topic ends at " + rejected);
        }
    }

    /** The records every producer among {@code metrics} has sent ({@code record-send-total}, summed). */
    static long recordsSent(Map<org.apache.kafka.common.MetricName, ? extends org.apache.kafka.common.Metric> metrics) {
        double sent = 0;
        for (var metric : metrics.entrySet()) {
            if (metric.getKey().name().equals("record-send-total")
                    && metric.getKey().group().equals("producer-metrics")
                    && metric.getValue().metricValue() instanceof Number value) {
                sent += value.doubleValue();
            }
        }
        return Math.round(sent);
    }

    /**
     * How an application that started at {@code start} went through the logs: the records they held when group
     * {@code group}'s committed offsets reached their end, the seconds until then, and the seconds until {@code
     * state} said RUNNING.
     */
    private Pace pace(String group, Topics topics, long start, Supplier<Phase> state) throws Exception {
        Phase now;
        while ((now = state.get()) != Phase.RUNNING) {
            if (now == Phase.STOPPED) {
                throw new IllegalStateException(group + " stopped before it ran: " + now);
            }
            Thread.sleep(5); // polling a state; 5 ms is well within the resolution of the figures
        }
        double startSeconds = seconds(start);
        long records = CaughtUp.await(base, group, topics);
        return new Pace(records, seconds(start), startSeconds);
    }

    /** {@link #pace}'s answer. */
    private record Pace(long records, double seconds, double startSeconds) {
        double perSecond() {
            return records / seconds;
        }

        /** The pace once RUNNING. */
        double runningPerSecond() {
            return records / Math.max(1e-3, seconds - startSeconds);
        }
    }

    // ---- httpAppend --------------------------------------------------------------------------------------------

    private static final int HTTP_CONNECTIONS = 32;
    private static final int HTTP_BATCH = 100;

    /**
     * Appends over HTTP, as a service in another language does: {@code single} (one event a request) and {@code
     * batched} ({@value #HTTP_BATCH} events a request, a JSON array), each on 1 and {@value #HTTP_CONNECTIONS}
     * connections (a client of its own each) for the query duration; events/s and the requests' p50 / p99. Each
     * figure's {@code ratio} is to the raw producer of the append part.
     */
    private ObjectNode httpAppend(String url, String token, double rawPerSecond) throws Exception {
        ObjectNode node = JsonNodeFactory.instance.objectNode();
        for (int batch : List.of(1, HTTP_BATCH)) {
            ObjectNode kind = node.putObject(batch == 1 ? "single" : "batched");
            kind.put("eventsPerRequest", batch);
            for (int connections : List.of(1, HTTP_CONNECTIONS)) {
                ObjectNode figure = httpAppendLoad(url, token, batch, connections);
                figure.put(
                        "ratio", Latencies.round(figure.path("eventsPerSecond").asDouble() / rawPerSecond));
                kind.set(connections == 1 ? "oneConnection" : "connections" + connections, figure);
            }
            // The figure a service sees at load: many connections.
            kind.put(
                    "eventsPerSecond",
                    kind.path("connections" + HTTP_CONNECTIONS)
                            .path("eventsPerSecond")
                            .asLong());
            kind.put(
                    "ratio",
                    kind.path("connections" + HTTP_CONNECTIONS).path("ratio").asDouble());
        }
        node.put("rawPerSecond", Math.round(rawPerSecond));
        // What the same instance answers when a request does nothing but authenticate: HTTP's own cost here.
        ObjectNode trivial = trivialGet(url, token, HTTP_CONNECTIONS);
        node.set("trivialGet", trivial);
        ((ObjectNode) node.path("single"))
                .put(
                        "trivialGetRatio",
                        Latencies.round(node.path("single")
                                        .path("eventsPerSecond")
                                        .asDouble()
                                / Math.max(1, trivial.path("requestsPerSecond").asDouble())));
        return node;
    }

    /** {@code connections} clients GET {@code /v1/whoami} (authenticated, nothing else) for the query duration. */
    private ObjectNode trivialGet(String url, String token, int connections) throws Exception {
        Latencies latencies = new Latencies();
        AtomicLong answered = new AtomicLong();
        ExecutorService pool = Executors.newFixedThreadPool(connections);
        try {
            List<Future<?>> clients = new ArrayList<>();
            long start = System.nanoTime();
            long end = start + sizes.queryDuration().toNanos();
            for (int c = 0; c < connections; c++) {
                clients.add(pool.submit(() -> {
                    HttpClient own = HttpClient.newBuilder()
                            .version(HttpClient.Version.HTTP_1_1)
                            .build();
                    HttpRequest whoami = get(url + "/v1/whoami", token);
                    while (System.nanoTime() < end) {
                        long sent = System.nanoTime();
                        HttpResponse<Void> answer = own.send(whoami, HttpResponse.BodyHandlers.discarding());
                        if (answer.statusCode() != 200) {
                            throw new IllegalStateException("GET /v1/whoami answered " + answer.statusCode());
                        }
                        latencies.record(System.nanoTime() - sent);
                        answered.incrementAndGet();
                    }
                    return null;
                }));
            }
            for (Future<?> client : clients) {
                client.get();
            }
            ObjectNode figure = latencies.json();
            figure.put("connections", connections);
            figure.put("requestsPerSecond", Math.round(answered.get() / seconds(start)));
            return figure;
        } finally {
            pool.shutdownNow();
        }
    }

    private ObjectNode httpAppendLoad(String url, String token, int batch, int connections) throws Exception {
        Latencies latencies = new Latencies();
        AtomicLong events = new AtomicLong();
        ExecutorService pool = Executors.newFixedThreadPool(connections);
        try {
            List<Future<?>> clients = new ArrayList<>();
            StringBuilder body = new StringBuilder(batch == 1 ? "" : "[");
            for (int i = 0; i < batch; i++) {
                body.append(i == 0 ? "" : ",")
                        .append("{\"type\": \"RunLabelled\", \"labels\": {\"n\": \"")
                        .append(i)
                        .append("\"}}");
            }
            String events1 = body.append(batch == 1 ? "" : "]").toString();
            long start = System.nanoTime();
            long end = start + sizes.queryDuration().toNanos();
            for (int c = 0; c < connections; c++) {
                clients.add(pool.submit(() -> {
                    HttpClient own = HttpClient.newBuilder()
                            .version(HttpClient.Version.HTTP_1_1)
                            .build();
                    HttpResponse<String> created = own.send(
                            HttpRequest.newBuilder(URI.create(url + "/v1/runs"))
                                    .header("Authorization", "Bearer " + token)
                                    .header("Content-Type", "application/json")
                                    .POST(HttpRequest.BodyPublishers.ofString("{\"project\": \"project:bench\"}"))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
                    String runId = new ObjectMapper()
                            .readTree(created.body())
                            .get("runId")
                            .asText();
                    HttpRequest append = HttpRequest.newBuilder(URI.create(url + "/v1/runs/" + runId + "/events"))
                            .header("Authorization", "Bearer " + token)
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(events1))
                            .build();
                    while (System.nanoTime() < end) {
                        long sent = System.nanoTime();
                        HttpResponse<Void> answer = own.send(append, HttpResponse.BodyHandlers.discarding());
                        if (answer.statusCode() != 202) {
                            throw new IllegalStateException("an HTTP append answered " + answer.statusCode());
                        }
                        latencies.record(System.nanoTime() - sent);
                        events.addAndGet(batch);
                    }
                    return null;
                }));
            }
            for (Future<?> client : clients) {
                client.get();
            }
            ObjectNode figure = latencies.json();
            figure.put("connections", connections);
            figure.put("eventsPerSecond", Math.round(events.get() / seconds(start)));
            return figure;
        } finally {
            pool.shutdownNow();
        }
    }

    // ---- appendToQueryable -------------------------------------------------------------------------------------

    private ObjectNode appendToQueryable(HttpClient http, String url, String token) throws Exception {
        Latencies latencies = new Latencies();
        for (int i = -20; i < sizes.queryableSamples(); i++) {
            long start = System.nanoTime();
            HttpResponse<String> appended = http.send(
                    HttpRequest.newBuilder(URI.create(url + "/v1/runs"))
                            .header("Authorization", "Bearer " + token)
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString("{\"scope\": \"shared\", \"project\": "
                                    + "\"project:bench\", \"activation\": {\"surface\": \"automation\", \"actor\": "
                                    + "\"svc:bench\"}}"))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            JsonNode answer = new ObjectMapper().readTree(appended.body());
            HttpResponse<Void> read = http.send(
                    HttpRequest.newBuilder(URI.create(
                                    url + "/v1/runs/" + answer.get("runId").asText() + "?timeoutMs=30000&position="
                                            + answer.get("position").asText()))
                            .header("Authorization", "Bearer " + token)
                            .build(),
                    HttpResponse.BodyHandlers.discarding());
            if (read.statusCode() != 200) {
                throw new IllegalStateException("a read at an append's position answered " + read.statusCode());
            }
            if (i >= 0) {
                latencies.record(System.nanoTime() - start);
            }
        }
        return latencies.json();
    }

    // ---- observerLatency ---------------------------------------------------------------------------------------

    /** One way from a writer to an observer, one event at a time. */
    private interface Way extends AutoCloseable {
        long once(int i) throws Exception;

        @Override
        void close();
    }

    private ObjectNode observerLatency(SubstrateConfig config, SubstrateNode node, String token) throws Exception {
        String roomId = "room-observed";
        node.client()
                .append(Backlog.roomEvent(
                        roomId,
                        RoomCreated.newBuilder()
                                .setKind(RoomKind.session)
                                .setProject("project:bench")
                                .build()))
                .join();
        int size = WireCodec.ROOM.encode(delta(roomId, 0)).length;
        List<Latencies> latencies = List.of(new Latencies(), new Latencies(), new Latencies());
        try (Way raw = rawLatency(config, size);
                Way stream = roomStream(config, node.client(), roomId);
                Way sse = sse(node, token, roomId)) {
            List<Way> ways = List.of(raw, stream, sse);
            int round = 100;
            for (int from = -100; from < sizes.observerSamples(); from += round) {
                for (int w = 0; w < ways.size(); w++) {
                    for (int i = from; i < Math.min(from + round, sizes.observerSamples()); i++) {
                        long took = ways.get(w).once(i);
                        if (i >= 0) {
                            latencies.get(w).record(took);
                        }
                    }
                }
            }
        }
        ObjectNode report = latencies.get(1).json();
        report.put("rawP50Ms", Latencies.round(latencies.get(0).percentileMs(50)));
        report.put("rawP99Ms", Latencies.round(latencies.get(0).percentileMs(99)));
        report.put("bytesPerEvent", size);
        report.set("sse", latencies.get(2).json());
        report.set("raw", latencies.get(0).json());
        return report;
    }

    private static RoomEvent delta(String roomId, int i) {
        return Backlog.roomEvent(roomId, new TextDelta("b1", String.format("%064d", i)));
    }

    /** The loop of Kafka's EndToEndLatency: linger 0, acks=all, send().get(), poll with fetch.max.wait.ms 0. */
    private Way rawLatency(SubstrateConfig config, int size) {
        TopicPartition partition = new TopicPartition(prefix + "raw-latency", 0);
        Map<String, Object> producerConfig = new HashMap<>(config.kafkaProperties(ProducerConfig.configNames()));
        producerConfig.put(ProducerConfig.ACKS_CONFIG, "all");
        producerConfig.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(producerConfig, new ByteArraySerializer(), new ByteArraySerializer());
        Map<String, Object> consumerConfig = new HashMap<>(config.kafkaProperties(ConsumerConfig.configNames()));
        consumerConfig.remove(ConsumerConfig.GROUP_ID_CONFIG);
        consumerConfig.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 0);
        consumerConfig.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(consumerConfig, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        consumer.assign(List.of(partition));
        consumer.seekToEnd(List.of(partition));
        consumer.position(partition);
        byte[] value = new byte[size];
        return new Way() {
            @Override
            public long once(int i) throws Exception {
                long start = System.nanoTime();
                producer.send(new ProducerRecord<>(partition.topic(), value)).get();
                ConsumerRecords<byte[], byte[]> received = consumer.poll(WAIT);
                while (received.isEmpty()) {
                    received = consumer.poll(WAIT);
                }
                return System.nanoTime() - start;
            }

            @Override
            public void close() {
                producer.close();
                consumer.close();
            }
        };
    }

    private static Way roomStream(SubstrateConfig config, SubstrateClient client, String roomId) {
        RoomStream stream = RoomStream.create(config);
        RoomStream.Subscription room = stream.subscribe(roomId, RoomStream.From.now());
        return new Way() {
            @Override
            public long once(int i) throws Exception {
                RoomEvent event = delta(roomId, i);
                long start = System.nanoTime();
                client.append(event).join();
                boolean seen = false;
                while (!seen) {
                    for (RoomStream.Entry entry : room.poll(WAIT)) {
                        seen |= entry.event().getEventId().equals(event.getEventId());
                    }
                }
                return System.nanoTime() - start;
            }

            @Override
            public void close() {
                room.close();
                stream.close();
            }
        };
    }

    private static Way sse(SubstrateNode node, String token, String roomId) throws Exception {
        ApiClient api = new ApiClient(node.httpUrl(), token);
        BlockingQueue<String> arrived = new ArrayBlockingQueue<>(4096);
        AtomicBoolean open = new AtomicBoolean(true);
        Thread reader = new Thread(
                () -> {
                    try {
                        api.stream("/v1/rooms/" + roomId + "/stream", Map.of("from", "now"), event -> {
                            arrived.offer(event.data());
                            return open.get();
                        });
                    } catch (RuntimeException e) {
                        arrived.offer("failed: " + e.getMessage());
                    }
                },
                "bench-sse");
        reader.setDaemon(true);
        reader.start();
        // The stream is open once an event appended after the request arrives.
        String probe;
        do {
            node.client().append(delta(roomId, -1)).join();
            probe = arrived.poll(1, TimeUnit.SECONDS);
        } while (probe == null);
        return new Way() {
            @Override
            public long once(int i) throws Exception {
                RoomEvent event = delta(roomId, i);
                long start = System.nanoTime();
                node.client().append(event).join();
                String data;
                do {
                    data = arrived.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                    if (data == null || data.startsWith("failed: ")) {
                        throw new IllegalStateException("no SSE event within " + WAIT + (data == null ? "" : data));
                    }
                } while (!data.contains(event.getEventId()));
                return System.nanoTime() - start;
            }

            @Override
            public void close() {
                open.set(false);
            }
        };
    }

    // ---- query -------------------------------------------------------------------------------------------------

    private ObjectNode query(HttpClient http, SubstrateNode a, SubstrateNode b, String token, List<String> runIds)
            throws Exception {
        // Both instances answer, and agree who holds what, once the rebalance settled and the newcomer restored
        // its share of the state from the changelogs.
        long joined = System.nanoTime();
        Duration settle = Duration.ofMinutes(10);
        for (SubstrateNode instance : List.of(a, b)) {
            while (http.send(get(instance.httpUrl() + "/ready", token), HttpResponse.BodyHandlers.discarding())
                            .statusCode()
                    != 200) {
                if (System.nanoTime() - joined > settle.toNanos()) {
                    throw new IllegalStateException("the second instance was not ready within " + settle);
                }
                Thread.sleep(200); // the second instance is restoring its partitions
            }
        }
        // A lookup sent to the instance holding the run is answered there ("local"); sent to the other one, it
        // is forwarded. A newcomer without state may hold nothing for a while (Kafka Streams keeps tasks where
        // their state is), so the split is by owner, not by instance.
        List<String> local = new ArrayList<>();
        List<String> forwarded = new ArrayList<>();
        long deadline = System.nanoTime() + settle.toNanos();
        List<String> sample = runIds.subList(0, Math.min(runIds.size(), 2_000));
        while (local.size() < sample.size()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the two instances did not settle within " + settle);
            }
            local.clear();
            forwarded.clear();
            for (String runId : sample) {
                HttpResponse<Void> answer = http.send(
                        get(a.httpUrl() + "/v1/runs/" + runId, token), HttpResponse.BodyHandlers.discarding());
                if (answer.statusCode() != 200) {
                    Thread.sleep(200); // partitions are still moving
                    break;
                }
                String owner =
                        answer.headers().firstValue("X-Substrate-Answered-By").orElse("");
                boolean onA = a.httpUrl().endsWith("//" + owner);
                local.add((onA ? a : b).httpUrl() + "/v1/runs/" + runId);
                forwarded.add((onA ? b : a).httpUrl() + "/v1/runs/" + runId);
            }
        }
        double settledSeconds = seconds(joined);
        ObjectNode node = load(http, token, local);
        node.put("secondInstanceReadySeconds", Latencies.round(settledSeconds));
        node.set("forwarded", load(http, token, forwarded));
        node.put("threads", QUERY_THREADS);
        return node;
    }

    /** {@value #QUERY_THREADS} clients GET {@code urls} round-robin for the query duration. */
    private ObjectNode load(HttpClient http, String token, List<String> urls) throws Exception {
        Latencies latencies = new Latencies();
        AtomicLong ok = new AtomicLong();
        long end = System.nanoTime() + sizes.queryDuration().toNanos();
        ExecutorService pool = Executors.newFixedThreadPool(QUERY_THREADS);
        try {
            List<Future<?>> clients = new ArrayList<>();
            for (int t = 0; t < QUERY_THREADS; t++) {
                int offset = t;
                clients.add(pool.submit(() -> {
                    for (int i = offset; System.nanoTime() < end; i += QUERY_THREADS) {
                        long start = System.nanoTime();
                        HttpResponse<Void> answer = http.send(
                                get(urls.get(i % urls.size()), token), HttpResponse.BodyHandlers.discarding());
                        if (answer.statusCode() == 200) {
                            latencies.record(System.nanoTime() - start);
                            ok.incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> client : clients) {
                client.get();
            }
        } finally {
            pool.shutdownNow();
        }
        ObjectNode node = latencies.json();
        node.put(
                "throughput",
                Math.round(ok.get() / (double) sizes.queryDuration().toSeconds()));
        return node;
    }

    private static HttpRequest get(String url, String token) {
        return HttpRequest.newBuilder(URI.create(url))
                .header("Authorization", "Bearer " + token)
                .build();
    }

    // ---- set-up ------------------------------------------------------------------------------------------------

    /** The settings of instance {@code name}: the bench's topics and application, its own data and port. */
    private SubstrateConfig config(String name) {
        return config(name, prefix);
    }

    /** Instance {@code name}'s settings, on the topics of {@code topicPrefix}, as application {@code <prefix>fold}. */
    private SubstrateConfig config(String name, String topicPrefix) {
        Map<String, String> instance = new HashMap<>(settings);
        instance.put(TopicSettings.PREFIX.key(), topicPrefix);
        instance.put(KafkaSettings.DATA_DIR.key(), dataDir.resolve(name).toString());
        instance.put(HttpSettings.PORT.key(), "0");
        instance.put(
                HttpSettings.TOKENS_FILE.key(), dataDir.resolve("tokens.json").toString());
        instance.put("application.id", topicPrefix + "fold");
        // The instances of one run sign what they forward to each other (the query part's second instance).
        instance.putIfAbsent(HttpSettings.CLUSTER_SECRET.key(), clusterSecret);
        return SubstrateConfig.load(System.getenv(), instance);
    }

    private Admin admin() {
        return Admin.create(new HashMap<>(base.kafkaProperties(AdminClientConfig.configNames())));
    }

    private void step(String part, String what) {
        progress.printf("[%tT] %s: %s%n", System.currentTimeMillis(), part, what);
        progress.flush();
    }

    private static double seconds(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    /** The machine: cores, memory, heap, JVM, OS. */
    public static ObjectNode machine() {
        ObjectNode machine = JsonNodeFactory.instance.objectNode();
        machine.put("cores", Runtime.getRuntime().availableProcessors());
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            machine.put("memoryBytes", os.getTotalMemorySize());
        }
        machine.put("maxHeapBytes", Runtime.getRuntime().maxMemory());
        machine.put("jvm", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        machine.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        return machine;
    }
}
