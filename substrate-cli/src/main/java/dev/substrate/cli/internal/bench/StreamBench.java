package dev.substrate.cli.internal.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.substrate.cli.internal.ApiClient;
import dev.substrate.cli.internal.SubstrateNode;
import dev.substrate.client.SubstrateClient;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.event.EventIds;
import dev.substrate.event.WireCodec;
import dev.substrate.events.room.BlockCompleted;
import dev.substrate.events.room.BlockStarted;
import dev.substrate.events.room.RoomCreated;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.events.room.RoomKind;
import dev.substrate.events.room.TextDelta;
import dev.substrate.events.room.TurnStarted;
import dev.substrate.stream.RoomStream;
import dev.substrate.topic.Topics;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The bench's {@code stream} part, the seeds' heaviest traffic: R rooms each stream one block of small deltas (4 to
 * 20 bytes of UTF-8 text, as a model's tokens) at a set rate per room, while every room is watched by one SSE client
 * and one {@link RoomStream} subscription. Four paths write the same deltas in turn: raw Kafka (a producer, the same
 * keys and bytes, to a topic of as many partitions, read by a plain consumer), the Java client, HTTP with one delta a
 * request, and HTTP with the deltas of each 20 ms in one request. Each path runs at the default rate, then a ramp
 * doubles the rate until the path falls behind. Then {@code blockCost}: the fold's rate for deltas into a block
 * already holding 1 KB and one holding 1 MB of text. Nothing here asserts a time.
 */
public final class StreamBench {

    /**
     * How the part runs.
     *
     * @param rooms rooms streaming at once
     * @param perRoomPerSecond deltas a second each room streams at the default rate
     * @param duration how long each path streams at the default rate
     * @param rampStep how long each step of a ramp streams
     * @param rampSteps the most doublings a ramp tries
     * @param blockDeltas deltas folded into each block of {@code blockCost}
     */
    public record Settings(
            int rooms, int perRoomPerSecond, Duration duration, Duration rampStep, int rampSteps, int blockDeltas) {
        /** {@code --quick}: 100 rooms at 20 deltas/s each (2,000 in all) for 5 s a path, ramp steps of 3 s. */
        public static Settings quick() {
            return new Settings(100, 20, Duration.ofSeconds(5), Duration.ofSeconds(3), 7, 5_000);
        }

        /** The full run: as {@link #quick()}, 15 s a path, ramp steps of 5 s, and four times the block deltas. */
        public static Settings full() {
            return new Settings(100, 20, Duration.ofSeconds(15), Duration.ofSeconds(5), 8, 20_000);
        }
    }

    /** The paths, in the order they run. */
    enum Path {
        RAW("raw"),
        CLIENT("client"),
        HTTP_SINGLE("httpSingle"),
        HTTP_BATCHED("httpBatched");

        final String json;

        Path(String json) {
            this.json = json;
        }
    }

    /** How often {@link Path#HTTP_BATCHED} sends what accumulated, as a client that buffers a model's output does. */
    static final Duration FLUSH = Duration.ofMillis(20);

    /** How long after a step's last delta every observer must have it, and the fold must have caught up. */
    private static final Duration DRAIN = Duration.ofSeconds(5);

    private static final String BLOCK = "b";

    /** The turn each room's block is in while the views are timed. */
    private static final String VIEW_TURN = "view";

    /** Tokens of 4 to 20 UTF-8 bytes, some of them beyond ASCII. */
    private static final List<String> TOKENS = List.of(
            " the",
            " model",
            " streams",
            " tokens",
            " café",
            " naïve",
            " résumé",
            " über",
            " 東京",
            " 数据流",
            " Kafka",
            " Ζεύς",
            " 🙂ok",
            " ∑ of",
            " and then",
            " — so",
            " ½ cup",
            " Straße",
            " déjà vu",
            " ok.");

    private final SubstrateConfig config;
    private final SubstrateNode node;
    private final List<String> observerTokens;
    private final String token;
    private final Topics topics;
    private final String rawTopic;
    private final Settings settings;
    private final PrintWriter progress;
    private final List<String> roomIds = new ArrayList<>();

    /** When each delta in flight was sent, by event id (Substrate's paths) or room and sequence (raw). */
    private final Map<String, Long> sentAt = new ConcurrentHashMap<>();

    private final Observed sse = new Observed();
    private final Observed roomStream = new Observed();
    private final Observed raw = new Observed();
    /** The observer whose arrivals are known by cursor (the AI SDK's), while it runs. */
    private volatile Observed byCursor;

    /**
     * @param config the instance's settings
     * @param node the instance the Substrate paths write to and read from
     * @param token a token that may append to the rooms
     * @param observerTokens tokens for the SSE clients (one per 50 rooms, within {@code
     *     stream.max.clients.per.principal})
     * @param rawTopic the raw path's topic, of as many partitions as the room log
     */
    StreamBench(
            SubstrateConfig config,
            SubstrateNode node,
            String token,
            List<String> observerTokens,
            Topics topics,
            String rawTopic,
            Settings settings,
            PrintWriter progress) {
        this.config = config;
        this.node = node;
        this.token = token;
        this.observerTokens = List.copyOf(observerTokens);
        this.topics = topics;
        this.rawTopic = rawTopic;
        this.settings = settings;
        this.progress = progress;
    }

    /** Runs the part; its figures. */
    ObjectNode run() throws Exception {
        ObjectNode report = JsonNodeFactory.instance.objectNode();
        ObjectNode used = report.putObject("settings");
        used.put("rooms", settings.rooms());
        used.put("perRoomPerSecond", settings.perRoomPerSecond());
        used.put("seconds", settings.duration().toSeconds());
        used.put("rampStepSeconds", settings.rampStep().toSeconds());
        used.put("flushMs", FLUSH.toMillis());
        SubstrateClient client = node.client();
        for (int r = 0; r < settings.rooms(); r++) {
            String roomId = "room-stream-" + r + "-" + EventIds.next();
            roomIds.add(roomId);
            client.append(Backlog.roomEvent(
                            roomId,
                            RoomCreated.newBuilder()
                                    .setKind(RoomKind.session)
                                    .setProject("project:bench")
                                    .build()))
                    .join();
            client.append(Backlog.roomEvent(roomId, startBlock())).join();
        }
        CaughtUp.await(config, node.fold().applicationId(), topics);
        used.put("bytesPerDelta", WireCodec.ROOM.encode(delta(roomIds.get(0))).length);
        List<AutoCloseable> observers = new ArrayList<>();
        try {
            observers.add(rawObserver());
            observers.add(roomStreamObservers());
            observers.add(sseObservers(sse));
            int rate = settings.perRoomPerSecond() * settings.rooms();
            for (Path path : Path.values()) {
                progress.printf(
                        "[%tT] stream: %s, %d rooms at %d deltas/s each%n",
                        System.currentTimeMillis(), path.json, settings.rooms(), settings.perRoomPerSecond());
                progress.flush();
                ObjectNode figures = step(path, rate, settings.duration());
                ArrayNode ramp = figures.putArray("ramp");
                long sustainable = figures.path("keptUp").asBoolean() ? rate : 0;
                for (int k = 1;
                        k <= settings.rampSteps() && figures.path("keptUp").asBoolean();
                        k++) {
                    ObjectNode rung = step(path, rate << k, settings.rampStep());
                    ramp.add(rung);
                    if (!rung.path("keptUp").asBoolean()) {
                        break;
                    }
                    sustainable = rate << k;
                }
                figures.put("sustainablePerSecond", sustainable);
                report.set(path.json, figures);
            }
        } finally {
            for (AutoCloseable observer : observers) {
                observer.close();
            }
        }
        ratios(report);
        report.set("views", views(settings.perRoomPerSecond() * settings.rooms(), report));
        progress.printf("[%tT] stream: blockCost%n", System.currentTimeMillis());
        progress.flush();
        report.set("blockCost", blockCost());
        return report;
    }

    /** Each Substrate path's figures against raw Kafka's. */
    private static void ratios(ObjectNode report) {
        JsonNode raw = report.path(Path.RAW.json);
        double rawP99 = raw.path("observers").path("raw").path("p99Ms").asDouble();
        for (Path path : List.of(Path.CLIENT, Path.HTTP_SINGLE, Path.HTTP_BATCHED)) {
            ObjectNode figures = (ObjectNode) report.path(path.json);
            ObjectNode ratio = figures.putObject("vsRaw");
            ratio.put(
                    "appendedRatio",
                    Latencies.round(figures.path("appendedPerSecond").asDouble()
                            / Math.max(1, raw.path("appendedPerSecond").asDouble())));
            ratio.put(
                    "sustainableRatio",
                    Latencies.round(figures.path("sustainablePerSecond").asDouble()
                            / Math.max(1, raw.path("sustainablePerSecond").asDouble())));
            for (String observer : List.of("sse", "roomStream")) {
                ratio.put(
                        observer + "P99OverRawMs",
                        Latencies.round(figures.path("observers")
                                        .path(observer)
                                        .path("p99Ms")
                                        .asDouble()
                                - rawP99));
            }
        }
    }

    // ---- one step ----------------------------------------------------------------------------------------------

    /** {@code path} at {@code perSecond} deltas a second in all, for {@code duration}; the step's figures. */
    private ObjectNode step(Path path, int perSecond, Duration duration) throws Exception {
        return step(path, perSecond, duration, observersOf(path));
    }

    /** {@link #step(Path, int, Duration)}, timed by {@code observed}. */
    private ObjectNode step(Path path, int perSecond, Duration duration, Map<String, Observed> observed)
            throws Exception {
        sentAt.clear();
        for (Observed observer : observed.values()) {
            observer.reset();
        }
        Latencies appendLatency = new Latencies();
        AtomicLong appended = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        double perRoom = perSecond / (double) settings.rooms();
        long start = System.nanoTime();
        long end = start + duration.toNanos();
        Writer writer = writer(path, appendLatency, appended, failed);
        List<Thread> threads = new ArrayList<>();
        for (int r = 0; r < settings.rooms(); r++) {
            int room = r;
            Thread thread = new Thread(
                    () -> {
                        try {
                            writer.stream(room, perRoom, start, end);
                        } catch (Exception e) {
                            failed.incrementAndGet();
                        }
                    },
                    "bench-stream-" + r);
            thread.setDaemon(true);
            threads.add(thread);
        }
        threads.forEach(Thread::start);
        for (Thread thread : threads) {
            thread.join();
        }
        writer.finish();
        double seconds = (System.nanoTime() - start) / 1e9;
        long sent = writer.sent();
        ObjectNode figures = JsonNodeFactory.instance.objectNode();
        figures.put("targetPerSecond", perSecond);
        figures.put("sent", sent);
        figures.put("appendedPerSecond", Math.round(appended.get() / seconds));
        figures.put("failed", failed.get());
        figures.set("appendLatency", appendLatency.json());
        long drainedBy = System.nanoTime() + DRAIN.toNanos();
        ObjectNode observers = figures.putObject("observers");
        // A path that sends late (a request still answering when the next delta fell due) ends its step late: its
        // rate over the step as it went, not the deltas it sent in the end, says whether it kept up.
        boolean keptUp = failed.get() == 0 && appended.get() / seconds >= 0.95 * perSecond;
        for (Map.Entry<String, Observed> observer : observed.entrySet()) {
            boolean all = observer.getValue().awaitCount(sent, drainedBy);
            if (!all && duration.equals(settings.duration())) {
                // At the default rate every delta must arrive at last, kept up or not: received says how many did.
                observer.getValue().awaitCount(sent, System.nanoTime() + TimeUnit.SECONDS.toNanos(60));
            }
            ObjectNode latency = observer.getValue().latencies.json();
            latency.put("received", observer.getValue().latencies.count());
            observers.set(observer.getKey(), latency);
            keptUp &= all;
        }
        if (path != Path.RAW) {
            // The fold keeps up when it reaches the logs' end within the drain time after the last delta.
            CaughtUp.await(config, node.fold().applicationId(), topics);
            double foldSeconds = (System.nanoTime() - start) / 1e9;
            figures.put("foldedPerSecond", Math.round(appended.get() / foldSeconds));
            figures.put("foldCaughtUpSecondsAfterLast", Latencies.round(foldSeconds - seconds));
            keptUp &= System.nanoTime() - drainedBy < 0;
        }
        figures.put("keptUp", keptUp);
        progress.printf(
                "[%tT] stream:   %s %d/s: appended %d/s, kept up %s%n",
                System.currentTimeMillis(),
                path.json,
                perSecond,
                figures.path("appendedPerSecond").asLong(),
                keptUp);
        progress.flush();
        return figures;
    }

    private Map<String, Observed> observersOf(Path path) {
        return path == Path.RAW ? Map.of("raw", raw) : Map.of("sse", sse, "roomStream", roomStream);
    }

    /** Streams one room's deltas on one path. */
    private interface Writer {
        /** Writes room {@code room}'s deltas at {@code perSecond} from {@code start} until {@code end}. */
        void stream(int room, double perSecond, long start, long end) throws Exception;

        /** Waits for what is still in flight. */
        void finish() throws Exception;

        /** Deltas sent so far. */
        long sent();
    }

    private Writer writer(Path path, Latencies latency, AtomicLong appended, AtomicLong failed) {
        AtomicLong sent = new AtomicLong();
        return switch (path) {
            case RAW -> rawWriter(latency, appended, failed, sent);
            case CLIENT -> clientWriter(latency, appended, failed, sent);
            case HTTP_SINGLE -> httpWriter(1, latency, appended, failed, sent);
            case HTTP_BATCHED -> httpWriter(0, latency, appended, failed, sent);
        };
    }

    /** Waits until {@code due}, without a sleep's coarse granularity. */
    private static void waitUntil(long due) {
        long wait;
        while ((wait = due - System.nanoTime()) > 0) {
            LockSupport.parkNanos(wait);
        }
    }

    private Writer rawWriter(Latencies latency, AtomicLong appended, AtomicLong failed, AtomicLong sent) {
        Map<String, Object> producerConfig = new HashMap<>(config.kafkaProperties(ProducerConfig.configNames()));
        producerConfig.put(ProducerConfig.ACKS_CONFIG, "all");
        producerConfig.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        producerConfig.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        KafkaProducer<String, byte[]> producer =
                new KafkaProducer<>(producerConfig, new StringSerializer(), new ByteArraySerializer());
        return new Writer() {
            @Override
            public void stream(int room, double perSecond, long start, long end) {
                String roomId = roomIds.get(room);
                long sequence = raw.nextSequence(roomId);
                for (long due = firstDue(start, perSecond); due < end; due += (long) (1e9 / perSecond)) {
                    waitUntil(due);
                    byte[] bytes = WireCodec.ROOM.encode(delta(roomId));
                    long at = System.nanoTime();
                    sentAt.put(roomId + "#" + sequence++, at);
                    sent.incrementAndGet();
                    producer.send(new ProducerRecord<>(rawTopic, roomId, bytes), (metadata, e) -> {
                        if (e != null) {
                            failed.incrementAndGet();
                        } else {
                            latency.record(System.nanoTime() - at);
                            appended.incrementAndGet();
                        }
                    });
                }
                raw.sequenceAt(roomId, sequence);
            }

            @Override
            public void finish() {
                producer.close();
            }

            @Override
            public long sent() {
                return sent.get();
            }
        };
    }

    private Writer clientWriter(Latencies latency, AtomicLong appended, AtomicLong failed, AtomicLong sent) {
        SubstrateClient client = node.client();
        List<CompletableFuture<?>> last = new ArrayList<>();
        return new Writer() {
            @Override
            public void stream(int room, double perSecond, long start, long end) {
                String roomId = roomIds.get(room);
                CompletableFuture<?> previous = CompletableFuture.completedFuture(null);
                for (long due = firstDue(start, perSecond); due < end; due += (long) (1e9 / perSecond)) {
                    waitUntil(due);
                    RoomEvent delta = delta(roomId);
                    long at = System.nanoTime();
                    sentAt.put(delta.getEventId(), at);
                    sent.incrementAndGet();
                    previous = client.append(delta).whenComplete((done, e) -> {
                        if (e != null) {
                            failed.incrementAndGet();
                        } else {
                            latency.record(System.nanoTime() - at);
                            appended.incrementAndGet();
                            Observed cursors = byCursor;
                            if (cursors != null) {
                                cursors.acked(roomId + "@" + done.position().offset(), at);
                            }
                        }
                    });
                }
                synchronized (last) {
                    last.add(previous);
                }
            }

            @Override
            public void finish() {
                synchronized (last) {
                    last.forEach(each -> each.handle((done, e) -> null).join());
                    last.clear();
                }
            }

            @Override
            public long sent() {
                return sent.get();
            }
        };
    }

    /**
     * HTTP appends from a client of their own per room (each room's deltas in order, one request at a time, as a
     * service streaming a model's answer sends them): {@code batch} 1 sends each delta alone when due; 0 sends every
     * {@link #FLUSH} the deltas that fell due since the last request, as one JSON array.
     */
    private Writer httpWriter(int batch, Latencies latency, AtomicLong appended, AtomicLong failed, AtomicLong sent) {
        HttpClient http =
                HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        return new Writer() {
            @Override
            public void stream(int room, double perSecond, long start, long end) throws Exception {
                String roomId = roomIds.get(room);
                URI uri = URI.create(node.httpUrl() + "/v1/rooms/" + roomId + "/events");
                long interval = (long) (1e9 / perSecond);
                long due = firstDue(start, perSecond);
                long flushEvery = FLUSH.toNanos();
                long nextFlush = start + ThreadLocalRandom.current().nextLong(flushEvery);
                ArrayDeque<String> pending = new ArrayDeque<>();
                while (due < end || !pending.isEmpty()) {
                    if (batch == 1) {
                        waitUntil(due);
                    } else {
                        waitUntil(nextFlush);
                        nextFlush += flushEvery;
                    }
                    long now = System.nanoTime();
                    while (due < end && due <= now) {
                        pending.add(EventIds.next());
                        due += interval;
                    }
                    if (pending.isEmpty()) {
                        continue;
                    }
                    StringBuilder body = new StringBuilder(batch == 1 ? "" : "[");
                    List<String> ids = new ArrayList<>();
                    int count = batch == 1 ? 1 : pending.size();
                    for (int i = 0; i < count; i++) {
                        String eventId = pending.poll();
                        ids.add(eventId);
                        body.append(i == 0 ? "" : ",")
                                .append("{\"type\":\"TextDelta\",\"blockId\":\"")
                                .append(BLOCK)
                                .append("\",\"eventId\":\"")
                                .append(eventId)
                                .append("\",\"text\":\"")
                                .append(token())
                                .append("\"}");
                    }
                    if (batch != 1) {
                        body.append(']');
                    }
                    long at = System.nanoTime();
                    ids.forEach(id -> sentAt.put(id, at));
                    sent.addAndGet(ids.size());
                    HttpResponse<Void> answer = http.send(
                            HttpRequest.newBuilder(uri)
                                    .header("Authorization", "Bearer " + token)
                                    .header("Content-Type", "application/json")
                                    .POST(HttpRequest.BodyPublishers.ofString(body.toString(), StandardCharsets.UTF_8))
                                    .build(),
                            HttpResponse.BodyHandlers.discarding());
                    if (answer.statusCode() != 202) {
                        failed.addAndGet(ids.size());
                        continue;
                    }
                    latency.record(System.nanoTime() - at);
                    appended.addAndGet(ids.size());
                }
            }

            @Override
            public void finish() {
                // Every request was answered before its room's thread ended.
            }

            @Override
            public long sent() {
                return sent.get();
            }
        };
    }

    /** A room's first delta falls due at a random moment of its first interval, so that rooms do not send in step. */
    private static long firstDue(long start, double perSecond) {
        return start + ThreadLocalRandom.current().nextLong(Math.max(1, (long) (1e9 / perSecond)));
    }

    // ---- observers ---------------------------------------------------------------------------------------------

    /** What one kind of observer received in a step, and how long after sending. */
    private final class Observed {
        private volatile Latencies latencies = new Latencies();
        private final Map<String, AtomicLong> sequences = new ConcurrentHashMap<>();
        /** The raw path's writers: the sequence number each room's next delta gets. */
        private final Map<String, Long> nextToSend = new ConcurrentHashMap<>();

        synchronized void reset() {
            latencies = new Latencies();
            early.clear();
        }

        /** Arrivals by cursor ({@code room@offset}) whose append was not acknowledged yet: when they arrived. */
        private final Map<String, Long> early = new HashMap<>();

        /** Records an arrival of what was sent under {@code key}, if it was sent in this step. */
        void arrived(String key) {
            Long at = sentAt.get(key);
            if (at != null) {
                latencies.record(System.nanoTime() - at);
            }
        }

        /**
         * Records an arrival known by its cursor ({@code room@offset}), which the sender learns only from the append's
         * acknowledgement: if that has not come yet, the arrival waits for it ({@link #acked}).
         */
        synchronized void arrivedAt(String cursorKey) {
            long now = System.nanoTime();
            Long at = sentAt.get(cursorKey);
            if (at != null) {
                latencies.record(now - at);
            } else {
                early.put(cursorKey, now);
            }
        }

        /** The append sent at {@code at} was acknowledged at {@code cursorKey}. */
        synchronized void acked(String cursorKey, long at) {
            sentAt.put(cursorKey, at);
            Long arrived = early.remove(cursorKey);
            if (arrived != null) {
                latencies.record(arrived - at);
            }
        }

        /** The raw path: the next sequence number a room's writer gives (sequences go on from step to step). */
        long nextSequence(String roomId) {
            return nextToSend.getOrDefault(roomId, 0L);
        }

        void sequenceAt(String roomId, long next) {
            nextToSend.put(roomId, next);
        }

        /** The raw path's reader: the sequence of the next record of {@code roomId} it reads. */
        long readSequence(String roomId) {
            return sequences.computeIfAbsent(roomId, id -> new AtomicLong()).getAndIncrement();
        }

        /** Waits until {@code count} arrived or {@code deadline} passed; whether all arrived. */
        boolean awaitCount(long count, long deadline) throws InterruptedException {
            while (latencies.count() < count) {
                if (System.nanoTime() - deadline > 0) {
                    return false;
                }
                Thread.sleep(10); // polling a count; the latencies themselves are taken on arrival
            }
            return true;
        }
    }

    /** A plain consumer of the raw topic, every partition assigned, as Kafka's EndToEndLatency reads. */
    private AutoCloseable rawObserver() {
        Map<String, Object> consumerConfig = new HashMap<>(config.kafkaProperties(ConsumerConfig.configNames()));
        consumerConfig.remove(ConsumerConfig.GROUP_ID_CONFIG);
        consumerConfig.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(
                consumerConfig,
                new StringDeserializer(),
                new org.apache.kafka.common.serialization.ByteArrayDeserializer());
        List<TopicPartition> partitions = new ArrayList<>();
        for (PartitionInfo info : consumer.partitionsFor(rawTopic)) {
            partitions.add(new TopicPartition(rawTopic, info.partition()));
        }
        consumer.assign(partitions);
        consumer.seekToEnd(partitions);
        partitions.forEach(consumer::position);
        AtomicBoolean open = new AtomicBoolean(true);
        Thread reader = new Thread(
                () -> {
                    try {
                        while (open.get()) {
                            for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofSeconds(1))) {
                                raw.arrived(record.key() + "#" + raw.readSequence(record.key()));
                            }
                        }
                    } catch (WakeupException e) {
                        // closing
                    } finally {
                        consumer.close();
                    }
                },
                "bench-stream-raw");
        reader.setDaemon(true);
        reader.start();
        return () -> {
            open.set(false);
            consumer.wakeup();
            reader.join(10_000);
        };
    }

    /** One {@link RoomStream} subscription per room, each polled by a thread of its own (as one UI each would). */
    private AutoCloseable roomStreamObservers() {
        RoomStream stream = RoomStream.create(config);
        AtomicBoolean open = new AtomicBoolean(true);
        List<Thread> readers = new ArrayList<>();
        for (String roomId : roomIds) {
            RoomStream.Subscription subscription = stream.subscribe(roomId, RoomStream.From.now());
            Thread reader = new Thread(
                    () -> {
                        try (subscription) {
                            while (open.get() && subscription.isOpen()) {
                                for (RoomStream.Entry entry : subscription.poll(Duration.ofMillis(200))) {
                                    roomStream.arrived(entry.event().getEventId());
                                }
                            }
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    },
                    "bench-roomstream-" + roomId);
            reader.setDaemon(true);
            reader.start();
            readers.add(reader);
        }
        return () -> {
            open.set(false);
            for (Thread reader : readers) {
                reader.join(10_000);
            }
            stream.close();
        };
    }

    /** One SSE client per room ({@code GET /v1/rooms/{id}/stream?from=now}), each on a thread of its own. */
    private AutoCloseable sseObservers(Observed target) throws Exception {
        AtomicBoolean open = new AtomicBoolean(true);
        CountDownLatch opened = new CountDownLatch(roomIds.size());
        for (int r = 0; r < roomIds.size(); r++) {
            String roomId = roomIds.get(r);
            ApiClient api = new ApiClient(node.httpUrl(), observerTokens.get(r / 50 % observerTokens.size()));
            AtomicBoolean seenProbe = new AtomicBoolean();
            Thread reader = new Thread(
                    () -> {
                        try {
                            api.stream("/v1/rooms/" + roomId + "/stream", Map.of("from", "now"), event -> {
                                String data = event.data();
                                int at = data.indexOf("\"eventId\":\"");
                                if (at >= 0) {
                                    int from = at + "\"eventId\":\"".length();
                                    String eventId = data.substring(from, data.indexOf('"', from));
                                    if (eventId.startsWith("probe-")) {
                                        if (seenProbe.compareAndSet(false, true)) {
                                            opened.countDown();
                                        }
                                    } else {
                                        target.arrived(eventId);
                                    }
                                }
                                return open.get();
                            });
                        } catch (RuntimeException e) {
                            progress.println("an SSE observer of " + roomId + " ended: " + e.getMessage());
                        }
                    },
                    "bench-sse-" + roomId);
            reader.setDaemon(true);
            reader.start();
        }
        awaitOpen(opened, "SSE");
        return () -> open.set(false);
    }

    /**
     * Waits until every observer is open ({@code opened} counted down): those that start at the room's end are, once
     * an event appended after their request arrives, so a probe a room is appended every second until then.
     */
    private void awaitOpen(CountDownLatch opened, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (opened.getCount() > 0 && System.nanoTime() - deadline < 0) {
            for (String roomId : roomIds) {
                RoomEvent probe = RoomEvent.newBuilder(delta(roomId))
                        .setEventId("probe-" + EventIds.next())
                        .build();
                node.client().append(probe);
            }
            opened.await(1, TimeUnit.SECONDS);
        }
        if (opened.getCount() > 0) {
            throw new IllegalStateException(opened.getCount() + " " + what + " observers did not open within 60 s");
        }
        CaughtUp.await(config, node.fold().applicationId(), topics);
    }

    // ---- views ---------------------------------------------------------------------------------------------------

    /** The room views the {@code views} part times, one kind of observer at a time. */
    private enum View {
        SSE("sse"),
        WEB_SOCKET("webSocket"),
        AI_SDK("aiSdk"),
        LONG_POLL("longPoll");

        final String json;

        View(String json) {
            this.json = json;
        }
    }

    /**
     * Each view's observers alone (one client a room), on the client path at the default rate: the time from a
     * delta's send to its arrival at every client, beside raw Kafka's, timed again alone just before ({@code
     * p99OverRawMs}). Each room first
     * starts a turn with its block in it, so that the AI SDK's view has a turn to follow from near its end.
     */
    private ObjectNode views(int rate, ObjectNode report) throws Exception {
        SubstrateClient client = node.client();
        for (String roomId : roomIds) {
            client.append(Backlog.roomEvent(roomId, new BlockCompleted(BLOCK, null)));
            client.append(Backlog.roomEvent(roomId, new TurnStarted(VIEW_TURN, "agent")));
            client.append(Backlog.roomEvent(
                            roomId,
                            BlockStarted.newBuilder(startBlock())
                                    .setTurnId(VIEW_TURN)
                                    .build()))
                    .join();
        }
        CaughtUp.await(config, node.fold().applicationId(), topics);
        ObjectNode views = JsonNodeFactory.instance.objectNode();
        // Raw Kafka again, just before the views and alone: the baseline they are set beside (the raw path's own
        // first step, at the start of the part, is the likeliest to catch a stall of the machine's).
        progress.printf("[%tT] stream: views: raw, alone%n", System.currentTimeMillis());
        progress.flush();
        double rawP99;
        AutoCloseable rawAgain = rawObserver();
        try {
            ObjectNode figures = step(Path.RAW, rate, settings.duration(), Map.of("raw", raw));
            ObjectNode latency = (ObjectNode) figures.path("observers").path("raw");
            latency.put("sent", figures.path("sent").asLong());
            rawP99 = latency.path("p99Ms").asDouble();
            views.set("raw", latency);
        } finally {
            rawAgain.close();
        }
        for (View view : View.values()) {
            progress.printf(
                    "[%tT] stream: view %s, %d rooms at %d deltas/s each%n",
                    System.currentTimeMillis(), view.json, settings.rooms(), settings.perRoomPerSecond());
            progress.flush();
            Observed observed = new Observed();
            AutoCloseable observers = open(view, observed);
            ObjectNode figures;
            try {
                figures = step(Path.CLIENT, rate, settings.duration(), Map.of(view.json, observed));
            } finally {
                observers.close();
                byCursor = null;
            }
            ObjectNode latency = (ObjectNode) figures.path("observers").path(view.json);
            latency.put("sent", figures.path("sent").asLong());
            latency.put("keptUp", figures.path("keptUp").asBoolean());
            latency.put("p99OverRawMs", Latencies.round(latency.path("p99Ms").asDouble() - rawP99));
            views.set(view.json, latency);
        }
        return views;
    }

    /** Opens one client a room of {@code view}, each arrival recorded in {@code observed}; once all are open. */
    private AutoCloseable open(View view, Observed observed) throws Exception {
        String url = node.httpUrl();
        java.util.function.IntFunction<String> tokenOf = r -> observerTokens.get(r / 50 % observerTokens.size());
        CountDownLatch opened = new CountDownLatch(roomIds.size());
        AutoCloseable observers;
        switch (view) {
            case SSE -> {
                return sseObservers(observed);
            }
            case WEB_SOCKET -> {
                observers = ObserverViews.webSockets(url, tokenOf, roomIds, observed::arrived, opened, progress);
                opened.await(60, TimeUnit.SECONDS);
            }
            case AI_SDK -> {
                byCursor = observed;
                observers = ObserverViews.aiSdkStreams(
                        url,
                        tokenOf,
                        roomIds,
                        (room, cursor) -> observed.arrivedAt(room + "@" + cursor),
                        opened,
                        progress);
                opened.await(60, TimeUnit.SECONDS);
            }
            case LONG_POLL -> {
                observers = ObserverViews.longPolls(url, tokenOf, roomIds, observed::arrived, opened, progress);
                awaitOpen(opened, "long-poll");
            }
            default -> throw new IllegalStateException(view.name());
        }
        if (opened.getCount() > 0) {
            observers.close();
            throw new IllegalStateException(
                    opened.getCount() + " " + view.json + " observers did not open within 60 s");
        }
        CaughtUp.await(config, node.fold().applicationId(), topics);
        return observers;
    }

    // ---- blockCost ---------------------------------------------------------------------------------------------

    /**
     * The fold's rate for {@code blockDeltas} small deltas into a block already holding 1 KB of text, then into one
     * holding 1 MB: a delta should cost the same whatever its block holds.
     */
    private ObjectNode blockCost() throws Exception {
        ObjectNode node = JsonNodeFactory.instance.objectNode();
        node.put("deltas", settings.blockDeltas());
        double small = foldRateInto(1_000);
        double large = foldRateInto(1_000_000);
        node.put("smallBlockBytes", 1_000);
        node.put("largeBlockBytes", 1_000_000);
        node.put("smallPerSecond", Math.round(small));
        node.put("largePerSecond", Math.round(large));
        node.put("ratio", Latencies.round(large / small));
        return node;
    }

    private double foldRateInto(int blockBytes) throws Exception {
        SubstrateClient client = node.client();
        String roomId = "room-block-" + blockBytes + "-" + EventIds.next();
        client.append(Backlog.roomEvent(
                        roomId,
                        RoomCreated.newBuilder()
                                .setKind(RoomKind.session)
                                .setProject("project:bench")
                                .build()))
                .join();
        client.append(Backlog.roomEvent(roomId, startBlock())).join();
        // Filled in deltas of at most 250,000 bytes: the block holds exactly blockBytes before the small ones.
        for (int filled = 0; filled < blockBytes; filled += 250_000) {
            client.append(Backlog.roomEvent(
                            roomId, new TextDelta(BLOCK, "x".repeat(Math.min(250_000, blockBytes - filled)))))
                    .join();
        }
        CaughtUp.await(config, this.node.fold().applicationId(), topics);
        long start = System.nanoTime();
        ArrayDeque<CompletableFuture<?>> window = new ArrayDeque<>();
        for (int i = 0; i < settings.blockDeltas(); i++) {
            if (window.size() >= 1_000) {
                window.poll().join();
            }
            window.add(client.append(delta(roomId)));
        }
        window.forEach(CompletableFuture::join);
        CaughtUp.await(config, this.node.fold().applicationId(), topics);
        return settings.blockDeltas() / ((System.nanoTime() - start) / 1e9);
    }

    // ---- events ------------------------------------------------------------------------------------------------

    private static BlockStarted startBlock() {
        return BlockStarted.newBuilder()
                .setBlockId(BLOCK)
                .setKind("text")
                .setRole("assistant")
                .build();
    }

    private static RoomEvent delta(String roomId) {
        return Backlog.roomEvent(roomId, new TextDelta(BLOCK, token()));
    }

    private static String token() {
        return TOKENS.get(ThreadLocalRandom.current().nextInt(TOKENS.size()));
    }
}
