package dev.substrate.kafka.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(120)
class EmbeddedKafkaIT {

    @TempDir
    Path dataDir;

    @Test
    void producesAndConsumesThroughARealBroker() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.builder().dataDir(dataDir).start()) {
            assertThat(kafka.formattedOnStart()).isTrue();
            assertThat(kafka.port()).isPositive();

            send(kafka.bootstrapServers(), "greetings", List.of("hello", "world"));

            assertThat(readAll(kafka.bootstrapServers(), "greetings", 2)).containsExactly("hello", "world");
        }
    }

    @Test
    void keepsTopicsAndRecordsAcrossARestartOnTheSameDataDir() throws Exception {
        String clusterId;
        try (EmbeddedKafka first = EmbeddedKafka.builder().dataDir(dataDir).start()) {
            clusterId = first.clusterId();
            try (Admin admin = admin(first.bootstrapServers())) {
                admin.createTopics(List.of(new NewTopic("kept", 3, (short) 1)))
                        .all()
                        .get();
            }
            send(first.bootstrapServers(), "kept", List.of("before-restart-1", "before-restart-2"));
        }

        try (EmbeddedKafka second = EmbeddedKafka.builder().dataDir(dataDir).start()) {
            assertThat(second.formattedOnStart()).isFalse();
            assertThat(second.clusterId()).isEqualTo(clusterId);
            try (Admin admin = admin(second.bootstrapServers())) {
                assertThat(admin.describeTopics(List.of("kept"))
                                .allTopicNames()
                                .get()
                                .get("kept")
                                .partitions())
                        .hasSize(3);
            }
            assertThat(readAll(second.bootstrapServers(), "kept", 2))
                    .containsExactlyInAnyOrder("before-restart-1", "before-restart-2");
        }
    }

    @Test
    void supportsTransactionsOnOneNode() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.builder().dataDir(dataDir).start()) {
            Properties props = producerProps(kafka.bootstrapServers());
            props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "tx-" + UUID.randomUUID());
            try (KafkaProducer<String, String> producer =
                    new KafkaProducer<>(props, new StringSerializer(), new StringSerializer())) {
                producer.initTransactions();
                producer.beginTransaction();
                producer.send(new ProducerRecord<>("transactional", "k", "committed"));
                producer.commitTransaction();
            }

            assertThat(readAll(kafka.bootstrapServers(), "transactional", 1)).containsExactly("committed");
        }
    }

    @Test
    void failsClearlyWhenThePortIsTaken() throws Exception {
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress("localhost", 0));

            assertThatThrownBy(() -> EmbeddedKafka.builder()
                            .dataDir(dataDir)
                            .port(taken.getLocalPort())
                            .readyTimeout(Duration.ofSeconds(20))
                            .start())
                    .hasStackTraceContaining(Integer.toString(taken.getLocalPort()));
        }
    }

    private static Admin admin(String bootstrap) {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap));
    }

    private static Properties producerProps(String bootstrap) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        return props;
    }

    private static void send(String bootstrap, String topic, List<String> values) throws Exception {
        try (KafkaProducer<String, String> producer =
                new KafkaProducer<>(producerProps(bootstrap), new StringSerializer(), new StringSerializer())) {
            for (String value : values) {
                producer.send(new ProducerRecord<>(topic, value, value)).get();
            }
        }
    }

    private static List<String> readAll(String bootstrap, String topic, int expected) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "reader-" + UUID.randomUUID());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer =
                new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (values.size() < expected && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
                    values.add(record.value());
                }
            }
        }
        return values;
    }
}
