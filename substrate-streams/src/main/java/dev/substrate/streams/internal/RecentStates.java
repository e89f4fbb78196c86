package dev.substrate.streams.internal;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.ToIntFunction;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * A kind's state store as its processor reads and writes it, remembering the states it wrote most recently: the next
 * event of an entity written lately (a run's next step, the next delta of one of a hundred rooms streaming at once)
 * reads that object instead of decoding it again from the record cache's bytes. Decoding a room's state was a
 * quarter of the fold's time with a hundred rooms streaming and one state remembered.
 *
 * <p>Bounded twice: at most {@value #MAX_STATES} states and {@value #MAX_BYTES} bytes of them (their encoded sizes,
 * which the fold measured anyway); the least recently used go first, and a state larger than the byte bound is not
 * kept. Every write of the store by the processor goes through it, so what it holds never differs from the store,
 * and a write the store refuses is forgotten.
 *
 * <p>A processor makes a new one at each {@code init}: a task that Kafka Streams closes and revives (after an
 * aborted transaction, say) starts with nothing remembered.
 *
 * @param <S> the state class
 */
final class RecentStates<S> {

    /** The most states remembered per processor (one task, one kind). */
    static final int MAX_STATES = 512;

    /** The most bytes of states (encoded) remembered per processor. */
    static final long MAX_BYTES = 2L * 1024 * 1024;

    private final KeyValueStore<String, S> store;
    private final ToIntFunction<S> sizeOf;
    private final LinkedHashMap<String, Kept<S>> kept = new LinkedHashMap<>(64, 0.75f, true);
    private long keptBytes;

    /** A state remembered, with its encoded size; a null state is a deletion remembered. */
    private record Kept<S>(S state, int bytes) {}

    /**
     * @param store the store
     * @param sizeOf a state's encoded size (the fold has measured it before it writes, so this is cheap)
     */
    RecentStates(KeyValueStore<String, S> store, ToIntFunction<S> sizeOf) {
        this.store = store;
        this.sizeOf = sizeOf;
    }

    /** The state of entity {@code id}, or null when it has none. */
    S get(String id) {
        Kept<S> known = kept.get(id);
        return known != null ? known.state() : store.get(id);
    }

    /** Writes {@code state} as entity {@code id}'s, and remembers it once the store has taken it. */
    void put(String id, S state) {
        forget(id);
        int bytes = sizeOf.applyAsInt(state);
        store.put(id, state);
        remember(id, new Kept<>(state, bytes));
    }

    /** Removes entity {@code id}'s state, and remembers that it has none. */
    void delete(String id) {
        forget(id);
        store.delete(id);
        remember(id, new Kept<>(null, 0));
    }

    /** How many states (and deletions) it remembers now. */
    int size() {
        return kept.size();
    }

    private void forget(String id) {
        Kept<S> gone = kept.remove(id);
        if (gone != null) {
            keptBytes -= gone.bytes();
        }
    }

    private void remember(String id, Kept<S> entry) {
        if (entry.bytes() > MAX_BYTES) {
            return;
        }
        kept.put(id, entry);
        keptBytes += entry.bytes();
        Iterator<Map.Entry<String, Kept<S>>> eldest = kept.entrySet().iterator();
        while ((kept.size() > MAX_STATES || keptBytes > MAX_BYTES) && eldest.hasNext()) {
            keptBytes -= eldest.next().getValue().bytes();
            eldest.remove();
        }
    }
}
