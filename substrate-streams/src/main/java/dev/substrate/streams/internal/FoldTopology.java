package dev.substrate.streams.internal;

import dev.substrate.entity.EntityKind;
import dev.substrate.event.EventValidator;
import dev.substrate.event.WireCodec;
import dev.substrate.event.WireSerde;
import dev.substrate.fold.FoldStep;
import dev.substrate.fold.RunFold;
import dev.substrate.streams.FoldSettings;
import dev.substrate.topic.Topics;
import java.time.Clock;
import java.util.List;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.ProcessorSupplier;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;

/** Builds the fold's topology: one source, processor and set of stores per event log. */
public final class FoldTopology {

    /**
     * Kafka Streams' internal switch ({@code StreamsConfig.InternalConfig.IQ_CONSISTENCY_OFFSET_VECTOR_ENABLED})
     * that writes each store's position into its changelog headers; without it a restored store has no position
     * and a position-bound query waits for the next record. {@code PositionBoundIT} proves it still works.
     */
    public static final String CONSISTENCY_OFFSET_VECTOR = "__iq.consistency.offset.vector.enabled__";

    static final String RUNS_SINK = stateSink(EntityKind.RUN);
    static final String ROOMS_SINK = stateSink(EntityKind.ROOM);
    static final String ARTIFACTS_SINK = stateSink(EntityKind.ARTIFACT);
    static final String REJECTIONS_SINK_PREFIX = "rejections-sink-";
    /** Where the fold appends the events it decides on its own: a closed session's expiry. */
    static final String ROOM_EVENTS_SINK = "room-events-sink";

    /** Where the run fold appends the events it decides on its own: a retention policy's deletions. */
    static final String RUN_EVENTS_SINK = "run-events-sink";

    /** Where the run fold appends to a run's session room what it was asked and answered ({@link RunFold#roomNotes}). */
    static final String RUN_NOTES_SINK = "run-notes-sink";

    private FoldTopology() {}

    /**
     * The topology for {@code settings}; every source, processor, sink and store is named. The room fold keeps
     * {@code memberships} current for the rooms its tasks hold; every event decided is told to {@code decisions}.
     */
    public static Topology build(FoldSettings settings, RoomMemberships memberships, DecisionSignal decisions) {
        FoldStep step = new FoldStep(
                new EventValidator(settings.limits().maxEventBytes(), Clock.systemUTC()), settings.limits());
        Topology topology = new Topology();

        Topics topics = settings.topics();
        wire(
                topology,
                settings,
                EntityKind.RUN,
                signalling(() -> new RunFoldProcessor(step, settings.outcomeRetention(), settings), decisions),
                List.of(
                        writtenOnce(StoreNames.RUN_HISTORY, new WireSerde<>(WireCodec.RUN)),
                        store(StoreNames.RUN_USAGE, new WireSerde<>(WireCodec.USAGE_TOTAL))));
        wire(
                topology,
                settings,
                EntityKind.ROOM,
                signalling(
                        () -> new RoomFoldProcessor(
                                step,
                                settings.outcomeRetention(),
                                settings.sessionRetention(),
                                settings.sessionCleanupInterval(),
                                !topics.rebuild(),
                                settings,
                                memberships),
                        decisions),
                List.of(
                        store(StoreNames.ROOM_TRANSCRIPT, new WireSerde<>(WireCodec.TRANSCRIPT_ENTRY)),
                        store(StoreNames.ROOM_BLOCK_PARTS, Serdes.String()),
                        store(StoreNames.CLOSED_SESSIONS, Serdes.String()),
                        store(StoreNames.ROOM_USAGE, new WireSerde<>(WireCodec.USAGE_TOTAL))));
        // The run fold appends what it decides on its own (a retention policy's deletions) to the run log it reads.
        topology.addSink(
                RUN_EVENTS_SINK,
                topics.runEvents().name(),
                new StringSerializer(),
                new ByteArraySerializer(),
                processorName(EntityKind.RUN));
        // The room fold appends what it decides on its own (a session's expiry) to the room log it reads.
        topology.addSink(
                ROOM_EVENTS_SINK,
                topics.roomEvents().name(),
                new StringSerializer(),
                new ByteArraySerializer(),
                processorName(EntityKind.ROOM));
        if (!topics.rebuild()) {
            // What listeners outside are told of (webhooks): written by the fold of the logs alone.
            // The run fold appends to session rooms' logs what their runs were asked and answered.
            topology.addSink(
                    RUN_NOTES_SINK,
                    topics.roomEvents().name(),
                    new StringSerializer(),
                    new ByteArraySerializer(),
                    processorName(EntityKind.RUN));
            for (EntityKind<?, ?> kind : List.of(EntityKind.RUN, EntityKind.ROOM)) {
                topology.addSink(
                        kind == EntityKind.RUN ? Notifications.RUN_SINK : Notifications.ROOM_SINK,
                        topics.notifications().name(),
                        new StringSerializer(),
                        new ByteArraySerializer(),
                        processorName(kind));
            }
        }
        wire(
                topology,
                settings,
                EntityKind.ARTIFACT,
                signalling(() -> new ArtifactFoldProcessor(step, settings.outcomeRetention(), settings), decisions),
                List.of());
        return topology;
    }

