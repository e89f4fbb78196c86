package dev.substrate.kafka.embedded;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One combined broker-and-controller KRaft node: its configuration, the formatting of its log directory, and
 * the {@link KafkaRaftServer} that runs it. A node can be stopped and started again on the same directory.
 */
final class KafkaNode {

    private static final Logger log = LoggerFactory.getLogger(KafkaNode.class);

    static final String BROKER_LISTENER = "PLAINTEXT";
    static final String CONTROLLER_LISTENER = "CONTROLLER";

    private final int nodeId;
    private final String host;
    private final int clientPort;
    private final int controllerPort;
    private final Path logDir;
    private final String voters;
    private KafkaRaftServer server;

    KafkaNode(int nodeId, String host, int clientPort, int controllerPort, Path logDir, String voters) {
        this.nodeId = nodeId;
        this.host = host;
        this.clientPort = clientPort;
        this.controllerPort = controllerPort;
        this.logDir = logDir;
        this.voters = voters;
    }

    int nodeId() {
        return nodeId;
    }

    Path logDir() {
        return logDir;
    }

    String bootstrapServer() {
        return host + ":" + clientPort;
    }

    String voter() {
        return nodeId + "@" + host + ":" + controllerPort;
    }

    synchronized boolean isRunning() {
        return server != null;
    }

    /** The node's configuration: a static voter quorum, and internal topics replicated {@code replication} times. */
    Map<String, String> brokerConfig(int replication) {
        String rf = Integer.toString(replication);
        String minIsr = Integer.toString(Math.min(2, replication));
        Map<String, String> props = new HashMap<>();
        props.put("process.roles", "broker,controller");
        props.put("node.id", Integer.toString(nodeId));
        props.put("controller.quorum.voters", voters);
        props.put(
                "listeners",
                BROKER_LISTENER + "://" + host + ":" + clientPort + "," + CONTROLLER_LISTENER + "://" + host + ":"
                        + controllerPort);
        props.put("advertised.listeners", BROKER_LISTENER + "://" + host + ":" + clientPort);
        props.put("controller.listener.names", CONTROLLER_LISTENER);
        props.put("inter.broker.listener.name", BROKER_LISTENER);
        props.put(
                "listener.security.protocol.map", BROKER_LISTENER + ":PLAINTEXT," + CONTROLLER_LISTENER + ":PLAINTEXT");
        props.put("log.dirs", logDir.toString());
        props.put("metadata.log.dir", logDir.toString());
        props.put("offsets.topic.replication.factor", rf);
        props.put("transaction.state.log.replication.factor", rf);
        props.put("transaction.state.log.min.isr", minIsr);
        props.put("share.coordinator.state.topic.replication.factor", rf);
        props.put("share.coordinator.state.topic.min.isr", minIsr);
        // Small internal topics: their 50-partition defaults cost seconds on the first group or transaction.
        props.put("offsets.topic.num.partitions", "8");
        props.put("transaction.state.log.num.partitions", "8");
        // A lone group member need not wait for others to join.
        props.put("group.initial.rebalance.delay.ms", "0");
        // A transactional producer (the fold's, under exactly-once) writes to a partition again as soon as its
        // last commit returns, before that commit's markers are written; the broker retries adding the partition
        // to the new transaction for up to this long before it answers CONCURRENT_TRANSACTIONS, which the
        // producer retries after retry.backoff.ms (100 ms) while its requests in flight behind come back
        // OUT_OF_ORDER_SEQUENCE_NUMBER (logged as ERROR here and WARN there). Kafka's 100 ms is too short for the
        // markers on two busy cores.
        props.put("add.partitions.to.txn.retry.backoff.max.ms", "1000");
        return props;
    }

    /**
     * Formats the log directory unless it already holds a formatted node.
     *
     * @param clusterId the cluster to format for, or {@code null} for a new random one
     * @return whether the directory was formatted now
     */
    boolean formatIfNew(Map<String, String> props, String clusterId) {
        if (Files.exists(logDir.resolve("meta.properties"))) {
            return false;
        }
        ByteArrayOutputStream formatterOutput = new ByteArrayOutputStream();
        try (PrintStream out = new PrintStream(formatterOutput, true, StandardCharsets.UTF_8)) {
            Files.createDirectories(logDir);
            new Formatter()
                    .setPrintStream(out)
                    .setNodeId(nodeId)
                    .setClusterId(clusterId == null ? Uuid.randomUuid().toString() : clusterId)
                    .setControllerListenerName(props.get("controller.listener.names"))
                    .setMetadataLogDirectory(props.get("metadata.log.dir"))
                    .addDirectory(logDir.toString())
                    .setHasDynamicQuorum(false)
                    .run();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot create the Kafka log directory " + logDir, e);
        } catch (Exception e) {
            throw new EmbeddedKafkaException("Cannot format the Kafka log directory " + logDir, e);
        }
        log.debug(
                "Formatter: {}",
                formatterOutput.toString(StandardCharsets.UTF_8).strip());
        return true;
    }

    /** Starts the node's server; returns once it is listening (not necessarily ready for clients). */
    synchronized void start(Map<String, String> props) {
        if (server != null) {
            throw new IllegalStateException("node " + nodeId + " is already running");
        }
        KafkaRaftServer starting = new KafkaRaftServer(new KafkaConfig(props, false), Time.SYSTEM);
        try {
            starting.startup();
        } catch (RuntimeException e) {
            shutDown(starting, e);
            throw new EmbeddedKafkaException("Cannot start Kafka node " + nodeId + " at " + bootstrapServer(), e);
        }
        server = starting;
    }

    /** Stops the node and waits until its log is flushed and its sockets are closed. Idempotent. */
    synchronized void stop() {
        if (server != null) {
            KafkaRaftServer stopping = server;
            server = null;
            stopping.shutdown();
            stopping.awaitShutdown();
        }
    }

    /** Stops the node after a failed start, adding any failure to stop to {@code failure}. */
    void stopAfterFailure(RuntimeException failure) {
        try {
            stop();
        } catch (RuntimeException e) {
            failure.addSuppressed(e);
        }
    }

    private static void shutDown(KafkaRaftServer server, RuntimeException failure) {
        try {
            server.shutdown();
            server.awaitShutdown();
        } catch (RuntimeException e) {
            failure.addSuppressed(e);
        }
    }

    /** Waits until the cluster at {@code bootstrap} answers a metadata request, and returns its cluster id. */
    static String awaitReady(String bootstrap, Duration timeout) {
        Map<String, Object> props = Map.of(
                AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrap,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG,
                (int) timeout.toMillis());
        try (Admin admin = Admin.create(props)) {
            return admin.describeCluster().clusterId().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EmbeddedKafkaException("Interrupted while waiting for Kafka at " + bootstrap, e);
        } catch (ExecutionException | TimeoutException e) {
            throw new EmbeddedKafkaException(
                    "Kafka at " + bootstrap + " did not answer within " + timeout.toSeconds() + " s", e);
        }
    }

    /** A port nothing listens on right now. */
    static int freePort(String host) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(host, 0));
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot find a free port on " + host, e);
        }
    }
}
