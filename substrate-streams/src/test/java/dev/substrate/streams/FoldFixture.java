package dev.substrate.streams;

import dev.substrate.event.WireCodec;
import dev.substrate.events.artifact.ArtifactEvent;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.events.run.RunEvent;
import dev.substrate.fold.FoldLimits;
import dev.substrate.state.ArtifactState;
import dev.substrate.state.EventOutcome;
import dev.substrate.state.Rejection;
import dev.substrate.state.RoomState;
import dev.substrate.state.RunState;
import dev.substrate.state.TranscriptEntry;
import dev.substrate.streams.internal.Index;
import dev.substrate.streams.internal.IndexView;
import dev.substrate.streams.internal.StoreNames;
import dev.substrate.topic.Topics;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.errors.LogAndContinueExceptionHandler;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Given events, expect state: the fold's topology in a {@link TopologyTestDriver}, fed with explicit
 * timestamps, read back through its stores and output topics. Every fold test uses it.
 */
final class FoldFixture implements AutoCloseable {

    static final Duration SESSION_RETENTION = Duration.ofDays(1);
    static final Duration OUTCOME_RETENTION = Duration.ofDays(7);

    final Topics topics = new Topics("substrate.", 1024 * 1024);
    final TopologyTestDriver driver;
    private final TestInputTopic<String, byte[]> runEvents;
    private final TestInputTopic<String, byte[]> roomEvents;
    private final TestInputTopic<String, byte[]> artifactEvents;
    private final TestOutputTopic<String, byte[]> rejections;
    private final TestOutputTopic<String, byte[]> deadLetters;
    private final TestOutputTopic<String, byte[]> runs;
    private final TestOutputTopic<String, byte[]> rooms;
    private final TestOutputTopic<String, byte[]> artifacts;
    private Instant now = Instant.parse("2026-11-01T12:00:00Z");

    FoldFixture() {
        this(FoldLimits.of(1024 * 1024));
    }

