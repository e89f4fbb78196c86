package dev.substrate.streams.internal;

/**
 * One of the fold's indexes (runs by status, rooms by kind, outcomes by time, ...): a key space inside its kind's
 * index store, every key of it the index's own key behind a one-character tag. Each kind keeps all its indexes in
 * one RocksDB store rather than one store each: every store is a RocksDB instance that each of a task's starts
 * opens (its files, its metrics), about 20 ms apiece on two cores, and a fold has 6 tasks per log partition count.
 *
 * @param name the index's name ({@link StoreNames#RUNS_BY_STATUS} ...)
 * @param store the store that holds it ({@link StoreNames#RUN_INDEXES} ...)
 * @param tag the character in front of each of its keys, unique within its store
 */
public record Index(String name, String store, char tag) {

    /** The store key of this index's key {@code key}. */
    public String storeKey(String key) {
        return tag + key;
    }

    /** The lowest store key of this index (inclusive). */
    String first() {
        return String.valueOf(tag);
    }

    /** The store key just above every key of this index (exclusive). */
    String end() {
        return String.valueOf((char) (tag + 1));
    }
}
