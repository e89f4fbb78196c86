package dev.substrate.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.types.Password;

/**
 * Substrate's configuration: every key is declared once in {@link #definition()}, with its type, default,
 * validation and documentation, in the manner of Kafka's own {@code StreamsConfig}. The README's configuration
 * table is generated from the same definition ({@link #markdownTable()}) and a test keeps the two equal.
 *
 * <p>Values come from three places; a later one wins:
 *
 * <ol>
 *   <li>the defaults below;
 *   <li>environment variables: {@code SUBSTRATE_} followed by the key in upper case with dots as underscores
 *       ({@code http.port} is {@code SUBSTRATE_HTTP_PORT});
 *   <li>explicit settings, such as command-line options.
 * </ol>
 *
 * <p>Kafka client settings pass through unchanged: an explicit setting whose key Substrate does not define (for
 * example {@code security.protocol}), or an environment variable {@code SUBSTRATE_KAFKA_SECURITY_PROTOCOL},
 * reaches every producer, consumer, admin client and Streams instance as {@code security.protocol}. See {@link
 * #kafkaProperties()}.
 */
public final class SubstrateConfig {

    /** Kafka brokers to connect to; empty in {@code substrate dev}, which starts its own. */
    public static final String BOOTSTRAP_SERVERS = "bootstrap.servers";
    /** Where the process keeps its local data. */
    public static final String DATA_DIR = "data.dir";
    /** The interface the HTTP API binds to. */
    public static final String HTTP_HOST = "http.host";
    /** The port the HTTP API listens on. */
    public static final String HTTP_PORT = "http.port";
    /** The host other instances reach this one's HTTP API at (Kafka Streams' {@code application.server}). */
    public static final String HTTP_ADVERTISED_HOST = "http.advertised.host";
    /** The file of hashed bearer tokens. */
    public static final String TOKENS_FILE = "tokens.file";
    /** The directory of this instance's cache of artifact content. */
    public static final String BLOB_DIR = "blob.dir";
    /** The largest artifact content accepted. */
    public static final String BLOB_MAX_BYTES = "blob.max.bytes";
    /** How often an idle room stream (SSE) sends a heartbeat. */
    public static final String STREAM_HEARTBEAT_MS = "stream.heartbeat.ms";
    /** How many room streams (SSE) one instance serves at once. */
    public static final String STREAM_MAX_CLIENTS = "stream.max.clients";
    /** How long an HTTP connection may stay silent before the server closes it. */
    public static final String HTTP_IDLE_TIMEOUT_MS = "http.idle.timeout.ms";
    /** How far behind its log a standby replica may be and still answer a key lookup while the active moves. */
    public static final String QUERY_STANDBY_MAX_LAG = "query.standby.max.lag";
    /** How many reads at a position one principal may have waiting at once. */
    public static final String HTTP_POSITION_WAITS_PER_PRINCIPAL = "http.position.waits.per.principal";
    /** How many room streams (SSE) one principal may have open on one instance. */
    public static final String STREAM_MAX_CLIENTS_PER_PRINCIPAL = "stream.max.clients.per.principal";
    /** How many bytes of events one room stream client may have buffered before it is ended as slow. */
    public static final String STREAM_MAX_BUFFERED_BYTES = "stream.max.buffered.bytes";
    /** How many bytes of events all room streams of one token may have buffered on one instance. */
    public static final String STREAM_MAX_BUFFERED_BYTES_PER_PRINCIPAL = "stream.max.buffered.bytes.per.principal";
    /** A PKCS12 keystore: the HTTP API serves HTTPS with it. */
    public static final String HTTP_TLS_KEYSTORE = "http.tls.keystore";
    /** The password of {@link #HTTP_TLS_KEYSTORE}. */
    public static final String HTTP_TLS_KEYSTORE_PASSWORD = "http.tls.keystore.password";
    /** A PKCS12 truststore of the certificates other instances present, when forwarding over HTTPS. */
    public static final String HTTP_TLS_TRUSTSTORE = "http.tls.truststore";
    /** The password of {@link #HTTP_TLS_TRUSTSTORE}. */
    public static final String HTTP_TLS_TRUSTSTORE_PASSWORD = "http.tls.truststore.password";
    /** How records are written to Substrate's topics: {@code single-object} or {@code confluent}. */
    public static final String WIRE_FORMAT = "wire.format";
    /** The Schema Registry (one or more URLs, comma-separated) of the {@code confluent} wire format. */
    public static final String SCHEMA_REGISTRY_URL = "schema.registry.url";
    /** {@code user:password} for the Schema Registry's HTTP basic authentication. */
    public static final String SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO = "schema.registry.basic.auth.user.info";
    /** How long one Schema Registry call may take. */
    public static final String SCHEMA_REGISTRY_TIMEOUT_MS = "schema.registry.timeout.ms";
    /** The secret instances of one application sign the requests they forward to each other with. */
    public static final String CLUSTER_SECRET = "cluster.secret";
    /** Where {@code /metrics} is served: on the API port behind a token (-1), or on a port of its own. */
    public static final String METRICS_PORT = "metrics.port";
    /** The most bytes the blob store may hold. */
    public static final String BLOB_QUOTA_BYTES = "blob.quota.bytes";
    /** The most bytes of blobs this instance keeps a copy of on local disk. */
    public static final String BLOB_CACHE_BYTES = "blob.cache.bytes";
    /** Uploads of artifact content one instance takes at once. */
    public static final String BLOB_UPLOADS_MAX = "blob.uploads.max";
    /** Reads of artifact content from Kafka one instance serves at once. */
    public static final String BLOB_READS_MAX = "blob.reads.max";
    /** The most store entries one list request looks at per partition. */
    public static final String QUERY_SCAN_BUDGET = "query.scan.budget";
    /** The most index entries one count request looks at on one instance. */
    public static final String QUERY_COUNT_BUDGET = "query.count.budget";
    /** The client port of the embedded broker that {@code substrate dev} starts. */
    public static final String EMBEDDED_KAFKA_PORT = "embedded.kafka.port";