    /**
     * One kind's part of the fold: its log as the source, its processor, its state, outcome and index stores with
     * {@code stores}, and its sinks (state topic, rejections).
     */
    private static <E extends SpecificRecord> void wire(
            Topology topology,
            FoldSettings settings,
            EntityKind<E, ?> kind,
            ProcessorSupplier<String, E, String, byte[]> processor,
            List<StoreBuilder<?>> stores) {
        String source = kind.name() + "-events-source";
        String name = processorName(kind);
        topology.addSource(
                source,
                new StringDeserializer(),
                new WireSerde<>(settings.wire(), kind.eventCodec()),
                kind.log(settings.topics()).name());
        topology.addProcessor(name, processor, source);
        topology.addStateStore(store(StoreNames.stateStore(kind), new WireSerde<>(kind.stateCodec())), name);
        stores.forEach(store -> topology.addStateStore(store, name));
        topology.addStateStore(indexStore(StoreNames.indexStore(kind)), name);
        topology.addStateStore(
                writtenOnce(StoreNames.outcomeStore(kind), new WireSerde<>(WireCodec.EVENT_OUTCOME)), name);
        StringSerializer keys = new StringSerializer();
        ByteArraySerializer values = new ByteArraySerializer();
        topology.addSink(stateSink(kind), kind.stateTopic(settings.topics()).name(), keys, values, name);
        topology.addSink(
                REJECTIONS_SINK_PREFIX + kind.name(),
                settings.topics().rejections().name(),
                keys,
                values,
                name);
    }

    /**
     * {@code fold}'s processors, each telling {@code decisions} of every event once it has processed it: its outcome,
     * the last of its writes, is in the store, so a read bound to its position finds it.
     */
    private static <E extends SpecificRecord> ProcessorSupplier<String, E, String, byte[]> signalling(
            ProcessorSupplier<String, E, String, byte[]> fold, DecisionSignal decisions) {
        return () -> {
            Processor<String, E, String, byte[]> processor = fold.get();
            return new Processor<>() {
                @Override
                public void init(ProcessorContext<String, byte[]> context) {
                    processor.init(context);
                }

                @Override
                public void process(Record<String, E> record) {
                    processor.process(record);
                    decisions.decidedOne();
                }

                @Override
                public void close() {
                    processor.close();
                }
            };
        };
    }

    /** The processor that folds {@code kind}'s events: {@code run-fold}, {@code room-fold}, {@code artifact-fold}. */
    static String processorName(EntityKind<?, ?> kind) {
        return kind.name() + "-fold";
    }

    /** The sink of {@code kind}'s state topic: {@code runs-sink}, {@code rooms-sink}, {@code artifacts-sink}. */
    static String stateSink(EntityKind<?, ?> kind) {
        return kind.name() + "s-sink";
    }

    /**
     * A kind's index store, which its processor fills again from its state stores at a start that cannot keep it
     * ({@code IndexMarker}): no changelog (the fold writes no record for it) and no cache (a rebuild writes it before
     * any record is processed, and reads see RocksDB).
     */
    private static StoreBuilder<?> indexStore(String name) {
        return Stores.keyValueStoreBuilder(LockOrderedStore.persistent(name), Serdes.String(), Serdes.String())
                .withCachingDisabled()
                .withLoggingDisabled();
    }

    /**
     * A store whose keys are each written about once (a run's history entry at a version, an event's outcome): no
     * record cache, which would merge nothing and cost, for every record, an insert into a sorted map of byte keys,
     * an entry in its LRU list and a pass at each commit. Each put goes to RocksDB and the changelog at once; the
     * changelog records are the same ones the cache would have sent at the commit.
     */
    private static <V> StoreBuilder<?> writtenOnce(String name, Serde<V> values) {
        return Stores.keyValueStoreBuilder(LockOrderedStore.persistent(name), Serdes.String(), values)
                .withCachingDisabled();
    }

    private static <V> StoreBuilder<?> store(String name, Serde<V> values) {
        // Cached: reads of hot entities hit memory, and each key reaches RocksDB and its changelog once per commit
        // however many events changed it (a room's state and its open block, through a stream of deltas).
        return Stores.keyValueStoreBuilder(LockOrderedStore.persistent(name), Serdes.String(), values)
                .withCachingEnabled();
    }
}