    /** A fold that keeps its records within {@code limits} (small ones, to reach them with few events). */
    FoldFixture(FoldLimits limits) {
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "fold-test-" + java.util.UUID.randomUUID());
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        props.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, LogAndContinueExceptionHandler.class);
        props.put(
                StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG,
                topics.deadLetters().name());
        FoldSettings settings =
                new FoldSettings(topics, limits, OUTCOME_RETENTION, SESSION_RETENTION, Duration.ofMinutes(1));
        driver = new TopologyTestDriver(SubstrateFold.buildTopology(settings), props, now);
        StringSerializer keys = new StringSerializer();
        ByteArraySerializer values = new ByteArraySerializer();
        runEvents = driver.createInputTopic(topics.runEvents().name(), keys, values);
        roomEvents = driver.createInputTopic(topics.roomEvents().name(), keys, values);
        artifactEvents = driver.createInputTopic(topics.artifactEvents().name(), keys, values);
        StringDeserializer keyReader = new StringDeserializer();
        ByteArrayDeserializer valueReader = new ByteArrayDeserializer();
        rejections = driver.createOutputTopic(topics.rejections().name(), keyReader, valueReader);
        deadLetters = driver.createOutputTopic(topics.deadLetters().name(), keyReader, valueReader);
        runs = driver.createOutputTopic(topics.runs().name(), keyReader, valueReader);
        rooms = driver.createOutputTopic(topics.rooms().name(), keyReader, valueReader);
        artifacts = driver.createOutputTopic(topics.artifacts().name(), keyReader, valueReader);
    }

    /** The time the next record is stamped with. */
    Instant now() {
        return now;
    }

    /** Moves record time (and so stream time) forward. */
    FoldFixture advance(Duration duration) {
        now = now.plus(duration);
        return this;
    }

    /** Appends events, each stamped one millisecond after the last, keyed by its entity id. */
    FoldFixture given(Object... events) {
        for (Object event : events) {
            now = now.plusMillis(1);
            if (event instanceof RunEvent run) {
                runEvents.pipeInput(run.getRunId(), WireCodec.RUN.encode(run), now);
            } else if (event instanceof RoomEvent room) {
                roomEvents.pipeInput(room.getRoomId(), WireCodec.ROOM.encode(room), now);
            } else if (event instanceof ArtifactEvent artifact) {
                artifactEvents.pipeInput(artifact.getArtifactId(), WireCodec.ARTIFACT.encode(artifact), now);
            } else {
                throw new IllegalArgumentException("not an event: " + event);
            }
        }
        return this;
    }

    /** Appends raw bytes to the run log under {@code key}. */
    FoldFixture givenRawRunRecord(String key, byte[] value) {
        now = now.plusMillis(1);
        runEvents.pipeInput(key, value, now);
        return this;
    }

    /** Appends an event to the run log under a key of the caller's choosing. */
    FoldFixture givenKeyed(String key, RunEvent event) {
        now = now.plusMillis(1);
        runEvents.pipeInput(key, WireCodec.RUN.encode(event), now);
        return this;
    }

    RunState run(String runId) {
        return this.<RunState>store(StoreNames.RUNS).get(runId);
    }

    RoomState room(String roomId) {
        return this.<RoomState>store(StoreNames.ROOMS).get(roomId);
    }

    ArtifactState artifact(String artifactId) {
        return this.<ArtifactState>store(StoreNames.ARTIFACTS).get(artifactId);
    }

    /** The outcome of an event, from the store of its entity type. */
    EventOutcome outcome(String entityType, String eventId) {
        String store = switch (entityType) {
            case "run" -> StoreNames.RUN_EVENT_OUTCOMES;
            case "room" -> StoreNames.ROOM_EVENT_OUTCOMES;
            default -> StoreNames.ARTIFACT_EVENT_OUTCOMES;
        };
        return this.<EventOutcome>store(store).get(eventId);
    }

    /** A room's transcript, by offset. */
    TreeMap<Long, TranscriptEntry> transcript(String roomId) {
        TreeMap<Long, TranscriptEntry> entries = new TreeMap<>();
        try (KeyValueIterator<String, TranscriptEntry> range = this.<TranscriptEntry>store(StoreNames.ROOM_TRANSCRIPT)
                .prefixScan(roomId + "/", new StringSerializer())) {
            range.forEachRemaining(entry -> entries.put(entry.value.getOffset(), entry.value));
        }
        return entries;
    }

    /** The stored parts of a room's long blocks, by key ({@code roomId/blockOffset/part}). */
    TreeMap<String, String> blockParts(String roomId) {
        TreeMap<String, String> parts = new TreeMap<>();
        try (KeyValueIterator<String, String> range =
                this.<String>store(StoreNames.ROOM_BLOCK_PARTS).prefixScan(roomId + "/", new StringSerializer())) {
            range.forEachRemaining(entry -> parts.put(entry.key, entry.value));
        }
        return parts;
    }

    /** The keys of index {@code index} ({@link StoreNames#RUNS_BY_STATUS} ...) that start with {@code value\0}. */
    List<String> indexKeys(String index, String value) {
        List<String> keys = new ArrayList<>();
        try (KeyValueIterator<String, String> range =
                index(index).prefixScan(StoreNames.indexPrefix(value), new StringSerializer())) {
            range.forEachRemaining(entry -> keys.add(entry.key));
        }
        return keys;
    }

    /** Every entry of a store, or of an index, in key order. */
    @SuppressWarnings("unchecked")
    public <V> Map<String, V> all(String store) {
        Map<String, V> entries = new TreeMap<>();
        boolean index = StoreNames.INDEXES.stream()
                .anyMatch(candidate -> candidate.name().equals(store));
        try (KeyValueIterator<String, V> range = index
                ? (KeyValueIterator<String, V>)
                        (KeyValueIterator<String, ?>) index(store).all()
                : this.<V>store(store).all()) {
            range.forEachRemaining(entry -> entries.put(entry.key, entry.value));
        }
        return entries;
    }

    /** Index {@code name} in its kind's index store. */
    private IndexView index(String name) {
        Index index = StoreNames.index(name);
        return new IndexView(this.<String>store(index.store()), index);
    }

    /** Rejections emitted since the last call. */
    List<Rejection> rejections() {
        return rejections.readValuesToList().stream()
                .map(WireCodec.REJECTION::decode)
                .toList();
    }

    /** Dead letters emitted since the last call. */
    List<org.apache.kafka.streams.test.TestRecord<String, byte[]>> deadLetters() {
        return deadLetters.readRecordsToList();
    }

    /** Records on substrate.runs since the last call, as key and state (null for a tombstone). */
    List<KeyValue<String, RunState>> runStates() {
        return runs.readKeyValuesToList().stream()
                .map(kv -> KeyValue.pair(kv.key, kv.value == null ? null : WireCodec.RUN_STATE.decode(kv.value)))
                .toList();
    }

    /** Records on substrate.rooms since the last call, as key and state (null for a tombstone). */
    List<KeyValue<String, RoomState>> roomStates() {
        return rooms.readKeyValuesToList().stream()
                .map(kv -> KeyValue.pair(kv.key, kv.value == null ? null : WireCodec.ROOM_STATE.decode(kv.value)))
                .toList();
    }

    /** Records on substrate.artifacts since the last call, as key and state (null for a tombstone). */
    List<KeyValue<String, ArtifactState>> artifactStates() {
        return artifacts.readKeyValuesToList().stream()
                .map(kv -> KeyValue.pair(kv.key, kv.value == null ? null : WireCodec.ARTIFACT_STATE.decode(kv.value)))
                .toList();
    }

    /** Moves the wall clock, firing the session cleanup. */
    void advanceWallClock(Duration duration) {
        driver.advanceWallClockTime(duration);
    }

    @SuppressWarnings("unchecked")
    private <V> KeyValueStore<String, V> store(String name) {
        return (KeyValueStore<String, V>) (KeyValueStore<?, ?>) driver.getKeyValueStore(name);
    }

    @Override
    public void close() {
        driver.close();
    }
}
