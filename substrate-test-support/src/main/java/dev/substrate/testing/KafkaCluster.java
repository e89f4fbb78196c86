package dev.substrate.testing;

import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

/** A real Kafka cluster an integration test talks to, whichever way it was started. */
public interface KafkaCluster {

    /** The {@code bootstrap.servers} of the cluster. */
    String bootstrapServers();

    /** A new admin client for the cluster; the caller closes it. */
    default Admin admin() {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers()));
    }

    /** Client properties with {@code bootstrap.servers} set, for building producers and consumers. */
    default Properties clientProperties() {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        return props;
    }
}
