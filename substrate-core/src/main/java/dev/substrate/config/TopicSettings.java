package dev.substrate.config;

import java.time.Duration;
import java.util.List;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;

/** Substrate's topics: their names, partitions and replication, and the wire format of their records. */
public final class TopicSettings {

    /** The prefix of every Substrate topic name. */
    public static final Setting<String> PREFIX = Setting.text(
            "topic.prefix",
            "substrate.",
            Validators.TOPIC_PREFIX,
            Importance.MEDIUM,
            "Prefix of every topic name (`substrate.run-events`, ...). Instances that share a prefix share "
                    + "their data.");

    /** Partitions of each topic Substrate creates. */
    public static final Setting<Integer> PARTITIONS = Setting.integer(
            "topic.partitions",
            6,
            Range.between(1, 10_000),
            Importance.MEDIUM,
            "Partitions of each topic Substrate creates at start (existing topics are left as they are).");

    /** Replication factor of each topic Substrate creates. */
    public static final Setting<Short> REPLICATION_FACTOR = Setting.of(
            "topic.replication.factor",
            Type.SHORT,
            (short) -1,
            Range.between(-1, Short.MAX_VALUE),
            Importance.MEDIUM,
            "Replication factor of each topic Substrate creates; -1 takes the broker's "
                    + "`default.replication.factor`.",
            (value, config) -> (Short) value);

    /** How soon a tombstone on a compacted topic removes the values before it. */
    public static final Setting<Duration> ERASURE_BOUND = Setting.millis(
            "erasure.bound.ms",
            Duration.ofHours(1).toMillis(),
            Range.atLeast(1_000),
            Importance.MEDIUM,
            "How soon a deletion reaches the compacted topics: the compacted topics Substrate creates (state, tokens,"
                    + " blobs, policies) and the fold's changelogs get segment.ms and max.compaction.lag.ms of half of"
                    + " it, so that Kafka's log cleaner removes the values before a tombstone within it (given"
                    + " writes that roll the segment). Topics that exist are left as they are.");

    /** How records are written to Substrate's topics: {@code single-object} or {@code confluent}. */
    public static final Setting<WireFormat> WIRE_FORMAT = Setting.text(
                    "wire.format",
                    "single-object",
                    ConfigDef.ValidString.in("single-object", "confluent"),
                    Importance.HIGH,
                    "How Substrate writes the records of its topics (the logs, the state topics, rejections): "
                            + "`single-object` (Avro single-object encoding, no registry needed) or `confluent` "
                            + "(Confluent's wire format with ids from `schema.registry.url`, what serdes in every "
                            + "language read). Readers read both, so a deployment can move between them as it runs.")
            .derived((value, config) -> WireFormat.fromSetting(value));

    /** The Schema Registry (one or more URLs, comma-separated) of the {@code confluent} wire format. */
    public static final Setting<List<String>> SCHEMA_REGISTRY_URLS = Setting.of(
            "schema.registry.url",
            Type.LIST,
            "",
            null,
            Importance.HIGH,
            "The Confluent-compatible Schema Registry, one or more URLs (comma-separated, tried in turn). "
                    + "Needed by `wire.format=confluent`, which registers the subjects `<topic>-value` at "
                    + "start; with `single-object` it is only used to read Confluent-format records other "
                    + "writers produced. TLS uses the JVM's trust store.",
            (value, config) -> ((List<?>) value)
                    .stream().map(String::valueOf).filter(url -> !url.isBlank()).toList());

    /** {@code user:password} for the Schema Registry's HTTP basic authentication. */
    public static final Setting<String> SCHEMA_REGISTRY_USER_INFO = Setting.secret(
            "schema.registry.basic.auth.user.info",
            Importance.MEDIUM,
            "`user:password` for the Schema Registry's HTTP basic authentication; never printed.");

    /** How long one Schema Registry call may take. */
    public static final Setting<Duration> SCHEMA_REGISTRY_TIMEOUT = Setting.millis(
            "schema.registry.timeout.ms",
            10_000L,
            Range.between(100, 600_000),
            Importance.LOW,
            "How long one Schema Registry call may take, connecting included; a call that gets no answer "
                    + "or a 5xx is made at most 3 times. A start that cannot register its subjects in time "
                    + "fails with the registry's URL and answer.");

    /** Every setting of this component. */
    static final List<Setting<?>> ALL = List.of(
            PREFIX,
            PARTITIONS,
            REPLICATION_FACTOR,
            WIRE_FORMAT,
            SCHEMA_REGISTRY_URLS,
            SCHEMA_REGISTRY_USER_INFO,
            SCHEMA_REGISTRY_TIMEOUT,
            ERASURE_BOUND);

    private TopicSettings() {}
}
