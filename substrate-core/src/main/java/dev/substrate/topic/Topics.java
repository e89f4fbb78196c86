package dev.substrate.topic;

import dev.substrate.config.EventSettings;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.config.TopicSettings;
import dev.substrate.topic.Topic.CleanupPolicy;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The registry of Substrate's topics, all under one configurable prefix ({@code substrate.} by default). The
 * three logs keep every event forever; compacting a log keyed by entity would erase history. The three state
 * topics keep the latest state per id. Rejections and dead letters keep 30 days. Tokens and artifact content live
 * in Kafka too, so that instances share nothing but the brokers.
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
    private final Topic tokens;
    private final Topic blobs;
    private final Topic blobIndex;
    private final Topic notifications;
    private final Topic webhooks;
    private final Topic webhookDeliveries;
    private final Topic prices;
    private final Topic retentionPolicies;
    private final Topic keys;
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
        this(logPrefix, outputPrefix, maxEventBytes, DEFAULT_ERASURE_BOUND);
    }

    /** The default of {@code erasure.bound.ms}: one hour. */
    public static final Duration DEFAULT_ERASURE_BOUND = Duration.ofHours(1);

    /**
     * As {@link #Topics(String, String, int)}, with the compacted topics set so that a tombstone removes the values
     * before it within {@code erasureBound} ({@link #compactionWithin}).
     */
    public Topics(String logPrefix, String outputPrefix, int maxEventBytes, Duration erasureBound) {
        String prefix = outputPrefix;
        Map<String, String> bound = compactionWithin(erasureBound);
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
        Map<String, String> latest = with(
                bound,
                Map.of(
                        "cleanup.policy",
                        CleanupPolicy.COMPACT.config(),
                        "max.message.bytes",
                        Integer.toString(recordLimit(maxEventBytes))));
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
        // Shared by every fold of the logs (a rebuild's included): they belong with the logs, not with a fold.
        tokens = new Topic(
                logPrefix + "tokens",
                "token:<tokenId>, imported:<tokenId> or cluster-key:<id>",
                CleanupPolicy.COMPACT,
                with(bound, Map.of("cleanup.policy", CleanupPolicy.COMPACT.config())),
                1);
        blobs = new Topic(
                logPrefix + "blobs",
                "<uploadId>/<chunk number>",
                CleanupPolicy.COMPACT,
                with(
                        bound,
                        Map.of(
                                "cleanup.policy",
                                CleanupPolicy.COMPACT.config(),
                                "max.message.bytes",
                                Integer.toString(recordLimit(BLOB_CHUNK_BYTES)))));
        blobIndex = new Topic(
                logPrefix + "blob-index",
                "the blob's digest, sha256:<hex>",
                CleanupPolicy.COMPACT,
                with(bound, Map.of("cleanup.policy", CleanupPolicy.COMPACT.config())),
                1);
        // Written by the fold of the logs (never by a rebuild, which would announce everything again), read by
        // the webhook deliveries, kept as long as the diagnostics: the window a replay reaches back.
        notifications = new Topic(
                logPrefix + "notifications",
                "the run or room id",
                CleanupPolicy.DELETE,
                Map.of(
                        "cleanup.policy", CleanupPolicy.DELETE.config(),
                        "retention.ms", Long.toString(DIAGNOSTICS_RETENTION.toMillis()),
                        "max.message.bytes", Integer.toString(recordLimit(maxEventBytes))));
        webhooks = new Topic(
                logPrefix + "webhooks",
                "the subscription id",
                CleanupPolicy.COMPACT,
                with(bound, Map.of("cleanup.policy", CleanupPolicy.COMPACT.config())),
                1);
        webhookDeliveries = new Topic(
                logPrefix + "webhook-deliveries",
                "the subscription id",
                CleanupPolicy.DELETE,
                Map.of(
                        "cleanup.policy", CleanupPolicy.DELETE.config(),
                        "retention.ms", Long.toString(DIAGNOSTICS_RETENTION.toMillis())),
                1);
        // Every version of the price table, each under its own key, so that compaction keeps them all.
        prices = new Topic(
                logPrefix + "prices",
                "version:<10 digits>",
                CleanupPolicy.COMPACT,
                with(bound, Map.of("cleanup.policy", CleanupPolicy.COMPACT.config())),
                1);
        retentionPolicies = new Topic(
                logPrefix + "retention-policies",
                "the policy id",
                CleanupPolicy.COMPACT,
                with(bound, Map.of("cleanup.policy", CleanupPolicy.COMPACT.config())),
                1);
        // The rooms' content keys, wrapped: an erasure's tombstone removes a key within the erasure bound.
        keys = new Topic(
                logPrefix + "keys",
                "room:<roomId>/<keyId>",
                CleanupPolicy.COMPACT,
                with(bound, Map.of("cleanup.policy", CleanupPolicy.COMPACT.config())),
                1);
    }

    /**
     * The settings that make Kafka's log cleaner remove the values before a tombstone within {@code bound}: the active
     * segment rolls at the first write after half of it ({@code segment.ms}), and a segment is compacted at the latest
     * half of it after its first record ({@code max.compaction.lag.ms}), whatever its dirty ratio. Tombstones
     * themselves stay {@code delete.retention.ms} (Kafka's day), so that a reader that was away still sees them.
     */
    public static Map<String, String> compactionWithin(Duration bound) {
        String half = Long.toString(Math.max(1, bound.toMillis() / 2));
        return Map.of("segment.ms", half, "max.compaction.lag.ms", half);
    }

    private static Map<String, String> with(Map<String, String> bound, Map<String, String> config) {
        Map<String, String> all = new java.util.HashMap<>(config);
        all.putAll(bound);
        return Map.copyOf(all);
    }

    /** The most bytes of content one record of {@link #blobs()} holds: 1 MiB. */
    public static final int BLOB_CHUNK_BYTES = 1024 * 1024;

    /** The topics a configuration names. */
    public static Topics from(SubstrateConfig config) {
        String prefix = config.get(TopicSettings.PREFIX);
        return new Topics(
                prefix, prefix, config.get(EventSettings.MAX_EVENT_BYTES), config.get(TopicSettings.ERASURE_BOUND));
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

    /**
     * The API's bearer tokens (salted hashes, never secrets) and the key instances sign forwarded requests with;
     * one partition, compacted, read whole by every instance. A revoked token is a tombstone.
     */
    public Topic tokens() {
        return tokens;
    }

    /**
     * Artifact content, in chunks of at most {@link #BLOB_CHUNK_BYTES}, written in a transaction with the blob's
     * {@link #blobIndex()} record; compacted (every key is written once), kept forever.
     */
    public Topic blobs() {
        return blobs;
    }

    /** Where each blob's chunks are, by digest: written with the chunks, read whole by every instance. */
    public Topic blobIndex() {
        return blobIndex;
    }

    /**
     * What the fold decided that a listener outside may want to hear of (a run waiting, an interrupt answered, a run
     * finished, a room closed), keyed by the entity id: each record the entity's state after the decision, as
     * {@code WireCodec} encodes it, with headers naming the notification.
     */
    public Topic notifications() {
        return notifications;
    }

    /** The webhook subscriptions, keyed by id (a deletion is a tombstone); their signing secrets encrypted. */
    public Topic webhooks() {
        return webhooks;
    }

    /** Every dead-lettered webhook message and each subscription's last delivery, keyed by subscription id. */
    public Topic webhookDeliveries() {
        return webhookDeliveries;
    }

    /** The price table's versions ({@code PUT /v1/prices}), keyed {@code version:<10 digits>}, compacted. */
    public Topic prices() {
        return prices;
    }

    /** The retention policies ({@code substrate retention}), keyed by id (a deletion is a tombstone), compacted. */
    public Topic retentionPolicies() {
        return retentionPolicies;
    }

    /** The content keys of encrypted rooms, wrapped by a master key, keyed {@code room:<roomId>/<keyId>}. */
    public Topic keys() {
        return keys;
    }

    /** All seventeen, logs first. */
    public List<Topic> all() {
        return List.of(
                runEvents,
                roomEvents,
                artifactEvents,
                runs,
                rooms,
                artifacts,
                rejections,
                deadLetters,
                tokens,
                blobs,
                blobIndex,
                notifications,
                webhooks,
                webhookDeliveries,
                prices,
                retentionPolicies,
                keys);
    }
}
