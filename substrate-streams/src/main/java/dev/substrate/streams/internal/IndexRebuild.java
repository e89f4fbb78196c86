package dev.substrate.streams.internal;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Refilling the index stores ({@link StoreNames#REBUILT}) at a task's start: each store emptied, then filled, in
 * batches of {@value #BATCH} ({@code putAll}, one RocksDB write batch each; a null value deletes). One write at a
 * time cost a restart 64 s at 1,000,000 runs, most of it in single deletes and puts.
 */
final class IndexRebuild implements AutoCloseable {

    /** Entries per write batch: a bounded part of the index in memory at a time. */
    static final int BATCH = 10_000;

    private final Map<KeyValueStore<String, String>, List<KeyValue<String, String>>> pending = new IdentityHashMap<>();

    /** Puts {@code key} -> {@code value} into {@code index}, once its store's batch is full or at {@link #close()}. */
    void put(WritableIndex index, String key, String value) {
        put(index.store(), index.index().storeKey(key), value);
    }

    /** Empties {@code index}: its keys read and deleted a batch at a time. */
    static void clear(KeyValueStore<String, String> index) {
        while (true) {
            List<KeyValue<String, String>> deletes = new ArrayList<>();
            try (KeyValueIterator<String, String> all = index.all()) {
                while (all.hasNext() && deletes.size() < BATCH) {
                    deletes.add(KeyValue.pair(all.next().key, null));
                }
            }
            if (deletes.isEmpty()) {
                return;
            }
            index.putAll(deletes);
        }
    }

    /** Puts {@code key} -> {@code value} into {@code index}, once its batch is full or at {@link #close()}. */
    void put(KeyValueStore<String, String> index, String key, String value) {
        List<KeyValue<String, String>> batch = pending.computeIfAbsent(index, store -> new ArrayList<>());
        batch.add(KeyValue.pair(key, value));
        if (batch.size() >= BATCH) {
            index.putAll(batch);
            batch.clear();
        }
    }

    /** Writes what is pending. */
    @Override
    public void close() {
        pending.forEach((index, batch) -> {
            if (!batch.isEmpty()) {
                index.putAll(batch);
                batch.clear();
            }
        });
    }
}
