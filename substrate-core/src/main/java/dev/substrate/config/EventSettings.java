package dev.substrate.config;

import java.time.Duration;
import java.util.List;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;

/** Events and what the fold keeps of them: the largest event, how a block's text is stored and bounded, how long outcomes and closed sessions are kept. */
public final class EventSettings {

    /** The largest encoded event accepted. */
    public static final Setting<Integer> MAX_EVENT_BYTES = Setting.integer(
            "max.event.bytes",
            1024 * 1024,
            Range.between(1024, 64 * 1024 * 1024),
            Importance.LOW,
            "Largest encoded event accepted; larger appends are refused with a clear error. The topics "
                    + "Substrate creates accept records of this plus 64 KiB, its producers send them, and "
                    + "it refuses to start on an existing topic that would refuse them. Every record the "
                    + "fold writes (a run's, room's or artifact's state, a transcript entry) stays within "
                    + "this plus 32 KiB: an event that would grow one past it is rejected as "
                    + "`state_too_large` or `entry_too_large`.");

    /** The most UTF-8 bytes of a block's text one stored record holds; longer blocks are stored in parts. */
    public static final Setting<Integer> BLOCK_PART_BYTES = Setting.integer(
                    "block.part.bytes",
                    16 * 1024,
                    Range.between(1024, 64 * 1024 * 1024),
                    Importance.LOW,
                    "A block's text longer than this (UTF-8 bytes) is stored in parts of at most this size, so "
                            + "that no block, however many deltas it has, makes a record too large; readers join "
                            + "the parts. A value above `max.event.bytes` means `max.event.bytes`.")
            .derived((value, config) -> Math.min(value, config.get(MAX_EVENT_BYTES)));

    /** The most UTF-8 bytes of text one block may hold in all. */
    public static final Setting<Long> BLOCK_MAX_BYTES = Setting.number(
                    "block.max.bytes",
                    16L * 1024 * 1024,
                    Range.between(1024, 1024L * 1024 * 1024),
                    Importance.LOW,
                    "Most text one block may hold (UTF-8 bytes, all parts together): a `TextDelta` or "
                            + "`BlockCompleted` that would pass it is rejected as `block_too_large`, so that every "
                            + "reader that shows a block whole holds a bounded amount. At least `block.part.bytes`.")
            .derived((value, config) -> Math.max(value, config.get(BLOCK_PART_BYTES)));

    /** How long a closed session room is kept before it is cleaned up. */
    public static final Setting<Duration> SESSION_RETENTION = Setting.millis(
            "session.retention.ms",
            Duration.ofDays(7).toMillis(),
            Range.atLeast(0),
            Importance.MEDIUM,
            "How long a closed session room is kept; then its state and transcript are removed. "
                    + "Conversation rooms are kept.");

    /** How often the fold looks for what the retention policies delete. */
    public static final Setting<Duration> RETENTION_CHECK_INTERVAL = Setting.millis(
            "retention.check.interval.ms",
            Duration.ofMinutes(1).toMillis(),
            Range.atLeast(10),
            Importance.LOW,
            "How often, on the wall clock, the fold looks for finished runs and closed rooms that a retention policy "
                    + "deletes (substrate retention), and appends their deletions to their logs.");

    /** How long the fold remembers an event's outcome (the window in which a repeated eventId is a duplicate). */
    public static final Setting<Duration> EVENT_OUTCOME_RETENTION = Setting.millis(
            "event.outcome.retention.ms",
            Duration.ofDays(7).toMillis(),
            Range.atLeast(60_000),
            Importance.LOW,
            "How long the fold remembers each event's outcome: a repeated eventId within it is a no-op.");

    /** Every setting of this component. */
    static final List<Setting<?>> ALL = List.of(
            MAX_EVENT_BYTES,
            BLOCK_PART_BYTES,
            BLOCK_MAX_BYTES,
            SESSION_RETENTION,
            EVENT_OUTCOME_RETENTION,
            RETENTION_CHECK_INTERVAL);

    private EventSettings() {}
}
