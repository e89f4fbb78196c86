package dev.substrate.cli.internal;

import dev.substrate.SubstrateException;
import dev.substrate.config.KafkaSettings;
import dev.substrate.config.SubstrateConfig;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

/** Checks, before anything starts, that the configured Kafka cluster answers. */
public final class KafkaReachability {

    private KafkaReachability() {}

    /**
     * The cluster id of the configured cluster.
     *
     * @throws KafkaUnreachable if it does not answer within {@code timeout}
     */
    public static String clusterId(SubstrateConfig config, Duration timeout) {
        Map<String, Object> props = new HashMap<>(config.kafkaProperties(AdminClientConfig.configNames()));
        int timeoutMs = (int) timeout.toMillis();
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, timeoutMs);
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, timeoutMs);
        try (Admin admin = Admin.create(props)) {
            return admin.describeCluster().clusterId().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KafkaUnreachable(config.get(KafkaSettings.BOOTSTRAP_SERVERS), timeout, e);
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            throw new KafkaUnreachable(config.get(KafkaSettings.BOOTSTRAP_SERVERS), timeout, e);
        }
    }

    /** The Kafka cluster did not answer in time. Retriable: it may be starting. */
    public static final class KafkaUnreachable extends SubstrateException {
        private static final long serialVersionUID = 1L;

        KafkaUnreachable(String bootstrapServers, Duration timeout, Throwable cause) {
            super("Kafka at " + bootstrapServers + " did not answer within " + timeout.toSeconds() + " s", cause);
        }

        @Override
        public boolean isRetriable() {
            return true;
        }
    }
}
