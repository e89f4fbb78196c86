package dev.substrate.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartitionInfo;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(180)
class MultiBrokerClusterIT {

    private static MultiBrokerCluster cluster;

    @BeforeAll
    static void startCluster() {
        cluster = MultiBrokerCluster.start(3);
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void replicatesAcknowledgedRecordsToEveryBroker() throws Exception {
        String topic = TestRecords.uniqueTopic("replicated");
        try (Admin admin = cluster.admin()) {
            admin.createTopics(List.of(new NewTopic(topic, 3, (short) 3).configs(Map.of("min.insync.replicas", "2"))))
                    .all()
                    .get();
            TopicDescription description =
                    admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
            assertThat(description.partitions())
                    .extracting(TopicPartitionInfo::replicas)
                    .allSatisfy(replicas -> assertThat(replicas).hasSize(3));
        }
        assertThat(cluster.brokerIds()).hasSize(3);

        TestRecords.produce(cluster, topic, Map.of("a", "1", "b", "2", "c", "3"));

        assertThat(TestRecords.consume(cluster, topic, 3, Duration.ofSeconds(60)))
                .containsExactlyInAnyOrderEntriesOf(Map.of("a", "1", "b", "2", "c", "3"));
    }
}
