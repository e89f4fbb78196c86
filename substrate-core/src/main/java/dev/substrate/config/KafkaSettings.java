package dev.substrate.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;

/** The Kafka cluster this process joins, its fold's application, and where it keeps its local data. */
public final class KafkaSettings {

    /** Kafka brokers to connect to; empty in {@code substrate dev}, which starts its own. */
    public static final Setting<String> BOOTSTRAP_SERVERS = Setting.text(
                    "bootstrap.servers",
                    "",
                    null,
                    Importance.HIGH,
                    "Kafka brokers to connect to, as host:port pairs separated by commas. "
                            + "Required by `serve`; `dev` starts an embedded broker and ignores it.")
            .derived((value, config) -> value.strip());

    /** The Kafka Streams application id of the fold; derived from the topic prefix unless set. */
    public static final Setting<String> APPLICATION_ID = Setting.text(
                    "application.id",
                    "",
                    null,
                    Importance.MEDIUM,
                    "The fold's Kafka Streams application id: its consumer group, the prefix of its changelog "
                            + "topics, and the blob index's group. Empty (the default): `topic.prefix` without its "
                            + "trailing separator (`substrate.` gives `substrate`, `acme-prod.` gives `acme-prod`), "
                            + "so two prefixes on one cluster fold independently. Instances of one deployment share "
                            + "it; a new one rebuilds every store from the logs.")
            .derived(KafkaSettings::applicationId);

    /** How long {@code serve} waits at start for the cluster to answer. */
    public static final Setting<Duration> CONNECT_TIMEOUT = Setting.millis(
            "connect.timeout.ms",
            30_000L,
            Range.between(1_000, 3_600_000),
            Importance.LOW,
            "How long `serve` waits at start for the cluster to answer before it exits with the reason.");

    /** The client port of the embedded broker that {@code substrate dev} starts. */
    public static final Setting<Integer> EMBEDDED_PORT = Setting.integer(
            "embedded.kafka.port",
            9092,
            Range.between(0, 65535),
            Importance.MEDIUM,
            "Client port of the embedded Kafka broker started by `dev`; 0 picks a free one.");

    /** Where the process keeps its local data. */
    public static final Setting<Path> DATA_DIR = Setting.text(
                    "data.dir",
                    ".substrate",
                    Validators.NON_BLANK,
                    Importance.HIGH,
                    "Directory for this process's local data, such as the embedded broker's log under `kafka/` (`dev`).")
            .derived((value, config) -> Path.of(value));

    /** Every setting of this component. */
    static final List<Setting<?>> ALL =
            List.of(BOOTSTRAP_SERVERS, APPLICATION_ID, CONNECT_TIMEOUT, EMBEDDED_PORT, DATA_DIR);

    private KafkaSettings() {}

    /**
     * The fold's application id: {@code application.id} when set (as a Substrate setting, or as the Kafka setting
     * {@code SUBSTRATE_KAFKA_APPLICATION_ID} earlier versions documented), else {@link #applicationIdFor the one
     * derived} from {@code topic.prefix}.
     */
    private static String applicationId(String value, SubstrateConfig config) {
        String explicit = value.strip();
        if (!explicit.isEmpty()) {
            return explicit;
        }
        String passedThrough = config.kafkaPassThrough(APPLICATION_ID.key()).strip();
        return passedThrough.isEmpty() ? applicationIdFor(config.get(TopicSettings.PREFIX)) : passedThrough;
    }

    /**
     * The application id a topic prefix gives: the prefix without its trailing separators ({@code substrate.} gives
     * {@code substrate}), or {@code substrate} for an empty prefix.
     */
    public static String applicationIdFor(String topicPrefix) {
        String id = topicPrefix.replaceAll("[._-]+$", "");
        return id.isEmpty() ? "substrate" : id;
    }
}
