package dev.substrate.streams.internal;

import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * One {@link Index} of an index store, read as a store of its own: keys in and out are the index's keys, without
 * its tag, and every read stays within the index's part of the store.
 */
public class IndexView implements ReadOnlyKeyValueStore<String, String> {

    private final ReadOnlyKeyValueStore<String, String> store;
    private final Index index;

    /** {@code index} in {@code store}, which must be the store that holds it. */
    public IndexView(ReadOnlyKeyValueStore<String, String> store, Index index) {
        this.store = store;
        this.index = index;
    }

    /** The index this view reads. */
    public Index index() {
        return index;
    }

    @Override
    public String get(String key) {
        return store.get(index.storeKey(key));
    }

    /** Entries from {@code from} to {@code to}, both inclusive as in the store; a null bound is the index's end. */
    @Override
    public KeyValueIterator<String, String> range(String from, String to) {
        return untagged(store.range(lower(from), upper(to)));
    }

    @Override
    public KeyValueIterator<String, String> reverseRange(String from, String to) {
        return untagged(store.reverseRange(lower(from), upper(to)));
    }

    @Override
    public KeyValueIterator<String, String> all() {
        return range(null, null);
    }

    @Override
    public KeyValueIterator<String, String> reverseAll() {
        return reverseRange(null, null);
    }

    /** Entries whose key starts with {@code prefix}, a string (the index's keys are strings, as UTF-8). */
    @Override
    public <PS extends Serializer<P>, P> KeyValueIterator<String, String> prefixScan(P prefix, PS serializer) {
        if (!(prefix instanceof String text)) {
            throw new IllegalArgumentException("an index's keys are strings");
        }
        return untagged(store.prefixScan(index.storeKey(text), new StringSerializer()));
    }

    /** The store's estimate: of every index it holds. */
    @Override
    public long approximateNumEntries() {
        return store.approximateNumEntries();
    }

    private String lower(String from) {
        return from == null ? index.first() : index.storeKey(from);
    }

    /**
     * The store's ranges include their upper bound; the end of the index is the first key of the next tag, which
     * no key of this index reaches, and the iterator leaves out anything of another tag.
     */
    private String upper(String to) {
        return to == null ? index.end() : index.storeKey(to);
    }

    private KeyValueIterator<String, String> untagged(KeyValueIterator<String, String> range) {
        char tag = index.tag();
        return new KeyValueIterator<>() {
            private KeyValue<String, String> next;

            private boolean advance() {
                while (next == null && range.hasNext()) {
                    KeyValue<String, String> entry = range.next();
                    if (!entry.key.isEmpty() && entry.key.charAt(0) == tag) {
                        next = KeyValue.pair(entry.key.substring(1), entry.value);
                    }
                }
                return next != null;
            }

            @Override
            public boolean hasNext() {
                return advance();
            }

            @Override
            public KeyValue<String, String> next() {
                if (!advance()) {
                    throw new java.util.NoSuchElementException();
                }
                KeyValue<String, String> entry = next;
                next = null;
                return entry;
            }

            @Override
            public String peekNextKey() {
                if (!advance()) {
                    throw new java.util.NoSuchElementException();
                }
                return next.key;
            }

            @Override
            public void close() {
                range.close();
            }
        };
    }
}
