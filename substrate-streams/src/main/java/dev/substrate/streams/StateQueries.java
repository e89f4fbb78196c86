package dev.substrate.streams;

import dev.substrate.events.run.RunEvent;
import dev.substrate.state.ArtifactState;
import dev.substrate.state.EventOutcome;
import dev.substrate.state.RoomState;
import dev.substrate.state.RunState;
import dev.substrate.state.TranscriptEntry;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * Reads the fold's state on this instance: the one place outside the topology that touches its stores, so
 * that the HTTP layer needs no Kafka Streams types. Answers for the partitions this instance holds.
 */
public final class StateQueries {

    private final KafkaStreams streams;

    /** Queries over a running fold. */
    public StateQueries(KafkaStreams streams) {
        this.streams = streams;
    }

    /** Whether the fold is running: every task assigned and restored. */
    public boolean ready() {
        return streams.state() == KafkaStreams.State.RUNNING;
    }

    /** The run, if this instance holds it. */
    public Optional<RunState> run(String runId) {
        return Optional.ofNullable(get(StoreNames.RUNS, runId));
    }

    /** The run's applied events, oldest first. */
    public List<RunEvent> runHistory(String runId) {
        return prefix(StoreNames.RUN_HISTORY, runId + "/", Integer.MAX_VALUE);
    }

    /** The room, if this instance holds it. */
    public Optional<RoomState> room(String roomId) {
        return Optional.ofNullable(get(StoreNames.ROOMS, roomId));
    }

    /** Up to {@code limit} transcript entries of the room after offset {@code after} (-1 for the start). */
    public List<TranscriptEntry> transcript(String roomId, long after, int limit) {
        ReadOnlyKeyValueStore<String, TranscriptEntry> store = store(StoreNames.ROOM_TRANSCRIPT);
        List<TranscriptEntry> entries = new ArrayList<>();
        String from = StoreNames.sequenceKey(roomId, after + 1);
        String to = StoreNames.sequenceKey(roomId, Long.MAX_VALUE);
        try (KeyValueIterator<String, TranscriptEntry> range = store.range(from, to)) {
            while (range.hasNext() && entries.size() < limit) {
                entries.add(range.next().value);
            }
        } catch (InvalidStateStoreException e) {
            throw unavailable(StoreNames.ROOM_TRANSCRIPT, e);
        }
        return entries;
    }

    /** The artifact, if this instance holds it (and it is not deleted). */
    public Optional<ArtifactState> artifact(String artifactId) {
        return Optional.ofNullable(
                this.<ArtifactState>store(StoreNames.ARTIFACTS).get(artifactId));
    }

    /** The fold's outcome for an event of the given entity type ({@code run}, {@code room}, {@code artifact}). */
    public Optional<EventOutcome> outcome(String entityType, String eventId) {
        String store = switch (entityType) {
            case "run" -> StoreNames.RUN_EVENT_OUTCOMES;
            case "room" -> StoreNames.ROOM_EVENT_OUTCOMES;
            case "artifact" -> StoreNames.ARTIFACT_EVENT_OUTCOMES;
            default -> throw new IllegalArgumentException("unknown entity type " + entityType);
        };
        return Optional.ofNullable(get(store, eventId));
    }

    private <V> V get(String storeName, String key) {
        try {
            return this.<V>store(storeName).get(key);
        } catch (InvalidStateStoreException e) {
            throw unavailable(storeName, e);
        }
    }

    private <V> List<V> prefix(String storeName, String prefix, int limit) {
        List<V> values = new ArrayList<>();
        try (KeyValueIterator<String, V> range = this.<V>store(storeName).prefixScan(prefix, new StringSerializer())) {
            while (range.hasNext() && values.size() < limit) {
                values.add(range.next().value);
            }
        } catch (InvalidStateStoreException e) {
            throw unavailable(storeName, e);
        }
        return values;
    }

    private <V> ReadOnlyKeyValueStore<String, V> store(String name) {
        try {
            return streams.store(StoreQueryParameters.fromNameAndType(name, QueryableStoreTypes.keyValueStore()));
        } catch (InvalidStateStoreException e) {
            throw unavailable(name, e);
        }
    }

    private static StateUnavailable unavailable(String store, InvalidStateStoreException e) {
        return new StateUnavailable("The " + store + " store is not available now (starting or rebalancing)", e);
    }
}
