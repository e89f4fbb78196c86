package dev.substrate.streams.internal;

import dev.substrate.event.EventValidator;
import dev.substrate.event.WireCodec;
import dev.substrate.event.WireSerde;
import dev.substrate.fold.FoldStep;
import dev.substrate.streams.FoldSettings;
import dev.substrate.streams.StoreNames;
import java.time.Clock;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;

/** Builds the fold's topology: one source, processor and set of stores per event log. */
public final class FoldTopology {

    static final String RUNS_SINK = "runs-sink";
    static final String ROOMS_SINK = "rooms-sink";
    static final String ARTIFACTS_SINK = "artifacts-sink";
    static final String REJECTIONS_SINK_PREFIX = "rejections-sink-";
    /** Where the fold appends the events it decides on its own: a closed session's expiry. */
    static final String ROOM_EVENTS_SINK = "room-events-sink";

    private FoldTopology() {}

    /** The topology for {@code settings}; every source, processor, sink and store is named. */
    public static Topology build(FoldSettings settings) {
        FoldStep step = new FoldStep(
                new EventValidator(settings.limits().maxEventBytes(), Clock.systemUTC()), settings.limits());
        Topology topology = new Topology();
        StringSerializer keys = new StringSerializer();
        ByteArraySerializer values = new ByteArraySerializer();

        topology.addSource(
                "run-events-source",
                new StringDeserializer(),
                new WireSerde<>(WireCodec.RUN),
                settings.topics().runEvents().name());
        topology.addProcessor(
                "run-fold", () -> new RunFoldProcessor(step, settings.outcomeRetention()), "run-events-source");
        topology.addStateStore(store(StoreNames.RUNS, new WireSerde<>(WireCodec.RUN_STATE)), "run-fold");
        topology.addStateStore(store(StoreNames.RUN_HISTORY, new WireSerde<>(WireCodec.RUN)), "run-fold");
        addIndexStores(
                topology,
                "run-fold",
                StoreNames.RUNS_BY_STATUS,
                StoreNames.RUNS_BY_PROJECT,
                StoreNames.RUNS_BY_LABEL,
                StoreNames.RUN_EVENT_OUTCOMES_BY_TIME);
        topology.addStateStore(
                store(StoreNames.RUN_EVENT_OUTCOMES, new WireSerde<>(WireCodec.EVENT_OUTCOME)), "run-fold");
        topology.addSink(RUNS_SINK, settings.topics().runs().name(), keys, values, "run-fold");
        topology.addSink(
                REJECTIONS_SINK_PREFIX + FoldStep.RUN,
                settings.topics().rejections().name(),
                keys,
                values,
                "run-fold");

        topology.addSource(
                "room-events-source",
                new StringDeserializer(),
                new WireSerde<>(WireCodec.ROOM),
                settings.topics().roomEvents().name());
        topology.addProcessor(
                "room-fold",
                () -> new RoomFoldProcessor(
                        step,
                        settings.outcomeRetention(),
                        settings.sessionRetention(),
                        settings.sessionCleanupInterval(),
                        !settings.topics().rebuild()),
                "room-events-source");
        topology.addStateStore(store(StoreNames.ROOMS, new WireSerde<>(WireCodec.ROOM_STATE)), "room-fold");
        topology.addStateStore(
                store(StoreNames.ROOM_TRANSCRIPT, new WireSerde<>(WireCodec.TRANSCRIPT_ENTRY)), "room-fold");
        addIndexStores(
                topology,
                "room-fold",
                StoreNames.ROOM_BLOCK_PARTS,
                StoreNames.ROOMS_BY_KIND,
                StoreNames.ROOMS_BY_RUN,
                StoreNames.ROOMS_BY_PARENT,
                StoreNames.CLOSED_SESSIONS,
                StoreNames.ROOM_EVENT_OUTCOMES_BY_TIME);
        topology.addStateStore(
                store(StoreNames.ROOM_EVENT_OUTCOMES, new WireSerde<>(WireCodec.EVENT_OUTCOME)), "room-fold");
        topology.addSink(ROOMS_SINK, settings.topics().rooms().name(), keys, values, "room-fold");
        topology.addSink(ROOM_EVENTS_SINK, settings.topics().roomEvents().name(), keys, values, "room-fold");
        topology.addSink(
                REJECTIONS_SINK_PREFIX + FoldStep.ROOM,
                settings.topics().rejections().name(),
                keys,
                values,
                "room-fold");

        topology.addSource(
                "artifact-events-source",
                new StringDeserializer(),
                new WireSerde<>(WireCodec.ARTIFACT),
                settings.topics().artifactEvents().name());
        topology.addProcessor(
                "artifact-fold",
                () -> new ArtifactFoldProcessor(step, settings.outcomeRetention()),
                "artifact-events-source");
        topology.addStateStore(store(StoreNames.ARTIFACTS, new WireSerde<>(WireCodec.ARTIFACT_STATE)), "artifact-fold");
        addIndexStores(
                topology,
                "artifact-fold",
                StoreNames.ARTIFACTS_BY_PARENT,
                StoreNames.ARTIFACTS_BY_RUN,
                StoreNames.ARTIFACTS_BY_ROOM,
                StoreNames.ARTIFACT_EVENT_OUTCOMES_BY_TIME);
        topology.addStateStore(
                store(StoreNames.ARTIFACT_EVENT_OUTCOMES, new WireSerde<>(WireCodec.EVENT_OUTCOME)), "artifact-fold");
        topology.addSink(ARTIFACTS_SINK, settings.topics().artifacts().name(), keys, values, "artifact-fold");
        topology.addSink(
                REJECTIONS_SINK_PREFIX + FoldStep.ARTIFACT,
                settings.topics().rejections().name(),
                keys,
                values,
                "artifact-fold");
        return topology;
    }

    private static void addIndexStores(Topology topology, String processor, String... names) {
        for (String name : names) {
            topology.addStateStore(store(name, Serdes.String()), processor);
        }
    }

    private static <V> StoreBuilder<?> store(String name, Serde<V> values) {
        // Cached: reads of hot entities hit memory, and each key reaches RocksDB and its changelog once per commit.
        return Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(name), Serdes.String(), values)
                .withCachingEnabled();
    }
}
