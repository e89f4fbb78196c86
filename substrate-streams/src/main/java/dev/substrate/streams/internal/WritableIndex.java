package dev.substrate.streams.internal;

import org.apache.kafka.streams.state.KeyValueStore;

/** An {@link IndexView} over a processor's own index store, which it also writes. */
final class WritableIndex extends IndexView {

    private final KeyValueStore<String, String> store;

    WritableIndex(KeyValueStore<String, String> store, Index index) {
        super(store, index);
        this.store = store;
    }

    /** The store that holds this index (and the kind's other indexes). */
    KeyValueStore<String, String> store() {
        return store;
    }

    void put(String key, String value) {
        store.put(index().storeKey(key), value);
    }

    void delete(String key) {
        store.delete(index().storeKey(key));
    }
}
