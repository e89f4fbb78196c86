package dev.substrate.streams;

import dev.substrate.entity.EntityKind;
import dev.substrate.events.run.RunEvent;
import dev.substrate.state.TranscriptEntry;
import dev.substrate.streams.StateQueries.HistoryEntry;
import dev.substrate.streams.StateQueries.HistoryPage;
import dev.substrate.streams.StateQueries.TranscriptPage;
import dev.substrate.streams.internal.StoreNames;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.errors.StreamsException;
import org.apache.kafka.streams.query.KeyQuery;
import org.apache.kafka.streams.query.QueryResult;
import org.apache.kafka.streams.query.StateQueryRequest;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * Reads of one entity's records: a key of a store (state, outcome) by an interactive query v2, and the ordered
 * records of one entity (a run's history, a room's transcript with its blocks' parts joined) by a range of the v1
 * store API, which reads through the record cache.
 */
final class KeyReads {

    private final KafkaStreams streams;
    private final Placement placement;
    private final boolean activeOnly;

    /**
     * @param activeOnly whether key lookups read active tasks only, or also the standby replicas this instance keeps
     */
    KeyReads(KafkaStreams streams, Placement placement, boolean activeOnly) {
        this.streams = streams;
        this.placement = placement;
        this.activeOnly = activeOnly;
    }

    /**
     * A key lookup (IQv2) in the partition of {@code storeName} that holds {@code entityId}: in its active task, or,
     * when not {@code activeOnly}, in whichever copy this instance keeps.
     *
     * @return the value, or null when the store has none
     * @throws StateUnavailable when this instance does not hold that partition now
     */
    <V> V get(EntityKind<?, ?> entity, String storeName, String entityId, String key) {
        int partition = placement.partitionOf(entity, entityId);
        StateQueryRequest<V> request = StateQueryRequest.inStore(storeName)
                .withQuery(KeyQuery.<String, V>withKey(key))
                .withPartitions(Set.of(partition));
        QueryResult<V> result;
        try {
            result = streams.query(activeOnly ? request.requireActive() : request)
                    .getPartitionResults()
                    .get(partition);
        } catch (StreamsException e) {
            throw new StateUnavailable("The " + storeName + " store is not available now: " + e.getMessage(), e);
        }
        if (result == null || result.isFailure()) {
            throw new StateUnavailable(
                    "Partition " + partition + " of the " + storeName + " store is not on this instance now"
                            + (result == null ? "" : " (" + result.getFailureMessage() + ")"),
                    null);
        }
        return result.getResult();
    }

    /** The run's applied events after {@code afterVersion}, oldest first, {@code limit} at most. */
    HistoryPage runHistory(String runId, long afterVersion, int limit) {
        List<HistoryEntry> entries = new ArrayList<>();
        boolean more = false;
        String from = StoreNames.sequenceKey(runId, Math.max(0, afterVersion) + 1);
        String to = StoreNames.sequenceKey(runId, Long.MAX_VALUE);
        try (KeyValueIterator<String, RunEvent> range =
                this.<RunEvent>store(StoreNames.RUN_HISTORY).range(from, to)) {
            while (range.hasNext()) {
                var entry = range.next();
                if (entries.size() == limit) {
                    more = true;
                    break;
                }
                long version = Long.parseLong(entry.key.substring(entry.key.lastIndexOf('/') + 1));
                entries.add(new HistoryEntry(version, entry.value));
            }
        } catch (InvalidStateStoreException e) {
            throw unavailable(StoreNames.RUN_HISTORY, e);
        }
        return new HistoryPage(entries, more);
    }

    /**
     * Up to {@code limit} transcript entries of the room after offset {@code after} (-1 for the start), fewer when
     * their text passes {@link StateQueries#TRANSCRIPT_PAGE_CHARS}.
     */
    TranscriptPage transcript(String roomId, long after, int limit) {
        ReadOnlyKeyValueStore<String, TranscriptEntry> store = store(StoreNames.ROOM_TRANSCRIPT);
        List<TranscriptEntry> entries = new ArrayList<>();
        String from = StoreNames.sequenceKey(roomId, after + 1);
        String to = StoreNames.sequenceKey(roomId, Long.MAX_VALUE);
        long chars = 0;
        try (KeyValueIterator<String, TranscriptEntry> range = store.range(from, to)) {
            while (range.hasNext() && entries.size() < limit && chars < StateQueries.TRANSCRIPT_PAGE_CHARS) {
                TranscriptEntry entry = whole(range.next().value);
                chars += entry.getText() == null ? 0 : entry.getText().length();
                entries.add(entry);
            }
            return new TranscriptPage(entries, range.hasNext());
        } catch (InvalidStateStoreException e) {
            throw unavailable(StoreNames.ROOM_TRANSCRIPT, e);
        }
    }

    /** {@code entry} with the parts of its text joined in front of its own text. */
    private TranscriptEntry whole(TranscriptEntry entry) {
        if (entry.getParts() == 0) {
            return entry;
        }
        ReadOnlyKeyValueStore<String, String> parts = store(StoreNames.ROOM_BLOCK_PARTS);
        StringBuilder text = new StringBuilder();
        String roomId = entry.getRoomId();
        long offset = entry.getOffset();
        try (KeyValueIterator<String, String> range = parts.range(
                StoreNames.partKey(roomId, offset, 0), StoreNames.partKey(roomId, offset, entry.getParts() - 1))) {
            int found = 0;
            while (range.hasNext()) {
                text.append(range.next().value);
                found++;
            }
            if (found != entry.getParts()) {
                throw new StateUnavailable(
                        "block " + entry.getRefId() + " of room " + roomId + " has " + found + " of its "
                                + entry.getParts() + " parts here; try again",
                        null);
            }
        } catch (InvalidStateStoreException e) {
            throw unavailable(StoreNames.ROOM_BLOCK_PARTS, e);
        }
        if (entry.getText() != null) {
            text.append(entry.getText());
        }
        return TranscriptEntry.newBuilder(entry).setText(text.toString()).build();
    }

    private <V> ReadOnlyKeyValueStore<String, V> store(String name) {
        try {
            return streams.store(StoreQueryParameters.fromNameAndType(name, QueryableStoreTypes.keyValueStore()));
        } catch (InvalidStateStoreException e) {
            throw unavailable(name, e);
        }
    }

    /** What a read answers while {@code store} is not queryable: starting or rebalancing, try again. */
    static StateUnavailable unavailable(String store, InvalidStateStoreException e) {
        return new StateUnavailable("The " + store + " store is not available now (starting or rebalancing)", e);
    }
}