    /** The Kafka Streams application id of the fold; derived from the topic prefix unless set. */
    public static final String APPLICATION_ID = "application.id";
    /** How long {@code serve} waits at start for the cluster to answer. */
    public static final String CONNECT_TIMEOUT_MS = "connect.timeout.ms";

    /** The prefix of every Substrate topic name. */
    public static final String TOPIC_PREFIX = "topic.prefix";
    /** Partitions of each topic Substrate creates. */
    public static final String TOPIC_PARTITIONS = "topic.partitions";
    /** Replication factor of each topic Substrate creates. */
    public static final String TOPIC_REPLICATION_FACTOR = "topic.replication.factor";
    /** The largest encoded event accepted. */
    public static final String MAX_EVENT_BYTES = "max.event.bytes";
    /** The most UTF-8 bytes of a block's text one stored record holds; longer blocks are stored in parts. */
    public static final String BLOCK_PART_BYTES = "block.part.bytes";
    /** The most UTF-8 bytes of text one block may hold in all. */
    public static final String BLOCK_MAX_BYTES = "block.max.bytes";

    /** How long a closed session room is kept before it is cleaned up. */
    public static final String SESSION_RETENTION_MS = "session.retention.ms";
    /** How long the fold remembers an event's outcome (the window in which a repeated eventId is a duplicate). */
    public static final String EVENT_OUTCOME_RETENTION_MS = "event.outcome.retention.ms";

    /** The prefix of every environment variable Substrate reads. */
    public static final String ENV_PREFIX = "SUBSTRATE_";
    /** The prefix of environment variables that carry a Kafka client setting through unchanged. */
    public static final String KAFKA_ENV_PREFIX = ENV_PREFIX + "KAFKA_";

