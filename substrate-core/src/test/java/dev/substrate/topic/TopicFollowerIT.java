package dev.substrate.topic;

import static org.assertj.core.api.Assertions.assertThat;

import dev.substrate.config.SubstrateConfig;
import dev.substrate.testing.KafkaCluster;
import dev.substrate.testing.SharedKafka;
import dev.substrate.testing.TestSettings;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** A follower of a small topic: read whole at start, then followed; asked, it reads what was written before asking. */
@ExtendWith(SharedKafka.class)
@Timeout(120)
class TopicFollowerIT {

    @TempDir
    Path dataDir;

    @Test
    void aWaitForTheLatestRecordsReturnsOnceWhatWasWrittenBeforeItIsApplied(KafkaCluster kafka) throws Exception {
        String topic = "follower-" + UUID.randomUUID();
        try (Admin admin = kafka.admin()) {
            admin.createTopics(List.of(new NewTopic(topic, 3, (short) 1))).all().get();
        }
        SubstrateConfig config = SubstrateConfig.of(TestSettings.of(kafka, "f.", dataDir, "f"));
        Set<String> applied = ConcurrentHashMap.newKeySet();
        java.util.Properties props = kafka.clientProperties();
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        try (TopicFollower follower = TopicFollower.start(
                        config,
                        topic,
                        "test",
                        record -> applied.add(new String(record.key(), StandardCharsets.UTF_8)));
                KafkaProducer<byte[], byte[]> producer =
                        new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            assertThat(follower.awaitCaughtUp(Duration.ofSeconds(30))).isTrue();
            for (int i = 0; i < 20; i++) {
                String key = "k" + i;
                producer.send(new ProducerRecord<>(topic, key.getBytes(StandardCharsets.UTF_8), new byte[] {1}))
                        .get();

                assertThat(follower.awaitLatest(Duration.ofSeconds(5))).as(key).isTrue();
                assertThat(applied).as("applied when the wait returned").contains(key);
            }
        }
    }
}
