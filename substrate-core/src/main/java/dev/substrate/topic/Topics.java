package dev.substrate.topic;

import dev.substrate.config.SubstrateConfig;
import dev.substrate.topic.Topic.CleanupPolicy;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The registry of Substrate's topics, all under one configurable prefix ({@code substrate.} by default). The
 * three logs keep every event forever; compacting a log keyed by entity would erase history. The three state
 * topics keep the latest state per id. Rejections and dead letters keep 30 days.
 */
public final class Topics {

    /** Retention of the rejection and dead-letter topics. */
    public static final Duration DIAGNOSTICS_RETENTION = Duration.ofDays(30);

    private final Topic runEvents;
    private final Topic roomEvents;
    private final Topic artifactEvents;
    private final Topic runs;
    private final Topic rooms;
    private final Topic artifacts;
    private final Topic rejections;
    private final Topic deadLetters;
    private final boolean rebuild;

    /** The topics under {@code prefix}, whose log topics accept events of up to {@code maxEventBytes}. */
    public Topics(String prefix, int maxEventBytes) {
        this(prefix, prefix, maxEventBytes);
    }

    /**
     * The event logs under {@code logPrefix} and what the fold writes (state, rejections, dead letters) under
     * {@code outputPrefix}: how a second fold rebuilds state from the same logs into topics of its own.
     */
    public Topics(String logPrefix, String outputPrefix, int maxEventBytes) {
        String prefix = outputPrefix;
        this.rebuild = !logPrefix.equals(outputPrefix);
        Map<String, String> forever = Map.of(
                "cleanup.policy",
                CleanupPolicy.DELETE.config(),
                "retention.ms",
                "-1",
                "retention.bytes",
                "-1",
                "max.message.bytes",
                Integer.toString(recordLimit(maxEventBytes)));
        Map<String, String> latest = Map.of(
                "cleanup.policy",
                CleanupPolicy.COMPACT.config(),
                "max.message.bytes",
                Integer.toString(recordLimit(maxEventBytes)));
        Map<String, String> diagnostics = Map.of(
                "cleanup.policy", CleanupPolicy.DELETE.config(),
                "retention.ms", Long.toString(DIAGNOSTICS_RETENTION.toMillis()),
                "max.message.bytes", Integer.toString(recordLimit(maxEventBytes)));
        runEvents = new Topic(logPrefix + "run-events", "runId", CleanupPolicy.DELETE, forever);
        roomEvents = new Topic(logPrefix + "room-events", "roomId", CleanupPolicy.DELETE, forever);
        artifactEvents = new Topic(logPrefix + "artifact-events", "artifactId", CleanupPolicy.DELETE, forever);
        runs = new Topic(prefix + "runs", "runId", CleanupPolicy.COMPACT, latest);
        rooms = new Topic(prefix + "rooms", "roomId", CleanupPolicy.COMPACT, latest);
        artifacts = new Topic(prefix + "artifacts", "artifactId", CleanupPolicy.COMPACT, latest);
        rejections =
                new Topic(prefix + "rejections", "the refused event's entity id", CleanupPolicy.DELETE, diagnostics);
        deadLetters = new Topic(prefix + "dead-letters", "the key as read", CleanupPolicy.DELETE, diagnostics);
    }

    /** The topics a configuration names. */
    public static Topics from(SubstrateConfig config) {
        return new Topics(config.topicPrefix(), config.maxEventBytes());
    }

    /**
     * The largest record a topic accepts: the event plus room for its key, headers and batch overhead, so that an
     * event the client accepted is never refused by the broker.
     */
    public static int recordLimit(int maxEventBytes) {
        return maxEventBytes + 64 * 1024;
    }

    /**
     * Whether these are the topics of a rebuild: a fold that replays logs under another prefix than it writes to.
     * Such a fold appends nothing to the logs it reads (not even a session's expiry: the log already has it).
     */
    public boolean rebuild() {
        return rebuild;
    }

    /** Every run mutation, keyed by runId. */
    public Topic runEvents() {
        return runEvents;
    }

    /** Room mutations and stream events, keyed by roomId. */
    public Topic roomEvents() {
        return roomEvents;
    }

    /** Every artifact mutation, keyed by artifactId. */
    public Topic artifactEvents() {
        return artifactEvents;
    }

    /** Latest run state per runId. */
    public Topic runs() {
        return runs;
    }

    /** Latest room state per roomId. */
    public Topic rooms() {
        return rooms;
    }

    /** Latest artifact state per artifactId; a tombstone for a deleted one. */
    public Topic artifacts() {
        return artifacts;
    }

    /** Events the fold refused, with the reason. */
    public Topic rejections() {
        return rejections;
    }

    /** Records that could not be read at all. */
    public Topic deadLetters() {
        return deadLetters;
    }

    /** All eight, logs first. */
    public List<Topic> all() {
        return List.of(runEvents, roomEvents, artifactEvents, runs, rooms, artifacts, rejections, deadLetters);
    }
}
