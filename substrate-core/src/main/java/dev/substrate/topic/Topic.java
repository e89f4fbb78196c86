package dev.substrate.topic;

import java.util.Map;
import java.util.Objects;

/**
 * One Substrate topic: its name, what it is keyed by, how it is cleaned up, and the topic configuration
 * Substrate creates it with.
 *
 * @param name the full topic name, e.g. {@code substrate.run-events}
 * @param key what the record key is, e.g. {@code runId}
 * @param cleanupPolicy {@code delete} for logs, {@code compact} for latest-state topics
 * @param configs the topic configuration set at creation, including {@code cleanup.policy}
 * @param partitions the partitions it is created with; 0 for the configured {@code topic.partitions}
 */
public record Topic(String name, String key, CleanupPolicy cleanupPolicy, Map<String, String> configs, int partitions) {

    /** A topic created with the configured {@code topic.partitions}. */
    public Topic(String name, String key, CleanupPolicy cleanupPolicy, Map<String, String> configs) {
        this(name, key, cleanupPolicy, configs, 0);
    }

    /** How Kafka cleans a topic up. */
    public enum CleanupPolicy {
        /** Segments are deleted by retention (which is forever for the event logs). */
        DELETE("delete"),
        /** The latest record per key is kept; a null value (tombstone) removes the key. */
        COMPACT("compact");

        private final String config;

        CleanupPolicy(String config) {
            this.config = config;
        }

        /** The value of {@code cleanup.policy}. */
        public String config() {
            return config;
        }
    }

    public Topic {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(cleanupPolicy, "cleanupPolicy");
        configs = Map.copyOf(configs);
        if (partitions < 0) {
            throw new IllegalArgumentException("partitions must be 0 or more");
        }
    }
}
