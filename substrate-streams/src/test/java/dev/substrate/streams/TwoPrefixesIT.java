package dev.substrate.streams;

import static org.assertj.core.api.Assertions.assertThat;

import dev.substrate.client.SubstrateClient;
import dev.substrate.config.EventSettings;
import dev.substrate.config.KafkaSettings;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.config.TopicSettings;
import dev.substrate.testing.KafkaCluster;
import dev.substrate.testing.SharedKafka;
import dev.substrate.testing.TestRecords;
import dev.substrate.topic.TopicSetup;
import dev.substrate.topic.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two deployments on one cluster, told apart by their topic prefix alone (no {@code application.id} set): each
 * fold gets an application id of its own, so neither joins the other's consumer group, reads its logs or writes
 * its changelogs, and each folds exactly its own events.
 */
@ExtendWith(SharedKafka.class)
@Timeout(600)
class TwoPrefixesIT {

    @TempDir
    Path first;

    @TempDir
    Path second;

    @Test
    void twoPrefixesOnOneClusterFoldIndependently(KafkaCluster kafka) throws Exception {
        String id = UUID.randomUUID().toString().substring(0, 6);
        SubstrateConfig a = config(kafka, "twoa" + id + ".", first);
        SubstrateConfig b = config(kafka, "twob" + id + "-", second);
        assertThat(a.get(KafkaSettings.APPLICATION_ID)).isEqualTo("twoa" + id);
        assertThat(b.get(KafkaSettings.APPLICATION_ID)).isEqualTo("twob" + id);

        Workload small = Workload.of(4);
        Workload large = Workload.of(10);
        append(a, small);
        append(b, large);

        try (Admin admin = kafka.admin();
                SubstrateFold foldA = SubstrateFold.start(a);
                SubstrateFold foldB = SubstrateFold.start(b)) {
            assertThat(foldA.applicationId()).isEqualTo(a.get(KafkaSettings.APPLICATION_ID));
            assertThat(foldB.applicationId()).isEqualTo(b.get(KafkaSettings.APPLICATION_ID));
            FoldProgress.awaitCaughtUp(admin, foldA.applicationId(), logs(a), Duration.ofMinutes(4));
            FoldProgress.awaitCaughtUp(admin, foldB.applicationId(), logs(b), Duration.ofMinutes(4));

            // Each group consumed its own logs, and nothing of the other deployment's.
            for (SubstrateConfig config : List.of(a, b)) {
                assertThat(committedTopics(admin, config.get(KafkaSettings.APPLICATION_ID)))
                        .containsAll(logs(config))
                        .allMatch(topic -> topic.startsWith(config.get(TopicSettings.PREFIX))
                                || topic.startsWith(config.get(KafkaSettings.APPLICATION_ID) + "-"));
            }
        }
        assertThat(TestRecords.latestByKey(kafka, a.get(TopicSettings.PREFIX) + "runs"))
                .hasSize(small.runs);
        assertThat(TestRecords.latestByKey(kafka, b.get(TopicSettings.PREFIX) + "runs"))
                .hasSize(large.runs);
        assertThat(TestRecords.latestByKey(kafka, a.get(TopicSettings.PREFIX) + "rooms"))
                .hasSize(small.rooms);
        assertThat(TestRecords.latestByKey(kafka, b.get(TopicSettings.PREFIX) + "rooms"))
                .hasSize(large.rooms);
    }

    private static SubstrateConfig config(KafkaCluster kafka, String prefix, Path dataDir) throws Exception {
        SubstrateConfig config = SubstrateConfig.of(Map.of(
                "bootstrap.servers",
                kafka.bootstrapServers(),
                "topic.prefix",
                prefix,
                "topic.partitions",
                "2",
                "data.dir",
                dataDir.toString()));
        try (Admin admin = kafka.admin()) {
            TopicSetup.ensure(admin, new Topics(prefix, config.get(EventSettings.MAX_EVENT_BYTES)), 2, (short) -1);
        }
        return config;
    }

    private static void append(SubstrateConfig config, Workload workload) {
        try (SubstrateClient client = SubstrateClient.create(config)) {
            List<CompletableFuture<?>> acks = new ArrayList<>();
            workload.events.forEach(event -> acks.add(FoldLoadIT.append(client, event)));
            CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).join();
        }
    }

    private static List<String> logs(SubstrateConfig config) {
        Topics topics = new Topics(config.get(TopicSettings.PREFIX), config.get(EventSettings.MAX_EVENT_BYTES));
        return List.of(
                topics.runEvents().name(),
                topics.roomEvents().name(),
                topics.artifactEvents().name());
    }

    private static List<String> committedTopics(Admin admin, String group) throws Exception {
        return admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get().keySet().stream()
                .map(partition -> partition.topic())
                .distinct()
                .toList();
    }
}
