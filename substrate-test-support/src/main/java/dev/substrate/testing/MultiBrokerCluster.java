package dev.substrate.testing;

import dev.substrate.kafka.embedded.EmbeddedKafkaCluster;
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
    private final Path dataDir;

    private MultiBrokerCluster(EmbeddedKafkaCluster cluster, Path dataDir) {
        this.cluster = cluster;
        this.dataDir = dataDir;
    }

    /** Starts {@code nodes} nodes in a fresh temporary directory and returns once the cluster answers. */
    public static MultiBrokerCluster start(int nodes) {
        return start(nodes, Map.of());
    }

    /** As {@link #start(int)}, with extra broker configuration applied to every node. */
    public static MultiBrokerCluster start(int nodes, Map<String, String> brokerProperties) {
        Path dataDir = TempDirs.create("substrate-cluster-");
        return new MultiBrokerCluster(EmbeddedKafkaCluster.start(dataDir, nodes, brokerProperties), dataDir);
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
        try {
            cluster.close();
        } finally {
            TempDirs.delete(dataDir);
        }
    }
}
