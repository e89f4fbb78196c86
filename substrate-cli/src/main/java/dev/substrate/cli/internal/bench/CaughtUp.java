package dev.substrate.cli.internal.bench;

import dev.substrate.config.SubstrateConfig;
import dev.substrate.topic.Topics;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/** Waits until a Kafka Streams application's committed offsets reach the end of the run and room logs. */
final class CaughtUp {

    private CaughtUp() {}

    /** Waits for consumer group {@code group}; returns how many records the logs held when it caught up. */
    static long await(SubstrateConfig config, String group, Topics topics) throws Exception {
        List<String> logs =
                List.of(topics.runEvents().name(), topics.roomEvents().name());
        try (Admin admin = Admin.create(new HashMap<>(config.kafkaProperties(AdminClientConfig.configNames())))) {
            while (true) {
                Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                        .partitionsToOffsetAndMetadata()
                        .get();
                long lag = 0;
                long total = 0;
                for (var end : endOffsets(admin, logs).entrySet()) {
                    OffsetAndMetadata done = committed.get(end.getKey());
                    lag += end.getValue() - (done == null ? 0 : done.offset());
                    total += end.getValue();
                }
                if (lag <= 0) {
                    return total;
                }
                Thread.sleep(100); // polling the group's progress; 100 ms is the resolution of the figures
            }
        }
    }

    /**
     * The sum of {@code topic}'s end offsets: 0 when nothing was ever written to it (a transaction writes its
     * markers only to the partitions it wrote records to).
     */
    static long endOffsets(SubstrateConfig config, String topic) throws Exception {
        try (Admin admin = Admin.create(new HashMap<>(config.kafkaProperties(AdminClientConfig.configNames())))) {
            return endOffsets(admin, List.of(topic)).values().stream()
                    .mapToLong(Long::longValue)
                    .sum();
        }
    }

    /** The end offset of every partition of {@code topics}. */
    private static Map<TopicPartition, Long> endOffsets(Admin admin, List<String> topics) throws Exception {
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        admin.describeTopics(topics)
                .allTopicNames()
                .get()
                .forEach((topic, d) -> d.partitions()
                        .forEach(p -> latest.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest())));
        Map<TopicPartition, Long> ends = new HashMap<>();
        admin.listOffsets(latest).all().get().forEach((partition, end) -> ends.put(partition, end.offset()));
        return ends;
    }
}
