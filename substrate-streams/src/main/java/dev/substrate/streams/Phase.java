package dev.substrate.streams;

import org.apache.kafka.streams.KafkaStreams;

/**
 * Where a Kafka Streams application of this module is, in terms a caller outside it can use without importing Kafka
 * Streams (the benchmark waits for {@link #RUNNING}).
 */
public enum Phase {
    /** Created, or rebalancing before it first runs: still coming up. */
    STARTING,
    /** Processing. */
    RUNNING,
    /** Shutting down, stopped or failed: it will not run again by itself. */
    STOPPED;

    static Phase of(KafkaStreams.State state) {
        return switch (state) {
            case RUNNING -> RUNNING;
            case CREATED, REBALANCING -> STARTING;
            default -> STOPPED;
        };
    }
}
