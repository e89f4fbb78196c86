package dev.substrate.kafka.embedded;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.stream.Collectors;
import org.apache.kafka.common.Uuid;

/**
 * Several real KRaft nodes in this JVM, each a combined broker and controller in a static voter quorum, with
 * internal topics replicated to up to three of them. For tests of replication ({@code replication.factor=3},
 * {@code min.insync.replicas=2}) and of losing a broker: {@link #stopNode(int)} and {@link #startNode(int)} take
 * one node down and bring it back on the same log directory.
 */
public final class EmbeddedKafkaCluster implements AutoCloseable {

    private static final String HOST = "localhost";

    private final List<KafkaNode> nodes;
    private final List<Map<String, String>> configs;
    private final String clusterId;

    private EmbeddedKafkaCluster(List<KafkaNode> nodes, List<Map<String, String>> configs, String clusterId) {
        this.nodes = nodes;
        this.configs = configs;
        this.clusterId = clusterId;
    }

    /**
     * Formats and starts {@code size} nodes under {@code dataDir} ({@code node-0}, {@code node-1}, ...) and
     * returns once the cluster answers clients.
     */
    public static EmbeddedKafkaCluster start(Path dataDir, int size, Map<String, String> brokerProperties) {
        Objects.requireNonNull(dataDir, "dataDir");
        if (size < 1) {
            throw new IllegalArgumentException("a cluster needs at least one node, was " + size);
        }
        int[] clientPorts = new int[size];
        int[] controllerPorts = new int[size];
        for (int i = 0; i < size; i++) {
            clientPorts[i] = KafkaNode.freePort(HOST);
            controllerPorts[i] = KafkaNode.freePort(HOST);
        }
        List<String> voters = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            voters.add(i + "@" + HOST + ":" + controllerPorts[i]);
        }
        String clusterId = Uuid.randomUuid().toString();
        List<KafkaNode> nodes = new ArrayList<>();
        List<Map<String, String>> configs = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            KafkaNode node = new KafkaNode(
                    i,
                    HOST,
                    clientPorts[i],
                    controllerPorts[i],
                    dataDir.toAbsolutePath().resolve("node-" + i),
                    String.join(",", voters));
            Map<String, String> config = node.brokerConfig(Math.min(size, 3));
            config.putAll(brokerProperties);
            node.formatIfNew(config, clusterId);
            nodes.add(node);
            configs.add(config);
        }
        EmbeddedKafkaCluster cluster = new EmbeddedKafkaCluster(List.copyOf(nodes), List.copyOf(configs), clusterId);
        try {
            // A quorum of voters must be up before any of them finishes starting, so start them side by side.
            List<CompletableFuture<Void>> starts = new ArrayList<>();
            for (int i = 0; i < size; i++) {
                int id = i;
                starts.add(CompletableFuture.runAsync(() -> nodes.get(id).start(configs.get(id))));
            }
            CompletableFuture.allOf(starts.toArray(CompletableFuture[]::new)).join();
            KafkaNode.awaitReady(cluster.bootstrapServers(), Duration.ofSeconds(120));
            return cluster;
        } catch (RuntimeException e) {
            RuntimeException failure = e instanceof CompletionException && e.getCause() instanceof RuntimeException
                    ? (RuntimeException) e.getCause()
                    : e;
            nodes.forEach(node -> node.stopAfterFailure(failure));
            throw failure;
        }
    }

    /** The {@code bootstrap.servers} of every node, running or not. */
    public String bootstrapServers() {
        return nodes.stream().map(KafkaNode::bootstrapServer).collect(Collectors.joining(","));
    }

    /** The cluster id every node was formatted with. */
    public String clusterId() {
        return clusterId;
    }

    /** The ids of the nodes (0 to size - 1), which are also their broker ids. */
    public SortedSet<Integer> nodeIds() {
        return nodes.stream().map(KafkaNode::nodeId).collect(Collectors.toCollection(TreeSet::new));
    }

    /** The ids of the nodes that are running now. */
    public SortedSet<Integer> runningNodeIds() {
        return nodes.stream()
                .filter(KafkaNode::isRunning)
                .map(KafkaNode::nodeId)
                .collect(Collectors.toCollection(TreeSet::new));
    }

    /** Stops node {@code id} cleanly; its data stays. */
    public void stopNode(int id) {
        node(id).stop();
    }

    /** Starts node {@code id} again on its existing log directory. */
    public void startNode(int id) {
        node(id).start(configs.get(id));
    }

    private KafkaNode node(int id) {
        if (id < 0 || id >= nodes.size()) {
            throw new IllegalArgumentException("no node " + id + " in a cluster of " + nodes.size());
        }
        return nodes.get(id);
    }

    /**
     * Stops every node, side by side: stopped one after another, the last nodes would lose their quorum and wait
     * out the controlled-shutdown timeout.
     */
    @Override
    public void close() {
        List<CompletableFuture<Void>> stops = nodes.stream()
                .map(node -> CompletableFuture.runAsync(node::stop))
                .toList();
        RuntimeException failure = null;
        for (CompletableFuture<Void> stop : stops) {
            try {
                stop.join();
            } catch (CompletionException e) {
                RuntimeException cause = e.getCause() instanceof RuntimeException r ? r : e;
                if (failure == null) {
                    failure = cause;
                } else {
                    failure.addSuppressed(cause);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