    private static final ConfigDef DEFINITION = new ConfigDef()
            .define(
                    BOOTSTRAP_SERVERS,
                    Type.STRING,
                    "",
                    Importance.HIGH,
                    "Kafka brokers to connect to, as host:port pairs separated by commas. "
                            + "Required by `serve`; `dev` starts an embedded broker and ignores it.")
            .define(
                    DATA_DIR,
                    Type.STRING,
                    ".substrate",
                    new NonBlank(),
                    Importance.HIGH,
                    "Directory for this process's local data, such as the embedded broker's log under `kafka/` (`dev`).")
            .define(
                    HTTP_HOST,
                    Type.STRING,
                    "localhost",
                    new NonBlank(),
                    Importance.MEDIUM,
                    "Interface the HTTP API binds to; `0.0.0.0` for every interface (as in a container).")
            .define(
                    HTTP_PORT,
                    Type.INT,
                    8080,
                    Range.between(0, 65535),
                    Importance.HIGH,
                    "Port of the HTTP API; 0 picks a free one.")
            .define(
                    HTTP_ADVERTISED_HOST,
                    Type.STRING,
                    "",
                    Importance.MEDIUM,
                    "Host name other instances use to reach this one's HTTP API, to forward key lookups and fan out "
                            + "lists (Kafka Streams' `application.server`, with the HTTP port). Empty takes `http.host`, "
                            + "or `localhost` when that is `0.0.0.0`.")
            .define(
                    TOKENS_FILE,
                    Type.STRING,
                    "",
                    Importance.MEDIUM,
                    "The token file of versions before tokens lived in Kafka (hashes of the HTTP API's bearer "
                            + "tokens). Empty means `<data.dir>/tokens.json`. Read once, at start, if it exists: its "
                            + "tokens are imported into the tokens topic (once each; a token revoked since stays "
                            + "revoked). Nothing is written to it.")
            .define(
                    BLOB_DIR,
                    Type.STRING,
                    "",
                    Importance.MEDIUM,
                    "Directory of this instance's cache of artifact content (the content itself lives in Kafka, on "
                            + "the `blobs` topic). Empty means `<data.dir>/blobs`. Not shared between instances.")
            .define(
                    BLOB_MAX_BYTES,
                    Type.LONG,
                    1024L * 1024 * 1024,
                    Range.atLeast(0),
                    Importance.LOW,
                    "Largest artifact content `PUT /v1/artifacts/{id}/content` accepts; larger uploads are refused "
                            + "with 413 and nothing is kept.")
            .define(
                    STREAM_HEARTBEAT_MS,
                    Type.LONG,
                    15_000L,
                    Range.between(100, 3_600_000),
                    Importance.LOW,
                    "How often `GET /v1/rooms/{id}/stream` sends a heartbeat comment while the room is quiet, so that "
                            + "proxies keep the connection and a client that left is noticed.")
            .define(
                    STREAM_MAX_CLIENTS,
                    Type.INT,
                    2_000,
                    Range.between(1, 100_000),
                    Importance.LOW,
                    "Room streams (SSE) one instance serves at once; one more is refused with 503 and `Retry-After`. "
                            + "Each holds a thread and up to 1024 buffered events.")
            .define(
                    HTTP_IDLE_TIMEOUT_MS,
                    Type.LONG,
                    30_000L,
                    Range.between(500, 3_600_000),
                    Importance.LOW,
                    "How long an HTTP connection may send and receive nothing before the server closes it, so that "
                            + "stalled and slow clients cannot hold connections; keep it above `stream.heartbeat.ms`.")
            .define(
                    QUERY_STANDBY_MAX_LAG,
                    Type.LONG,
                    10_000L,
                    Range.atLeast(-1),
                    Importance.LOW,
                    "While the instance that holds a key is gone or moving, a standby replica of its state answers the "
                            + "key's lookup if it is at most this many records behind its changelog (marked with "
                            + "`X-Substrate-Standby-Lag`); -1 never. Standbys exist when the Kafka Streams setting "
                            + "`num.standby.replicas` is 1 or more.")
            .define(
                    HTTP_POSITION_WAITS_PER_PRINCIPAL,
                    Type.INT,
                    64,
                    Range.between(1, 100_000),
                    Importance.LOW,
                    "Reads at a position (`X-Substrate-Position`) one principal may have waiting for the fold at once, "
                            + "on one instance; one more is refused with 429 and `Retry-After`. Waiting reads hold no "
                            + "thread.")
            .define(
                    STREAM_MAX_CLIENTS_PER_PRINCIPAL,
                    Type.INT,
                    100,
                    Range.between(1, 100_000),
                    Importance.LOW,
                    "Room streams (SSE) one principal may have open on one instance; one more is refused with 429 and "
                            + "`Retry-After`, so that one token cannot take every slot of `stream.max.clients`.")
            .define(
                    STREAM_MAX_BUFFERED_BYTES,
                    Type.LONG,
                    16L * 1024 * 1024,
                    Range.atLeast(64 * 1024),
                    Importance.LOW,
                    "Bytes of events one room stream client may have waiting to be written before it is ended with "
                            + "reason `slow-consumer` (it resumes from its last id); at least twice `max.event.bytes` "
                            + "is used.")
            .define(
                    STREAM_MAX_BUFFERED_BYTES_PER_PRINCIPAL,
                    Type.LONG,
                    64L * 1024 * 1024,
                    Range.atLeast(64 * 1024),
                    Importance.LOW,
                    "Bytes of events all room streams of one token may have waiting to be written on one instance; a "
                            + "stream that would pass it is ended with reason `slow-consumer` (it resumes from its last "
                            + "id), so that many slow readers of one token cannot take the heap.")
            .define(
                    HTTP_TLS_KEYSTORE,
                    Type.STRING,
                    "",
                    Importance.MEDIUM,
                    "A PKCS12 keystore (path) holding the API's key and certificate: when set, the API serves HTTPS "
                            + "only, and instances forward to each other over HTTPS.")
            .define(
                    HTTP_TLS_KEYSTORE_PASSWORD,
                    Type.PASSWORD,
                    "",
                    Importance.MEDIUM,
                    "The password of `http.tls.keystore`.")
            .define(
                    HTTP_TLS_TRUSTSTORE,
                    Type.STRING,
                    "",
                    Importance.MEDIUM,
                    "A PKCS12 truststore (path) of the certificates instances trust when forwarding to each other over "
                            + "HTTPS; empty for the JVM's default trust.")
            .define(
                    HTTP_TLS_TRUSTSTORE_PASSWORD,
                    Type.PASSWORD,
                    "",
                    Importance.MEDIUM,
                    "The password of `http.tls.truststore`.")
            .define(
                    CLUSTER_SECRET,
                    Type.PASSWORD,
                    "",
                    Importance.MEDIUM,
                    "The secret the instances of one application sign requests they forward to each other with "
                            + "(HMAC-SHA256), in place of relaying the caller's token; at least 16 bytes, the same on "
                            + "every instance. Empty: an instance answers what it holds and cannot ask others (fine "
                            + "for one instance). `dev` makes one in its data directory.")
            .define(
                    METRICS_PORT,
                    Type.INT,
                    -1,
                    Range.between(-1, 65_535),
                    Importance.LOW,
                    "-1 serves `GET /metrics` on the API port to any valid token; a port (0 for any free one) serves it "
                            + "there without a token, for a scraper on a private network, and not on the API port.")
            .define(
                    BLOB_QUOTA_BYTES,
                    Type.LONG,
                    0L,
                    Range.atLeast(0),
                    Importance.LOW,
                    "The most bytes of artifact content the substrate may hold in Kafka (every blob counted once); an "
                            + "upload that would pass it is refused with 507. 0 for no quota.")
            .define(
                    BLOB_CACHE_BYTES,
                    Type.LONG,
                    1024L * 1024 * 1024,
                    Range.atLeast(0),
                    Importance.LOW,
                    "The most bytes of artifact content this instance keeps a copy of in `blob.dir`, the least "
                            + "recently used put out first; 0 keeps none (every read comes from Kafka).")
            .define(
                    BLOB_UPLOADS_MAX,
                    Type.INT,
                    4,
                    Range.between(1, 256),
                    Importance.LOW,
                    "Uploads of artifact content one instance takes at once, each with a transactional producer of "
                            + "its own holding at most 4 MiB; one more is refused with 503 and `Retry-After`.")
            .define(
                    BLOB_READS_MAX,
                    Type.INT,
                    32,
                    Range.between(1, 10_000),
                    Importance.LOW,
                    "Reads of artifact content from Kafka one instance serves at once, each with a consumer of its "
                            + "own holding about 2 MiB; one more is refused with 503 and `Retry-After`. Reads from "
                            + "the local cache do not count.")
            .define(
                    QUERY_SCAN_BUDGET,
                    Type.INT,
                    5_000,
                    Range.between(10, 10_000_000),
                    Importance.LOW,
                    "The most store entries one list request looks at in each partition: a filter few entries pass "
                            + "(a non-member's room list, `parentRunId`) answers with what it found and a `nextCursor` "
                            + "to go on from, maybe with fewer items than `limit`, instead of scanning a whole store.")
            .define(
                    QUERY_COUNT_BUDGET,
                    Type.INT,
                    2_000_000,
                    Range.between(10, Integer.MAX_VALUE),
                    Importance.LOW,
                    "The most index entries one `GET /v1/runs/counts` looks at on one instance (each entry is one run "
                            + "read): a count that would look at more answers 422 and asks for narrower filters, rather "
                            + "than hold a request thread for minutes.")
            .define(
                    WIRE_FORMAT,
                    Type.STRING,
                    "single-object",
                    ConfigDef.ValidString.in("single-object", "confluent"),
                    Importance.HIGH,
                    "How Substrate writes the records of its topics (the logs, the state topics, rejections): "
                            + "`single-object` (Avro single-object encoding, no registry needed) or `confluent` "
                            + "(Confluent's wire format with ids from `schema.registry.url`, what serdes in every "
                            + "language read). Readers read both, so a deployment can move between them as it runs.")
            .define(
                    SCHEMA_REGISTRY_URL,
                    Type.LIST,
                    "",
                    Importance.HIGH,
                    "The Confluent-compatible Schema Registry, one or more URLs (comma-separated, tried in turn). "
                            + "Needed by `wire.format=confluent`, which registers the subjects `<topic>-value` at "
                            + "start; with `single-object` it is only used to read Confluent-format records other "
                            + "writers produced. TLS uses the JVM's trust store.")
            .define(
                    SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO,
                    Type.PASSWORD,
                    "",
                    Importance.MEDIUM,
                    "`user:password` for the Schema Registry's HTTP basic authentication; never printed.")
            .define(
                    SCHEMA_REGISTRY_TIMEOUT_MS,
                    Type.LONG,
                    10_000L,
                    Range.between(100, 600_000),
                    Importance.LOW,
                    "How long one Schema Registry call may take, connecting included; a call that gets no answer "
                            + "or a 5xx is made at most 3 times. A start that cannot register its subjects in time "
                            + "fails with the registry's URL and answer.")
            .define(
                    EMBEDDED_KAFKA_PORT,
                    Type.INT,
                    9092,
                    Range.between(0, 65535),
                    Importance.MEDIUM,
                    "Client port of the embedded Kafka broker started by `dev`; 0 picks a free one.")
            .define(
                    TOPIC_PREFIX,
                    Type.STRING,
                    "substrate.",
                    new TopicPrefix(),
                    Importance.MEDIUM,
                    "Prefix of every topic name (`substrate.run-events`, ...). Instances that share a prefix share "
                            + "their data.")
            .define(
                    APPLICATION_ID,
                    Type.STRING,
                    "",
                    Importance.MEDIUM,
                    "The fold's Kafka Streams application id: its consumer group, the prefix of its changelog "
                            + "topics, and the blob index's group. Empty (the default): `topic.prefix` without its "
                            + "trailing separator (`substrate.` gives `substrate`, `acme-prod.` gives `acme-prod`), "
                            + "so two prefixes on one cluster fold independently. Instances of one deployment share "
                            + "it; a new one rebuilds every store from the logs.")
            .define(
                    CONNECT_TIMEOUT_MS,
                    Type.LONG,
                    30_000L,
                    Range.between(1_000, 3_600_000),
                    Importance.LOW,
                    "How long `serve` waits at start for the cluster to answer before it exits with the reason.")
            .define(
                    TOPIC_PARTITIONS,
                    Type.INT,
                    6,
                    Range.between(1, 10_000),
                    Importance.MEDIUM,
                    "Partitions of each topic Substrate creates at start (existing topics are left as they are).")
            .define(
                    TOPIC_REPLICATION_FACTOR,
                    Type.SHORT,
                    (short) -1,
                    Range.between(-1, Short.MAX_VALUE),
                    Importance.MEDIUM,
                    "Replication factor of each topic Substrate creates; -1 takes the broker's "
                            + "`default.replication.factor`.")
            .define(
                    MAX_EVENT_BYTES,
                    Type.INT,
                    1024 * 1024,
                    Range.between(1024, 64 * 1024 * 1024),
                    Importance.LOW,
                    "Largest encoded event accepted; larger appends are refused with a clear error. The topics "
                            + "Substrate creates accept records of this plus 64 KiB, its producers send them, and "
                            + "it refuses to start on an existing topic that would refuse them. Every record the "
                            + "fold writes (a run's, room's or artifact's state, a transcript entry) stays within "
                            + "this plus 32 KiB: an event that would grow one past it is rejected as "
                            + "`state_too_large` or `entry_too_large`.")
            .define(
                    BLOCK_PART_BYTES,
                    Type.INT,
                    256 * 1024,
                    Range.between(1024, 64 * 1024 * 1024),
                    Importance.LOW,
                    "A block's text longer than this (UTF-8 bytes) is stored in parts of at most this size, so "
                            + "that no block, however many deltas it has, makes a record too large; readers join "
                            + "the parts. A value above `max.event.bytes` means `max.event.bytes`.")
            .define(
                    BLOCK_MAX_BYTES,
                    Type.LONG,
                    16L * 1024 * 1024,
                    Range.between(1024, 1024L * 1024 * 1024),
                    Importance.LOW,
                    "Most text one block may hold (UTF-8 bytes, all parts together): a `TextDelta` or "
                            + "`BlockCompleted` that would pass it is rejected as `block_too_large`, so that every "
                            + "reader that shows a block whole holds a bounded amount. At least `block.part.bytes`.")
            .define(
                    SESSION_RETENTION_MS,
                    Type.LONG,
                    Duration.ofDays(7).toMillis(),
                    Range.atLeast(0),
                    Importance.MEDIUM,
                    "How long a closed session room is kept; then its state and transcript are removed. "
                            + "Conversation rooms are kept.")
            .define(
                    EVENT_OUTCOME_RETENTION_MS,
                    Type.LONG,
                    Duration.ofDays(7).toMillis(),
                    Range.atLeast(60_000),
                    Importance.LOW,
                    "How long the fold remembers each event's outcome: a repeated eventId within it is a no-op.");

