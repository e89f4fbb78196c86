package dev.substrate.testing;

import dev.substrate.kafka.embedded.EmbeddedKafkaCluster;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SortedSet;

/**
 * A real in-process KRaft cluster of several combined broker-controller nodes ({@link EmbeddedKafkaCluster}),
 * for tests that need replication ({@code replication.factor=3}, {@code min.insync.replicas=2}) or the loss of
 * a broker. Start one per test class and close it.
 */
public final class MultiBrokerCluster implements KafkaCluster, AutoCloseable {

    private final EmbeddedKafkaCluster cluster;

    private MultiBrokerCluster(EmbeddedKafkaCluster cluster) {
        this.cluster = cluster;
    }

    /** Starts {@code nodes} nodes in a fresh temporary directory and returns once the cluster answers. */
    public static MultiBrokerCluster start(int nodes) {
        return start(nodes, Map.of());
    }

    /** As {@link #start(int)}, with extra broker configuration applied to every node. */
    public static MultiBrokerCluster start(int nodes, Map<String, String> brokerProperties) {
        try {
            Path dataDir = Files.createTempDirectory("substrate-cluster-");
            return new MultiBrokerCluster(EmbeddedKafkaCluster.start(dataDir, nodes, brokerProperties));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public String bootstrapServers() {
        return cluster.bootstrapServers();
    }

    /** The ids of the brokers in the cluster. */
    public SortedSet<Integer> brokerIds() {
        return cluster.nodeIds();
    }

    /** Stops broker {@code id}; its data stays for {@link #startBroker(int)}. */
    public void stopBroker(int id) {
        cluster.stopNode(id);
    }

    /** Starts broker {@code id} again on its data. */
    public void startBroker(int id) {
        cluster.startNode(id);
    }

    @Override
    public void close() {
        cluster.close();
    }
}
