package dev.substrate.streams.internal;

import dev.substrate.entity.EntityKind;
import dev.substrate.event.Wire;
import dev.substrate.event.WireCodec;
import dev.substrate.fold.Decision;
import dev.substrate.fold.FoldDriver;
import dev.substrate.fold.FoldLimits;
import dev.substrate.fold.FoldStep;
import dev.substrate.fold.Reason;
import dev.substrate.state.EventOutcome;
import dev.substrate.state.Rejection;
import dev.substrate.streams.FoldSettings;
import dev.substrate.topic.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the three fold processors share: the event-outcome store (and its expiry), the rejection output, and the
 * order of one step. A subclass decides one event and writes what an applied decision changes.
 *
 * @param <E> the event envelope class
 * @param <D> what the entity's decision carries
 */
abstract class FoldProcessor<E extends SpecificRecord, D> implements Processor<String, E, String, byte[]> {

    private static final Logger log = LoggerFactory.getLogger(FoldProcessor.class);

    /** How often expired outcomes are removed, in stream time. */
    private static final Duration EXPIRY_INTERVAL = Duration.ofMinutes(1);

    private final EntityKind<E, ?> kind;
    private final String entityType;
    private final WireCodec<E> eventCodec;
    private final Duration outcomeRetention;
    /** How the fold writes its topics. */
    protected final Wire wire;

    protected final Topics topics;
    /** The log's partition count, or 0 not to check that an event is on its key's partition. */
    private final int partitions;

    protected final FoldStep step;
    protected ProcessorContext<String, byte[]> context;
    private KeyValueStore<String, EventOutcome> outcomes;
    private KeyValueStore<String, String> indexStore;
    private WritableIndex outcomesByTime;
    private IndexMarker indexMarker;
    private boolean indexesKept;

    FoldProcessor(EntityKind<E, ?> kind, FoldStep step, Duration outcomeRetention, FoldSettings settings) {
        this.kind = kind;
        this.wire = settings.wire();
        this.topics = settings.topics();
        this.partitions = settings.logPartitions()
                .getOrDefault(kind.log(settings.topics()).name(), 0);
        this.entityType = kind.name();
        this.eventCodec = kind.eventCodec();
        this.step = step;
        this.outcomeRetention = outcomeRetention;
    }

    @Override
    public void init(ProcessorContext<String, byte[]> context) {
        this.context = context;
        this.outcomes = context.getStateStore(StoreNames.outcomeStore(kind));
        this.indexStore = context.getStateStore(StoreNames.indexStore(kind));
        this.outcomesByTime = index(StoreNames.outcomeExpiryIndex(kind));
        context.schedule(EXPIRY_INTERVAL, PunctuationType.STREAM_TIME, this::expireOutcomes);
        StateStore state = context.getStateStore(StoreNames.stateStore(kind));
        indexMarker = new IndexMarker(context, List.of(state, outcomes), StoreNames.indexesIn(indexStore.name()));
        indexesKept = indexMarker.takeValid();
        if (indexesKept) {
            log.info(
                    "Task {}: its index store is kept (nothing changed its state since its clean close here)",
                    context.taskId());
            return;
        }
        IndexRebuild.clear(indexStore);
        try (IndexRebuild rebuild = new IndexRebuild();
                KeyValueIterator<String, EventOutcome> all = outcomes.all()) {
            all.forEachRemaining(entry -> rebuild.put(
                    outcomesByTime,
                    StoreNames.timeIndexKey("", entry.value.getDecidedAt().toEpochMilli(), entry.key),
                    entry.key));
        }
    }

    /** The index {@code name} in this kind's index store. */
    final WritableIndex index(String name) {
        return new WritableIndex(indexStore, StoreNames.index(name));
    }

    /**
     * Whether this start kept the index store as it was ({@link IndexMarker}); when not, it starts empty and each
     * processor fills its indexes again from its state.
     */
    final boolean indexesKept() {
        return indexesKept;
    }

    /** Writes the {@link IndexMarker}: the index stores match the state as this task closes. */
    @Override
    public void close() {
        if (indexMarker != null) {
            indexMarker.write();
        }
    }

    /** Adds the index entry {@code value\0id} through {@code rebuild}; nothing when {@code value} is null. */
    static void rebuildIndex(IndexRebuild rebuild, WritableIndex index, String value, String id) {
        if (value != null) {
            rebuild.put(index, StoreNames.indexKey(value, id), id);
        }
    }

    @Override
    public final void process(Record<String, E> record) {
        try {
            step(record);
        } catch (RuntimeException e) {
            // Kafka Streams' processing handler may go on after this record: its index writes may be partial.
            indexMarker.stepFailed();
            throw e;
        }
    }

    private void step(Record<String, E> record) {
        E event = record.value();
        RecordMetadata metadata = context.recordMetadata().orElseThrow();
        Instant time = Instant.ofEpochMilli(record.timestamp());
        String eventId = eventId(event);
        String misplaced = misplaced(event, metadata);
        Decision<D> decision = FoldDriver.fold(
                new FoldDriver.Step(
                        entityType, entityId(event), eventId, metadata.partition(), metadata.offset(), time),
                storedOutcomes,
                previous -> misplaced != null
                        ? Decision.rejected(Reason.WRONG_PARTITION, misplaced)
                        : decide(record.key(), event, metadata.offset(), previous, time),
                change -> applyChange(event, change, record));
        if (decision instanceof Decision.Rejected<D> rejected) {
            forwardRejection(record, event, eventId, rejected, metadata);
        }
    }