    /**
     * An environment variable the command line reads, beside the settings of an instance: where the operator
     * commands find the API, who local runs are appended as, how much is logged, the JVM's options.
     *
     * @param name the variable, such as {@code SUBSTRATE_URL}
     * @param defaultValue what holds when it is unset, in words when it is not a value
     * @param meaning what it sets
     * @param secret whether its value is masked when printed
     */
    public record ClientVariable(String name, String defaultValue, String meaning, boolean secret) {

        /** Its value in {@code environment}, stripped; empty when unset or blank. */
        public Optional<String> in(Map<String, String> environment) {
            String value = environment.get(name);
            return value == null || value.isBlank() ? Optional.empty() : Optional.of(value.strip());
        }
    }

    /** The API the operator commands call. */
    public static final ClientVariable URL = new ClientVariable(
            "SUBSTRATE_URL",
            "http://localhost:8080",
            "The API the operator commands (`runs`, `rooms`, `artifacts`, `tokens`, `share`, `do`) call; `--url`.",
            false);
    /** The bearer token the operator commands send. */
    public static final ClientVariable TOKEN = new ClientVariable(
            "SUBSTRATE_TOKEN",
            "./.substrate/admin.token when present",
            "The bearer token the operator commands send; `--token`.",
            true);
    /** The local store of {@code local}, {@code share} and {@code do}. */
    public static final ClientVariable LOCAL_DB = new ClientVariable(
            "SUBSTRATE_LOCAL_DB",
            "./.substrate/local.db",
            "The SQLite file of local runs (`local`, `share`, `do`); `--local-db`.",
            false);
    /** Who local runs' events are appended as. */
    public static final ClientVariable ACTOR = new ClientVariable(
            "SUBSTRATE_ACTOR",
            "local:<user name>",
            "Who local runs' events are appended as (`local`, `do`); kept when a run is shared.",
            false);
    /** How much of Substrate's own logging reaches standard error. */
    public static final ClientVariable LOG_LEVEL = new ClientVariable(
            "SUBSTRATE_LOG_LEVEL",
            "WARN",
            "The least level of Substrate's own log lines on standard error (`INFO`, `DEBUG`); Kafka's stay at WARN.",
            false);
    /** The launcher's JVM options. */
    public static final ClientVariable JAVA_OPTS = new ClientVariable(
            "SUBSTRATE_JAVA_OPTS",
            "(none)",
            "Options the `./substrate` launcher gives the JVM, such as `-Xmx2g`.",
            false);

