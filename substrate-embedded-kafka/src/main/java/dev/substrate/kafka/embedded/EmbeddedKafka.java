package dev.substrate.kafka.embedded;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import kafka.server.KafkaRaftServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real, single-node Apache Kafka broker running in this JVM: one KRaft process that is both broker and
 * controller, built from Kafka's own server classes ({@link KafkaRaftServer}), exactly as
 * {@code kafka-server-start.sh} would run it with {@code process.roles=broker,controller}.
 *
 * <p>Its log directory lives under the data directory given to the {@link Builder}. On first start the
 * directory is formatted (a new cluster id is written to {@code meta.properties}); later starts reuse it, so
 * topics, records and committed offsets survive a restart. Any standard Kafka client (Java, librdkafka's
 * kcat, the console tools) can talk to it at {@link #bootstrapServers()}.
 *
 * <p>The controller listener is internal: it binds a free loopback port chosen at each start, because a
 * static single-voter quorum does not record the port on disk.
 *
 * <pre>{@code
 * try (EmbeddedKafka kafka = EmbeddedKafka.builder().dataDir(Path.of(".substrate")).port(9092).start()) {
 *     String bootstrap = kafka.bootstrapServers();
 * }
 * }</pre>
 */
public final class EmbeddedKafka implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(EmbeddedKafka.class);

    /** The node id of the single combined broker and controller. */
    static final int NODE_ID = 1;

    private final KafkaNode node;
    private final String host;
    private final int port;
    private final String clusterId;
    private final boolean formatted;
    private final Duration startupTime;
    private boolean closed;

    private EmbeddedKafka(
            KafkaNode node, String host, int port, String clusterId, boolean formatted, Duration startupTime) {
        this.node = node;
        this.host = host;
        this.port = port;
        this.clusterId = clusterId;
        this.formatted = formatted;
        this.startupTime = startupTime;
    }

    /** Starts describing a broker; nothing runs until {@link Builder#start()}. */
    public static Builder builder() {
        return new Builder();
    }

    /** The {@code bootstrap.servers} value a client uses to reach this broker, e.g. {@code localhost:9092}. */
    public String bootstrapServers() {
        return host + ":" + port;
    }

    /** The port clients connect to. */
    public int port() {
        return port;
    }

    /** The broker's log directory (its topics, records and metadata log). */
    public Path logDir() {
        return node.logDir();
    }

    /** The cluster id written when the log directory was first formatted. */
    public String clusterId() {
        return clusterId;
    }

    /** Whether this start formatted a fresh log directory ({@code false} when an earlier one was reused). */
    public boolean formattedOnStart() {
        return formatted;
    }

    /** Time from {@link Builder#start()} until the broker answered a client's metadata request. */
    public Duration startupTime() {
        return startupTime;
    }

    /** Stops the broker and waits until its log is flushed and its sockets are closed. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        long started = System.nanoTime();
        node.stop();
        log.info("Embedded Kafka at {} stopped in {} ms", bootstrapServers(), millisSince(started));
    }

    private static long millisSince(long startedNanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedNanos);
    }

    /** Describes the broker to start. */
    public static final class Builder {
        private Path dataDir;
        private String host = "localhost";
        private int port;
        private Duration readyTimeout = Duration.ofSeconds(60);
        private final Map<String, String> overrides = new LinkedHashMap<>();

        private Builder() {}

        /**
         * The directory the broker keeps its data in; its log directory is {@code DIR/kafka}. Required. Starting
         * again on the same directory reuses the cluster and everything in it.
         */
        public Builder dataDir(Path dataDir) {
            this.dataDir = Objects.requireNonNull(dataDir, "dataDir");
            return this;
        }

        /** The host name the broker binds to and advertises; {@code localhost} by default. */
        public Builder host(String host) {
            this.host = Objects.requireNonNull(host, "host");
            return this;
        }

        /** The client port; {@code 0} (the default) picks a free one. */
        public Builder port(int port) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port must be between 0 and 65535, was " + port);
            }
            this.port = port;
            return this;
        }

        /** How long {@link #start()} waits for the broker to answer clients; 60 s by default. */
        public Builder readyTimeout(Duration readyTimeout) {
            this.readyTimeout = Objects.requireNonNull(readyTimeout, "readyTimeout");
            return this;
        }

        /** Sets a broker configuration key (as in {@code server.properties}), overriding the embedded default. */
        public Builder brokerProperty(String key, String value) {
            overrides.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
            return this;
        }

        /**
         * Formats the log directory if it is new, starts the broker and returns once a client can use it.
         *
         * @throws EmbeddedKafkaException if the broker cannot be formatted or started, or is not ready in time
         */
        public EmbeddedKafka start() {
            Objects.requireNonNull(dataDir, "dataDir is required");
            long started = System.nanoTime();
            Path logDir = dataDir.toAbsolutePath().resolve("kafka");
            int clientPort = port == 0 ? KafkaNode.freePort(host) : port;
            int controllerPort = KafkaNode.freePort(host);
            KafkaNode node = new KafkaNode(
                    NODE_ID, host, clientPort, controllerPort, logDir, NODE_ID + "@" + host + ":" + controllerPort);
            Map<String, String> props = node.brokerConfig(1);
            props.putAll(overrides);
            boolean formatted = node.formatIfNew(props, null);
            node.start(props);
            try {
                String bootstrap = host + ":" + clientPort;
                String clusterId = KafkaNode.awaitReady(bootstrap, readyTimeout);
                Duration startupTime = Duration.ofNanos(System.nanoTime() - started);
                log.info(
                        "Embedded Kafka {} at {} ({} log dir {}) ready in {} ms",
                        clusterId,
                        bootstrap,
                        formatted ? "formatted new" : "reused",
                        logDir,
                        startupTime.toMillis());
                return new EmbeddedKafka(node, host, clientPort, clusterId, formatted, startupTime);
            } catch (RuntimeException e) {
                node.stopAfterFailure(e);
                throw e;
            }
        }
    }
}
