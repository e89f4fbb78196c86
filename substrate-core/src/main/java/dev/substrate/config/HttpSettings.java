package dev.substrate.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;

/** The HTTP API: where it listens, its TLS, its limits per principal, and how instances reach and trust each other. */
public final class HttpSettings {

    /** The interface the HTTP API binds to. */
    public static final Setting<String> HOST = Setting.text(
            "http.host",
            "localhost",
            Validators.NON_BLANK,
            Importance.MEDIUM,
            "Interface the HTTP API binds to; `0.0.0.0` for every interface (as in a container).");

    /** The port the HTTP API listens on. */
    public static final Setting<Integer> PORT = Setting.integer(
            "http.port", 8080, Range.between(0, 65535), Importance.HIGH, "Port of the HTTP API; 0 picks a free one.");

    /** The host other instances reach this one's HTTP API at (Kafka Streams' {@code application.server}). */
    public static final Setting<String> ADVERTISED_HOST = Setting.text(
                    "http.advertised.host",
                    "",
                    null,
                    Importance.MEDIUM,
                    "Host name other instances use to reach this one's HTTP API, to forward key lookups and fan out "
                            + "lists (Kafka Streams' `application.server`, with the HTTP port). Empty takes `http.host`, "
                            + "or `localhost` when that is `0.0.0.0`.")
            .derived(HttpSettings::advertisedHost);

    /** How long an HTTP connection may stay silent before the server closes it. */
    public static final Setting<Duration> IDLE_TIMEOUT = Setting.millis(
            "http.idle.timeout.ms",
            30_000L,
            Range.between(500, 3_600_000),
            Importance.LOW,
            "How long an HTTP connection may send and receive nothing before the server closes it, so that "
                    + "stalled and slow clients cannot hold connections; keep it above `stream.heartbeat.ms`.");

    /** How many reads at a position one principal may have waiting at once. */
    public static final Setting<Integer> POSITION_WAITS_PER_PRINCIPAL = Setting.integer(
            "http.position.waits.per.principal",
            64,
            Range.between(1, 100_000),
            Importance.LOW,
            "Reads at a position (`X-Substrate-Position`) one principal may have waiting for the fold at once, "
                    + "on one instance; one more is refused with 429 and `Retry-After`. Waiting reads hold no "
                    + "thread.");

    /** A PKCS12 keystore: the HTTP API serves HTTPS with it. */
    public static final Setting<String> TLS_KEYSTORE = Setting.text(
            "http.tls.keystore",
            "",
            null,
            Importance.MEDIUM,
            "A PKCS12 keystore (path) holding the API's key and certificate: when set, the API serves HTTPS "
                    + "only, and instances forward to each other over HTTPS.");

    /** The password of {@link #TLS_KEYSTORE}. */
    public static final Setting<String> TLS_KEYSTORE_PASSWORD =
            Setting.secret("http.tls.keystore.password", Importance.MEDIUM, "The password of `http.tls.keystore`.");

    /** A PKCS12 truststore of the certificates other instances present, when forwarding over HTTPS. */
    public static final Setting<String> TLS_TRUSTSTORE = Setting.text(
            "http.tls.truststore",
            "",
            null,
            Importance.MEDIUM,
            "A PKCS12 truststore (path) of the certificates instances trust when forwarding to each other over "
                    + "HTTPS; empty for the JVM's default trust.");

    /** The password of {@link #TLS_TRUSTSTORE}. */
    public static final Setting<String> TLS_TRUSTSTORE_PASSWORD =
            Setting.secret("http.tls.truststore.password", Importance.MEDIUM, "The password of `http.tls.truststore`.");

    /** The secret instances of one application sign the requests they forward to each other with. */
    public static final Setting<String> CLUSTER_SECRET = Setting.secret(
            "cluster.secret",
            Importance.MEDIUM,
            "The secret the instances of one application sign requests they forward to each other with "
                    + "(HMAC-SHA256), in place of relaying the caller's token; at least 16 bytes, the same on "
                    + "every instance. Empty: an instance answers what it holds and cannot ask others (fine "
                    + "for one instance). `dev` makes one in its data directory.");

    /** Where {@code /metrics} is served: on the API port behind a token (-1), or on a port of its own. */
    public static final Setting<Integer> METRICS_PORT = Setting.integer(
            "metrics.port",
            -1,
            Range.between(-1, 65_535),
            Importance.LOW,
            "-1 serves `GET /metrics` on the API port to any valid token; a port (0 for any free one) serves it "
                    + "there without a token, for a scraper on a private network, and not on the API port.");

    /** The file of hashed bearer tokens. */
    public static final Setting<Path> TOKENS_FILE = Setting.text(
                    "tokens.file",
                    "",
                    null,
                    Importance.MEDIUM,
                    "The token file of versions before tokens lived in Kafka (hashes of the HTTP API's bearer "
                            + "tokens). Empty means `<data.dir>/tokens.json`. Read once, at start, if it exists: its "
                            + "tokens are imported into the tokens topic (once each; a token revoked since stays "
                            + "revoked). Nothing is written to it.")
            .derived((value, config) -> value.isBlank()
                    ? config.get(KafkaSettings.DATA_DIR).resolve("tokens.json")
                    : Path.of(value.strip()));

    /** Every setting of this component. */
    static final List<Setting<?>> ALL = List.of(
            HOST,
            PORT,
            ADVERTISED_HOST,
            IDLE_TIMEOUT,
            POSITION_WAITS_PER_PRINCIPAL,
            TLS_KEYSTORE,
            TLS_KEYSTORE_PASSWORD,
            TLS_TRUSTSTORE,
            TLS_TRUSTSTORE_PASSWORD,
            CLUSTER_SECRET,
            METRICS_PORT,
            TOKENS_FILE);

    private HttpSettings() {}

    /** {@code http.advertised.host} when set, else {@code http.host}, or {@code localhost} for every interface. */
    private static String advertisedHost(String value, SubstrateConfig config) {
        String advertised = value.strip();
        if (!advertised.isEmpty()) {
            return advertised;
        }
        String host = config.get(HOST);
        return host.equals("0.0.0.0") || host.equals("::") ? "localhost" : host;
    }
}