    private static final List<ClientVariable> CLIENT_VARIABLES =
            List.of(URL, TOKEN, LOCAL_DB, ACTOR, LOG_LEVEL, JAVA_OPTS);

    private final Map<String, Object> values;
    private final Map<String, String> kafkaPassThrough;

    private SubstrateConfig(Map<String, Object> values, Map<String, String> kafkaPassThrough) {
        this.values = values;
        this.kafkaPassThrough = kafkaPassThrough;
    }

    /** The environment variables the command line reads beside the settings ({@link #definition()}). */
    public static List<ClientVariable> clientVariables() {
        return CLIENT_VARIABLES;
    }

    /**
     * The value in effect of every setting, as text, by key; secrets (passwords, the cluster secret) masked as
     * {@code [hidden]} when set.
     */
    public Map<String, String> effectiveValues() {
        Map<String, String> effective = new TreeMap<>();
        for (ConfigDef.ConfigKey key : DEFINITION.configKeys().values()) {
            Object value = key.name.equals(APPLICATION_ID) ? applicationId() : values.get(key.name);
            effective.put(key.name, text(value));
        }
        return effective;
    }

    /** The Kafka client settings passed through, by key; a value whose key names a secret masked. */
    public Map<String, String> effectiveKafkaValues() {
        Map<String, String> effective = new TreeMap<>();
        kafkaPassThrough.forEach((key, value) -> effective.put(key, secretKey(key) ? HIDDEN : value));
        effective.remove(APPLICATION_ID); // shown with the settings, as applicationId() decides it
        return effective;
    }

    private static final String HIDDEN = "[hidden]";

    private static boolean secretKey(String key) {
        String lower = key.toLowerCase(Locale.ROOT);
        return lower.contains("password")
                || lower.contains("secret")
                || lower.contains("jaas")
                || lower.endsWith(".key");
    }

    private static String text(Object value) {
        if (value instanceof Password password) {
            return password.value().isEmpty() ? "" : HIDDEN;
        }
        if (value instanceof List<?> list) {
            return String.join(",", list.stream().map(String::valueOf).toList());
        }
        return String.valueOf(value);
    }

    /** Every key Substrate defines, with its type, default, validation and documentation. */
    public static ConfigDef definition() {
        return DEFINITION;
    }

