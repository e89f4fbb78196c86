package dev.substrate.streams.internal;

import org.apache.kafka.streams.state.KeyValueStore;

/**
 * A kind's state store as its processor reads and writes it, remembering the one state it wrote last: the next
 * event of the same entity (a run's next step, a room's next delta of a stream) reads that object instead of
 * decoding it again from the record cache's bytes. It holds one state, so its memory is bounded by the largest
 * state; every write of the store by the processor goes through it, so it never differs from the store.
 *
 * <p>A processor makes a new one at each {@code init}: a task that Kafka Streams closes and revives (after an
 * aborted transaction, say) starts with nothing remembered.
 *
 * @param <S> the state class
 */
final class LastWrittenState<S> {

    private final KeyValueStore<String, S> store;
    private String lastId;
    private S last;

    LastWrittenState(KeyValueStore<String, S> store) {
        this.store = store;
    }

    /** The state of entity {@code id}, or null when it has none. */
    S get(String id) {
        return id.equals(lastId) ? last : store.get(id);
    }

    /** Writes {@code state} as entity {@code id}'s, and remembers it once the store has taken it. */
    void put(String id, S state) {
        lastId = null;
        store.put(id, state);
        lastId = id;
        last = state;
    }

    /** Removes entity {@code id}'s state, and remembers that it has none. */
    void delete(String id) {
        lastId = null;
        store.delete(id);
        lastId = id;
        last = null;
    }
}
