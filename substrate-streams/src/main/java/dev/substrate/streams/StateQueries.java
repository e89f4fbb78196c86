package dev.substrate.streams;

import dev.substrate.events.run.RunEvent;
import dev.substrate.state.ArtifactState;
import dev.substrate.state.EventOutcome;
import dev.substrate.state.RoomState;
import dev.substrate.state.RunState;
import dev.substrate.state.TranscriptEntry;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Predicate;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.TaskMetadata;
import org.apache.kafka.streams.ThreadMetadata;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.errors.InvalidStateStorePartitionException;
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

    /**
     * Runs, newest update first, whose {@code filter} index holds {@code value} (status, project, or
     * {@code key=value} label), or every run by id when {@code filter} is null; each also passing {@code also}.
     *
     * @param cursor the {@code nextCursor} of the previous page, or null for the first
     */
    public Page<RunState> runs(String filter, String value, Predicate<RunState> also, String cursor, int limit) {
        if (filter == null) {
            return scanAll(StoreNames.RUNS, cursor, limit, also);
        }
        return scanIndex(filter, value, true, cursor, limit, id -> run(id).orElse(null), also);
    }

    /** Rooms whose {@code filter} index (kind, run, parent) holds {@code value}, by id; or all rooms by id. */
    public Page<RoomState> rooms(String filter, String value, Predicate<RoomState> also, String cursor, int limit) {
        if (filter == null) {
            return scanAll(StoreNames.ROOMS, cursor, limit, also);
        }
        return scanIndex(filter, value, false, cursor, limit, id -> room(id).orElse(null), also);
    }

    /** Artifacts whose {@code filter} index (parent, run, room) holds {@code value}, by id; or all by id. */
    public Page<ArtifactState> artifacts(String filter, String value, String cursor, int limit) {
        if (filter == null) {
            return scanAll(StoreNames.ARTIFACTS, cursor, limit, a -> true);
        }
        return scanIndex(filter, value, false, cursor, limit, id -> artifact(id).orElse(null), a -> true);
    }

    private <V> Page<V> scanAll(String storeName, String cursor, int limit, Predicate<V> also) {
        List<Map.Entry<String, V>> candidates = new ArrayList<>();
        boolean more = false;
        for (ReadOnlyKeyValueStore<String, V> partition : this.<V>partitions(storeName)) {
            try (KeyValueIterator<String, V> range =
                    cursor == null ? partition.all() : partition.range(cursor + "\0", null)) {
                more |= take(range, null, limit, also, Function.identity(), candidates);
            }
        }
        return page(candidates, false, limit, more);
    }

    private <V> Page<V> scanIndex(
            String indexStore,
            String value,
            boolean newestFirst,
            String cursor,
            int limit,
            Function<String, V> load,
            Predicate<V> also) {
        String prefix = StoreNames.indexPrefix(value);
        String end = value + (char) (StoreNames.SEPARATOR + 1);
        if (cursor != null && !cursor.startsWith(prefix)) {
            throw new IllegalArgumentException("the cursor belongs to another query");
        }
        List<Map.Entry<String, V>> candidates = new ArrayList<>();
        boolean more = false;
        for (ReadOnlyKeyValueStore<String, String> partition : this.<String>partitions(indexStore)) {
            try (KeyValueIterator<String, String> range = newestFirst
                    ? partition.reverseRange(prefix, cursor == null ? end : cursor)
                    : partition.range(cursor == null ? prefix : cursor, end)) {
                more |= take(range, cursor, limit, also, load, candidates);
            }
        }
        return page(candidates, newestFirst, limit, more);
    }

    /**
     * Takes up to {@code limit} entries of one partition's ordered range (skipping the cursor itself), adding
     * them to {@code candidates}; returns whether the partition has more.
     */
    private static <S, V> boolean take(
            KeyValueIterator<String, S> range,
            String cursor,
            int limit,
            Predicate<V> also,
            Function<S, V> load,
            List<Map.Entry<String, V>> candidates) {
        int taken = 0;
        while (range.hasNext()) {
            var entry = range.next();
            if (entry.key.equals(cursor)) {
                continue;
            }
            if (taken == limit) {
                return true;
            }
            V item = load.apply(entry.value);
            if (item != null && also.test(item)) {
                candidates.add(Map.entry(entry.key, item));
                taken++;
            }
        }
        return false;
    }

    /** Merges the partitions' candidates in key order and cuts one page from them. */
    private static <V> Page<V> page(
            List<Map.Entry<String, V>> candidates, boolean descending, int limit, boolean more) {
        Comparator<Map.Entry<String, V>> byKey = Map.Entry.comparingByKey();
        candidates.sort(descending ? byKey.reversed() : byKey);
        List<Map.Entry<String, V>> taken = candidates.subList(0, Math.min(limit, candidates.size()));
        boolean hasNext = more || candidates.size() > limit;
        String next = hasNext && !taken.isEmpty() ? taken.get(taken.size() - 1).getKey() : null;
        return new Page<>(taken.stream().map(Map.Entry::getValue).toList(), next);
    }

    /**
     * This instance's store of each log partition it holds: a plain {@code streams.store(...)} iterates its
     * partitions one after another, not in one key order, so a paged scan must merge them itself.
     */
    private <V> List<ReadOnlyKeyValueStore<String, V>> partitions(String name) {
        int partitions = 0;
        for (ThreadMetadata thread : streams.metadataForLocalThreads()) {
            for (TaskMetadata task : thread.activeTasks()) {
                partitions = Math.max(partitions, task.taskId().partition() + 1);
            }
        }
        List<ReadOnlyKeyValueStore<String, V>> stores = new ArrayList<>();
        for (int partition = 0; partition < partitions; partition++) {
            try {
                stores.add(streams.store(
                        StoreQueryParameters.fromNameAndType(name, QueryableStoreTypes.<String, V>keyValueStore())
                                .withPartition(partition)));
            } catch (InvalidStateStorePartitionException e) {
                // Not one of this instance's partitions.
            } catch (InvalidStateStoreException e) {
                throw unavailable(name, e);
            }
        }
        return stores;
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