    /** The environment variable that sets {@code key}, e.g. {@code SUBSTRATE_HTTP_PORT} for {@code http.port}. */
    public static String envName(String key) {
        return ENV_PREFIX + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    /** Configuration from explicit settings alone (defaults for the rest); environment variables are ignored. */
    public static SubstrateConfig of(Map<String, String> explicit) {
        return load(Map.of(), explicit);
    }

    /**
     * Configuration from the environment and explicit settings, explicit winning.
     *
     * @param environment environment variables, usually {@link System#getenv()}; only {@code SUBSTRATE_*} are read
     * @param explicit settings by key, usually from command-line options; keys Substrate does not define pass
     *     through to the Kafka clients
     * @throws InvalidConfiguration naming the key when a value has the wrong type or is out of range
     */
    public static SubstrateConfig load(Map<String, String> environment, Map<String, String> explicit) {
        Objects.requireNonNull(environment, "environment");
        Objects.requireNonNull(explicit, "explicit");
        Map<String, String> raw = new HashMap<>();
        Map<String, String> passThrough = new TreeMap<>();
        for (String key : DEFINITION.names()) {
            String fromEnv = environment.get(envName(key));
            if (fromEnv != null) {
                raw.put(key, fromEnv);
            }
        }
        environment.forEach((name, value) -> {
            if (name.startsWith(KAFKA_ENV_PREFIX) && name.length() > KAFKA_ENV_PREFIX.length()) {
                String key = name.substring(KAFKA_ENV_PREFIX.length())
                        .toLowerCase(Locale.ROOT)
                        .replace('_', '.');
                passThrough.put(key, value);
            }
        });
        explicit.forEach((key, value) -> {
            if (DEFINITION.names().contains(key)) {
                raw.put(key, value);
            } else {
                passThrough.put(key, value);
            }
        });
        try {
            return new SubstrateConfig(DEFINITION.parse(raw), Map.copyOf(passThrough));
        } catch (ConfigException e) {
            String key = keyNamedIn(e.getMessage());
            throw new InvalidConfiguration(key, describe(key, e.getMessage()), e);
        }
    }

    private static String keyNamedIn(String message) {
        for (String key : DEFINITION.names()) {
            if (message != null && message.contains(key)) {
                return key;
            }
        }
        return "";
    }

    private static String describe(String key, String message) {
        return key.isEmpty() ? message : message + " (environment variable " + envName(key) + ")";
    }

    /**
     * The fold's Kafka Streams application id: {@code application.id} when set (as a Substrate setting, or as the
     * Kafka setting {@code SUBSTRATE_KAFKA_APPLICATION_ID} earlier versions documented), else {@link
     * #applicationIdFor the one derived} from {@code topic.prefix}.
     */
    public String applicationId() {
        String explicit = ((String) values.get(APPLICATION_ID)).strip();
        if (!explicit.isEmpty()) {
            return explicit;
        }
        String passedThrough = kafkaPassThrough.getOrDefault(APPLICATION_ID, "").strip();
        return passedThrough.isEmpty() ? applicationIdFor(topicPrefix()) : passedThrough;
    }

    /**
     * The application id a topic prefix gives: the prefix without its trailing separators ({@code substrate.} gives
     * {@code substrate}), or {@code substrate} for an empty prefix.
     */
    public static String applicationIdFor(String topicPrefix) {
        String id = topicPrefix.replaceAll("[._-]+$", "");
        return id.isEmpty() ? "substrate" : id;
    }

    /** How long {@code serve} waits at start for the cluster to answer. */
    public Duration connectTimeout() {
        return Duration.ofMillis((Long) values.get(CONNECT_TIMEOUT_MS));
    }

    /** Kafka brokers to connect to; empty when none were configured. */
    public String bootstrapServers() {
        return ((String) values.get(BOOTSTRAP_SERVERS)).strip();
    }

    /** Where local data lives. */
    public Path dataDir() {
        return Path.of((String) values.get(DATA_DIR));
    }

    /** The interface the HTTP API binds to. */
    public String httpHost() {
        return (String) values.get(HTTP_HOST);
    }

    /** The port of the HTTP API; 0 for any free port. */
    public int httpPort() {
        return (Integer) values.get(HTTP_PORT);
    }

    /** The host other instances reach this one's HTTP API at: {@code http.advertised.host}, else a default. */
    public String httpAdvertisedHost() {
        String advertised = ((String) values.get(HTTP_ADVERTISED_HOST)).strip();
        if (!advertised.isEmpty()) {
            return advertised;
        }
        String host = httpHost();
        return host.equals("0.0.0.0") || host.equals("::") ? "localhost" : host;
    }

    /** The file of hashed bearer tokens. */
    public Path tokensFile() {
        String file = ((String) values.get(TOKENS_FILE)).strip();
        return file.isEmpty() ? dataDir().resolve("tokens.json") : Path.of(file);
    }

    /** The directory of this instance's cache of artifact content. */
    public Path blobDir() {
        String dir = ((String) values.get(BLOB_DIR)).strip();
        return dir.isEmpty() ? dataDir().resolve("blobs") : Path.of(dir);
    }

    /** The largest artifact content accepted, in bytes. */
    public long blobMaxBytes() {
        return (Long) values.get(BLOB_MAX_BYTES);
    }

    /** How often an idle room stream sends a heartbeat. */
    public Duration streamHeartbeat() {
        return Duration.ofMillis((Long) values.get(STREAM_HEARTBEAT_MS));
    }

    /** How many room streams one instance serves at once. */
    public int streamMaxClients() {
        return (Integer) values.get(STREAM_MAX_CLIENTS);
    }

    /** How long an HTTP connection may stay silent before the server closes it. */
    public Duration httpIdleTimeout() {
        return Duration.ofMillis((Long) values.get(HTTP_IDLE_TIMEOUT_MS));
    }

    /** The most records a standby replica may lag and still answer a key lookup; -1 when standbys never answer. */
    public long queryStandbyMaxLag() {
        return (Long) values.get(QUERY_STANDBY_MAX_LAG);
    }

    /** How many reads at a position one principal may have waiting at once. */
    public int httpPositionWaitsPerPrincipal() {
        return (Integer) values.get(HTTP_POSITION_WAITS_PER_PRINCIPAL);
    }

    /** How many room streams one principal may have open on one instance. */
    public int streamMaxClientsPerPrincipal() {
        return (Integer) values.get(STREAM_MAX_CLIENTS_PER_PRINCIPAL);
    }

    /** How many bytes of events one room stream client may have buffered: at least twice {@link #maxEventBytes}. */
    public long streamMaxBufferedBytes() {
        return Math.max((Long) values.get(STREAM_MAX_BUFFERED_BYTES), 2L * maxEventBytes());
    }

    /** How many bytes of events all room streams of one token may have buffered on one instance. */
    public long streamMaxBufferedBytesPerPrincipal() {
        return Math.max((Long) values.get(STREAM_MAX_BUFFERED_BYTES_PER_PRINCIPAL), 2L * maxEventBytes());
    }

    /** The PKCS12 keystore the API serves HTTPS with; empty for plain HTTP. */
    public String httpTlsKeystore() {
        return (String) values.get(HTTP_TLS_KEYSTORE);
    }

    /** The password of {@link #httpTlsKeystore}. */
    public String httpTlsKeystorePassword() {
        return ((Password) values.get(HTTP_TLS_KEYSTORE_PASSWORD)).value();
    }

    /** The PKCS12 truststore for forwarding over HTTPS; empty for the JVM's default trust. */
    public String httpTlsTruststore() {
        return (String) values.get(HTTP_TLS_TRUSTSTORE);
    }

    /** The password of {@link #httpTlsTruststore}. */
    public String httpTlsTruststorePassword() {
        return ((Password) values.get(HTTP_TLS_TRUSTSTORE_PASSWORD)).value();
    }

    /** How records are written to Substrate's topics. */
    public WireFormat wireFormat() {
        return WireFormat.fromSetting((String) values.get(WIRE_FORMAT));
    }

    /** The Schema Registry's URLs; empty when none is configured. */
    @SuppressWarnings("unchecked")
    public List<String> schemaRegistryUrls() {
        return ((List<String>) values.get(SCHEMA_REGISTRY_URL))
                .stream().filter(url -> !url.isBlank()).toList();
    }

    /** {@code user:password} for the registry, or empty. */
    public String schemaRegistryUserInfo() {
        return ((Password) values.get(SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO)).value();
    }

    /** How long one registry call may take. */
    public Duration schemaRegistryTimeout() {
        return Duration.ofMillis((Long) values.get(SCHEMA_REGISTRY_TIMEOUT_MS));
    }

    /** The secret forwarded requests are signed with; empty when none is set (one instance). */
    public String clusterSecret() {
        return ((Password) values.get(CLUSTER_SECRET)).value();
    }

    /** -1 for {@code /metrics} on the API port behind a token; else its own port (0 for any free one). */
    public int metricsPort() {
        return (Integer) values.get(METRICS_PORT);
    }

    /** The most bytes of artifact content the substrate may hold; 0 for no quota. */
    public long blobQuotaBytes() {
        return (Long) values.get(BLOB_QUOTA_BYTES);
    }

    /** The most bytes of blobs this instance keeps a copy of in {@code blob.dir}; 0 for none. */
    public long blobCacheBytes() {
        return (Long) values.get(BLOB_CACHE_BYTES);
    }

    /** Uploads of artifact content one instance takes at once. */
    public int blobUploadsMax() {
        return (Integer) values.get(BLOB_UPLOADS_MAX);
    }

    /** Reads of artifact content from Kafka one instance serves at once. */
    public int blobReadsMax() {
        return (Integer) values.get(BLOB_READS_MAX);
    }

    /** The most store entries one list request looks at per partition. */
    public int queryScanBudget() {
        return (Integer) values.get(QUERY_SCAN_BUDGET);
    }

    /** The most index entries one count request looks at on one instance. */
    public int queryCountBudget() {
        return (Integer) values.get(QUERY_COUNT_BUDGET);
    }

    /** The client port of the embedded broker; 0 for any free port. */
    public int embeddedKafkaPort() {
        return (Integer) values.get(EMBEDDED_KAFKA_PORT);
    }

    /** The prefix of every topic name. */
    public String topicPrefix() {
        return (String) values.get(TOPIC_PREFIX);
    }

    /** Partitions of each topic Substrate creates. */
    public int topicPartitions() {
        return (Integer) values.get(TOPIC_PARTITIONS);
    }

    /** Replication factor of each topic Substrate creates; -1 for the broker's default. */
    public short topicReplicationFactor() {
        return (Short) values.get(TOPIC_REPLICATION_FACTOR);
    }

    /** The largest encoded event accepted. */
    public int maxEventBytes() {
        return (Integer) values.get(MAX_EVENT_BYTES);
    }

    /** The most UTF-8 bytes of a block's text one stored record holds: at most {@link #maxEventBytes()}. */
    public int blockPartBytes() {
        return Math.min((Integer) values.get(BLOCK_PART_BYTES), maxEventBytes());
    }

    /** The most UTF-8 bytes of text one block may hold: at least {@link #blockPartBytes()}. */
    public long blockMaxBytes() {
        return Math.max((Long) values.get(BLOCK_MAX_BYTES), blockPartBytes());
    }

    /** How long a closed session room is kept. */
    public Duration sessionRetention() {
        return Duration.ofMillis((Long) values.get(SESSION_RETENTION_MS));
    }

    /** How long the fold remembers each event's outcome. */
    public Duration eventOutcomeRetention() {
        return Duration.ofMillis((Long) values.get(EVENT_OUTCOME_RETENTION_MS));
    }

    /**
     * Kafka client settings to apply to every client Substrate creates: the pass-through settings, with {@code
     * bootstrap.servers} added when one is configured.
     */
    public Map<String, String> kafkaProperties() {
        Map<String, String> props = new TreeMap<>(kafkaPassThrough);
        props.remove(APPLICATION_ID); // the fold's own, as applicationId() decides it
        if (!bootstrapServers().isEmpty()) {
            props.put(BOOTSTRAP_SERVERS, bootstrapServers());
        }
        return Map.copyOf(props);
    }

    /**
     * The Kafka settings among {@code known} (such as {@code ProducerConfig.configNames()}), so that a client is
     * not handed, and does not warn about, settings meant for another kind of client.
     */
    public Map<String, String> kafkaProperties(Set<String> known) {
        Map<String, String> props = new TreeMap<>(kafkaProperties());
        props.keySet().retainAll(known);
        return Map.copyOf(props);
    }

    /** A copy of this configuration with {@code bootstrap.servers} replaced, e.g. by the embedded broker's. */
    public SubstrateConfig withBootstrapServers(String bootstrapServers) {
        Map<String, Object> copy = new HashMap<>(values);
        copy.put(BOOTSTRAP_SERVERS, Objects.requireNonNull(bootstrapServers, "bootstrapServers"));
        return new SubstrateConfig(Map.copyOf(copy), kafkaPassThrough);
    }

    /**
     * A copy of this configuration with the Substrate setting {@code key} set to {@code value}, checked as at load.
     *
     * @throws InvalidConfiguration if the key is not a Substrate setting or the value is not valid for it
     */
    public SubstrateConfig with(String key, String value) {
        ConfigDef.ConfigKey definition = DEFINITION.configKeys().get(key);
        if (definition == null) {
            throw new InvalidConfiguration(key, "is not a Substrate setting", null);
        }
        Object parsed;
        try {
            parsed = ConfigDef.parseType(key, value, definition.type);
            if (definition.validator != null) {
                definition.validator.ensureValid(key, parsed);
            }
        } catch (org.apache.kafka.common.config.ConfigException e) {
            throw new InvalidConfiguration(key, e.getMessage(), null);
        }
        Map<String, Object> copy = new HashMap<>(values);
        copy.put(key, parsed);
        return new SubstrateConfig(Map.copyOf(copy), kafkaPassThrough);
    }

    /** The configuration reference as a Markdown table: key, environment variable, type, default, meaning. */
    public static String markdownTable() {
        StringBuilder table = new StringBuilder();
        table.append("| key | environment variable | type | default | meaning |\n");
        table.append("| --- | --- | --- | --- | --- |\n");
        for (ConfigDef.ConfigKey key : new TreeMap<>(DEFINITION.configKeys()).values()) {
            String defaultValue = key.defaultValue instanceof Password password
                    ? password.value()
                    : key.defaultValue instanceof List<?> list
                            ? String.join(
                                    ",", list.stream().map(String::valueOf).toList())
                            : String.valueOf(key.defaultValue);
            table.append("| `")
                    .append(key.name)
                    .append("` | `")
                    .append(envName(key.name))
                    .append("` | ")
                    .append(key.type.toString().toLowerCase(Locale.ROOT))
                    .append(" | ")
                    .append(defaultValue.isEmpty() ? "(none)" : "`" + defaultValue + "`")
                    .append(" | ")
                    .append(key.documentation)
                    .append(key.validator instanceof Range ? " Range: " + key.validator + "." : "")
                    .append(" |\n");
        }
        table.append("| any Kafka client key | `SUBSTRATE_KAFKA_<KEY>` | | | Passed unchanged to every Kafka client, "
                + "e.g. `SUBSTRATE_KAFKA_SECURITY_PROTOCOL=SASL_SSL` sets `security.protocol`. |\n");
        for (ClientVariable variable : CLIENT_VARIABLES) {
            table.append("| (command line) | `")
                    .append(variable.name())
                    .append("` | string | ")
                    .append(
                            variable.defaultValue().startsWith("(")
                                    ? variable.defaultValue()
                                    : "`" + variable.defaultValue() + "`")
                    .append(" | ")
                    .append(variable.meaning())
                    .append(" |\n");
        }
        return table.toString();
    }

    @Override
    public String toString() {
        return "SubstrateConfig" + new TreeMap<>(values) + " + kafka " + kafkaPassThrough.keySet();
    }

    /** Topic name characters only, and short enough to leave room for the longest topic name. */
    private static final class TopicPrefix implements ConfigDef.Validator {
        @Override
        public void ensureValid(String name, Object value) {
            String prefix = (String) value;
            if (prefix == null || !prefix.matches("[A-Za-z0-9._-]{0,200}")) {
                throw new ConfigException(name, value, "must be at most 200 of A-Z a-z 0-9 . _ -");
            }
        }

        @Override
        public String toString() {
            return "topic name characters";
        }
    }

    /** Refuses empty and blank strings. */
    private static final class NonBlank implements ConfigDef.Validator {
        @Override
        public void ensureValid(String name, Object value) {
            if (value == null || ((String) value).isBlank()) {
                throw new ConfigException(name, value, "must not be blank");
            }
        }

        @Override
        public String toString() {
            return "non-blank string";
        }
    }
}
