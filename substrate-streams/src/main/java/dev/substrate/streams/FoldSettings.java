package dev.substrate.streams;

import dev.substrate.config.EventSettings;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.event.Wire;
import dev.substrate.fold.FoldLimits;
import dev.substrate.topic.Topics;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * What the fold's topology depends on.
 *
 * @param topics the topics it reads and writes
 * @param limits the event size limit it enforces, as the client does, and the bounds of what it writes
 * @param outcomeRetention how long an event's outcome is remembered (and so how long a repeated eventId is
 *     recognised as a duplicate), in stream time
 * @param sessionRetention how long a closed session room is kept before it is cleaned up
 * @param sessionCleanupInterval how often, on the wall clock, closed sessions are looked for (and their expiry
 *     appended to the room log)
 * @param wire how the fold reads its logs (both formats) and writes its topics (the configured one)
 * @param logPartitions each log's partition count, so that an event on another partition than its key maps to
 *     (a producer with another partitioner than Kafka's murmur2) is refused as {@code wrong_partition}; a log
 *     not named is not checked
 */
public record FoldSettings(
        Topics topics,
        FoldLimits limits,
        Duration outcomeRetention,
        Duration sessionRetention,
        Duration sessionCleanupInterval,
        Wire wire,
        Map<String, Integer> logPartitions) {

    public FoldSettings {
        Objects.requireNonNull(topics, "topics");
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(outcomeRetention, "outcomeRetention");
        Objects.requireNonNull(sessionRetention, "sessionRetention");
        Objects.requireNonNull(sessionCleanupInterval, "sessionCleanupInterval");
        Objects.requireNonNull(wire, "wire");
        logPartitions = Map.copyOf(logPartitions);
    }

    /** Settings that read and write single-object encoding and do not check partitions (a topology test's). */
    public FoldSettings(
            Topics topics,
            FoldLimits limits,
            Duration outcomeRetention,
            Duration sessionRetention,
            Duration sessionCleanupInterval) {
        this(topics, limits, outcomeRetention, sessionRetention, sessionCleanupInterval, Wire.singleObject(), Map.of());
    }

    /** These settings with {@code wire}. */
    public FoldSettings withWire(Wire wire) {
        return new FoldSettings(
                topics, limits, outcomeRetention, sessionRetention, sessionCleanupInterval, wire, logPartitions);
    }

    /** These settings with the logs' partition counts. */
    public FoldSettings withLogPartitions(Map<String, Integer> logPartitions) {
        return new FoldSettings(
                topics, limits, outcomeRetention, sessionRetention, sessionCleanupInterval, wire, logPartitions);
    }

    /** The settings a configuration names. */
    public static FoldSettings from(SubstrateConfig config) {
        return new FoldSettings(
                Topics.from(config),
                FoldLimits.of(
                        config.get(EventSettings.MAX_EVENT_BYTES),
                        config.get(EventSettings.BLOCK_PART_BYTES),
                        config.get(EventSettings.BLOCK_MAX_BYTES)),
                config.get(EventSettings.EVENT_OUTCOME_RETENTION),
                config.get(EventSettings.SESSION_RETENTION),
                sessionCleanupInterval(config.get(EventSettings.SESSION_RETENTION)));
    }

    /** Every minute, or every half retention when that is shorter (a short retention, as in a test). */
    static Duration sessionCleanupInterval(Duration sessionRetention) {
        Duration half = sessionRetention.dividedBy(2);
        Duration minimum = Duration.ofMillis(100);
        return half.compareTo(Duration.ofMinutes(1)) < 0
                ? (half.compareTo(minimum) < 0 ? minimum : half)
                : Duration.ofMinutes(1);
    }
}
