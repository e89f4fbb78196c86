package dev.substrate.testing;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** The Substrate settings an integration test starts from: its broker, its own topics, data and application. */
public final class TestSettings {

    /** The {@code cluster.secret} every test instance uses unless its settings give another. */
    public static final String CLUSTER_SECRET = "the-cluster-secret-of-the-tests";

    /** The partitions of each log a test's topics have unless its settings give another number. */
    public static final int PARTITIONS = 3;

    private TestSettings() {}

    /**
     * Settings for {@code SubstrateConfig.of}: {@code bootstrap.servers} of {@code kafka}, {@code topic.prefix},
     * {@code data.dir}, {@code application.id}, {@link #CLUSTER_SECRET} and {@link #PARTITIONS}, then {@code more} as key, value, key, value...
     */
    public static Map<String, String> of(
            KafkaCluster kafka, String topicPrefix, Path dataDir, String applicationId, String... more) {
        if (more.length % 2 != 0) {
            throw new IllegalArgumentException("more settings come in key, value pairs");
        }
        Map<String, String> settings = new HashMap<>();
        settings.put("bootstrap.servers", kafka.bootstrapServers());
        settings.put("topic.prefix", topicPrefix);
        settings.put("data.dir", dataDir.toString());
        settings.put("application.id", applicationId);
        // Instances of one application sign what they forward to each other with it; a test's instances share one.
        settings.put("cluster.secret", CLUSTER_SECRET);
        // Three partitions per log, not the default six: enough to spread over three instances and to put two
        // entities on different partitions, at half the tasks (and RocksDB stores) a test's fold starts.
        settings.put("topic.partitions", Integer.toString(PARTITIONS));
        for (int i = 0; i < more.length; i += 2) {
            settings.put(more[i], more[i + 1]);
        }
        return settings;
    }
}