    /** Writes the rejection of {@code event} to the rejections topic, within the limits of a record. */
    private void forwardRejection(
            Record<String, E> record, E event, String eventId, Decision.Rejected<D> rejected, RecordMetadata metadata) {
        String entityId = FoldLimits.cut(entityId(event), FoldLimits.MAX_ID_CHARS);
        String message = FoldLimits.cut(rejected.message(), FoldLimits.MAX_MESSAGE_CHARS);
        byte[] encoded = eventCodec.encode(event);
        if (encoded.length > step.limits().maxEventBytes()) {
            // Only a record written straight to Kafka can be this large; the rejection names where it is instead of
            // carrying it, so that it stays within the limits itself.
            message = FoldLimits.cut(
                    message + " (the event, " + encoded.length + " bytes, is not copied here: read it at "
                            + metadata.topic() + " partition " + metadata.partition() + " offset "
                            + metadata.offset() + ")",
                    FoldLimits.MAX_MESSAGE_CHARS + 200);
            encoded = new byte[0];
        }
        Rejection rejection = Rejection.newBuilder()
                .setEventId(FoldLimits.cut(eventId == null ? "" : eventId, FoldLimits.MAX_ID_CHARS))
                .setEntityType(entityType)
                .setEntityId(entityId)
                .setReason(rejected.reason().code())
                .setMessage(message)
                .setTopic(metadata.topic())
                .setPartition(metadata.partition())
                .setOffset(metadata.offset())
                .setEvent(java.nio.ByteBuffer.wrap(encoded))
                .build();
        context.forward(
                record.withKey(entityId)
                        .withValue(wire.encode(topics.rejections().name(), WireCodec.REJECTION, rejection)),
                FoldTopology.REJECTIONS_SINK_PREFIX + entityType);
    }

    /**
     * The outcome store, as the driver keeps outcomes in it: written last for every record (so that a position
     * bound on it means every other store has the record too), and indexed by time for its expiry.
     */
    private final FoldDriver.Outcomes storedOutcomes = new FoldDriver.Outcomes() {
        @Override
        public EventOutcome find(String eventId) {
            return outcomes.get(eventId);
        }

        @Override
        public void record(String eventId, EventOutcome outcome) {
            outcomes.put(eventId, outcome);
            outcomesByTime.put(
                    StoreNames.timeIndexKey("", outcome.getDecidedAt().toEpochMilli(), eventId), eventId);
        }

        @Override
        public void kept(String eventId, EventOutcome first) {
            // Writing the first decision again moves the outcome store's position past this record, as a
            // read-your-writes bound expects.
            outcomes.put(eventId, first);
        }
    };

    /**
     * Why the event is not on the partition its entity id maps to (murmur2 of the key, as Kafka's Java producer
     * partitions), or null when it is (or cannot be said). An entity is decided on one partition: folding such an
     * event would start a second copy of it.
     */
    private String misplaced(E event, RecordMetadata metadata) {
        String entityId = entityId(event);
        if (partitions <= 0 || entityId == null || metadata.partition() < 0) {
            return null;
        }
        int expected = Utils.toPositive(Utils.murmur2(entityId.getBytes(StandardCharsets.UTF_8))) % partitions;
        if (expected == metadata.partition()) {
            return null;
        }
        return FoldLimits.cut(kind.idField() + " " + entityId, FoldLimits.MAX_ID_CHARS + 20) + " belongs on partition "
                + expected + " of " + metadata.topic() + " (murmur2 of the key, as Kafka's Java producer partitions) "
                + "but the event is on partition " + metadata.partition() + ": produce with a murmur2 partitioner "
                + "(librdkafka, kcat, confluent-kafka: partitioner=murmur2_random)";
    }

    /** Decides one event against the current state (read from this processor's stores). */
    abstract Decision<D> decide(String key, E event, long offset, EventOutcome previous, Instant time);

    /** Writes what an applied decision changes, forwards the new state, and returns the entity's version. */
    abstract Long applyChange(E event, D change, Record<String, E> record);

    private String eventId(E event) {
        return kind.eventId(event);
    }

    private String entityId(E event) {
        return kind.entityId(event);
    }

    private void expireOutcomes(long streamTime) {
        long cutoff = streamTime - outcomeRetention.toMillis();
        if (cutoff <= 0) {
            return;
        }
        List<KeyValue<String, String>> expired = new ArrayList<>();
        try (KeyValueIterator<String, String> range =
                outcomesByTime.range(StoreNames.indexPrefix(""), StoreNames.timeIndexKey("", cutoff, ""))) {
            range.forEachRemaining(expired::add);
        }
        try {
            for (KeyValue<String, String> entry : expired) {
                outcomesByTime.delete(entry.key);
                outcomes.delete(entry.value);
            }
        } catch (RuntimeException e) {
            indexMarker.stepFailed();
            throw e;
        }
    }

    /** Adds or removes the index entry {@code value\0id}; nothing when {@code value} is null. */
    static void updateIndex(WritableIndex index, String value, String id, boolean add) {
        if (value == null) {
            return;
        }
        if (add) {
            index.put(StoreNames.indexKey(value, id), id);
        } else {
            index.delete(StoreNames.indexKey(value, id));
        }
    }

    /** Removes every key of {@code store} that starts with {@code prefix}. */
    static <V> void deletePrefix(KeyValueStore<String, V> store, String prefix) {
        List<String> keys = new ArrayList<>();
        try (KeyValueIterator<String, V> range =
                store.prefixScan(prefix, new org.apache.kafka.common.serialization.StringSerializer())) {
            range.forEachRemaining(entry -> keys.add(entry.key));
        }
        keys.forEach(store::delete);
    }
}
