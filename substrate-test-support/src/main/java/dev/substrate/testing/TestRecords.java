package dev.substrate.testing;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Records in and out of a real cluster: plain strings with the strongest producer guarantees Kafka offers, and
 * whole topics read back as they are.
 */
public final class TestRecords {

    private TestRecords() {}

    /** A topic name no other test in this JVM uses. */
    public static String uniqueTopic(String prefix) {
        return prefix + "-" + UUID.randomUUID();
    }

    /**
     * Sends each key and value to {@code topic} with {@code acks=all} and idempotence, waits for every
     * acknowledgement, and returns the acknowledged positions in order.
     */
    public static List<RecordMetadata> produce(KafkaCluster cluster, String topic, Map<String, String> records) {
        Properties props = cluster.clientProperties();
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        try (KafkaProducer<String, String> producer =
                new KafkaProducer<>(props, new StringSerializer(), new StringSerializer())) {
            List<RecordMetadata> acknowledged = new ArrayList<>();
            for (Map.Entry<String, String> record : records.entrySet()) {
                acknowledged.add(producer.send(new ProducerRecord<>(topic, record.getKey(), record.getValue()))
                        .get());
            }
            return acknowledged;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while producing to " + topic, e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("Producing to " + topic + " failed", e.getCause());
        }
    }

    /**
     * Reads {@code topic} from the beginning with a fresh consumer group until {@code expected} records have
     * arrived or {@code timeout} has passed, and returns them by key in the order read.
     */
    public static Map<String, String> consume(KafkaCluster cluster, String topic, int expected, Duration timeout) {
        Properties props = cluster.clientProperties();
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "test-" + UUID.randomUUID());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        Map<String, String> read = new LinkedHashMap<>();
        try (KafkaConsumer<String, String> consumer =
                new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + timeout.toNanos();
            while (read.size() < expected && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
                    read.put(record.key(), record.value());
                }
            }
        }
        return read;
    }

    /**
     * Every committed record of {@code topic} up to its end when called ({@code read_committed}), partition by
     * partition in offset order, with its value as bytes.
     */
    public static List<ConsumerRecord<String, byte[]>> readAll(KafkaCluster cluster, String topic) {
        Properties props = cluster.clientProperties();
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5000);
        List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer =
                new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                    .map(info -> new TopicPartition(topic, info.partition()))
                    .sorted(Comparator.comparingInt(TopicPartition::partition))
                    .toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> ends = consumer.endOffsets(partitions, Duration.ofSeconds(30));
            long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
            while (partitions.stream().anyMatch(partition -> consumer.position(partition) < ends.get(partition))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("Reading " + topic + " did not reach " + ends + " in 2 minutes");
                }
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
        }
        records.sort(Comparator.<ConsumerRecord<String, byte[]>>comparingInt(ConsumerRecord::partition)
                .thenComparingLong(ConsumerRecord::offset));
        return records;
    }

    /**
     * The latest value per key of a compacted topic read to its end, as hex; a tombstone removes its key. What a
     * consumer that builds a table from the topic ends with.
     */
    public static java.util.Map<String, String> latestByKey(KafkaCluster cluster, String topic) {
        java.util.Map<String, String> latest = new java.util.TreeMap<>();
        for (ConsumerRecord<String, byte[]> record : readAll(cluster, topic)) {
            if (record.value() == null) {
                latest.remove(record.key());
            } else {
                latest.put(record.key(), java.util.HexFormat.of().formatHex(record.value()));
            }
        }
        return latest;
    }
}
