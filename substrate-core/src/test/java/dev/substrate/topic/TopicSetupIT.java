package dev.substrate.topic;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.substrate.testing.KafkaCluster;
import dev.substrate.testing.SharedKafka;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(SharedKafka.class)
@Timeout(120)
class TopicSetupIT {

    @Test
    void createsEveryTopicWithItsCleanupPolicyAndRetention(KafkaCluster kafka) throws Exception {
        Topics topics = new Topics(uniquePrefix(), 1024 * 1024);
        try (Admin admin = kafka.admin()) {
            List<String> created = TopicSetup.ensure(admin, topics, 3, (short) -1);

            assertThat(created)
                    .containsExactlyInAnyOrderElementsOf(
                            topics.all().stream().map(Topic::name).toList());
            Config runEvents = config(admin, topics.runEvents().name());
            assertThat(runEvents.get("cleanup.policy").value()).isEqualTo("delete");
            assertThat(runEvents.get("retention.ms").value()).isEqualTo("-1");
            assertThat(config(admin, topics.runs().name()).get("cleanup.policy").value())
                    .isEqualTo("compact");
            assertThat(config(admin, topics.deadLetters().name())
                            .get("retention.ms")
                            .value())
                    .isEqualTo(Long.toString(Topics.DIAGNOSTICS_RETENTION.toMillis()));
            assertThat(admin.describeTopics(List.of(topics.roomEvents().name()))
                            .allTopicNames()
                            .get()
                            .get(topics.roomEvents().name())
                            .partitions())
                    .hasSize(3);
        }
    }

    @Test
    void secondSetupCreatesNothingAndPasses(KafkaCluster kafka) {
        Topics topics = new Topics(uniquePrefix(), 1024 * 1024);
        try (Admin admin = kafka.admin()) {
            TopicSetup.ensure(admin, topics, 1, (short) -1);

            assertThat(TopicSetup.ensure(admin, topics, 1, (short) -1)).isEmpty();
        }
    }

    @Test
    void refusesACompactedEventLogWithAClearMessage(KafkaCluster kafka) throws Exception {
        Topics topics = new Topics(uniquePrefix(), 1024 * 1024);
        try (Admin admin = kafka.admin()) {
            admin.createTopics(List.of(new NewTopic(topics.runEvents().name(), 1, (short) 1)
                            .configs(Map.of("cleanup.policy", "compact"))))
                    .all()
                    .get();

            assertThatThrownBy(() -> TopicSetup.ensure(admin, topics, 1, (short) -1))
                    .isInstanceOfSatisfying(
                            TopicMisconfigured.class,
                            e -> assertThat(e.topic())
                                    .isEqualTo(topics.runEvents().name()))
                    .hasMessageContaining("cleanup.policy=compact")
                    .hasMessageContaining("needs delete")
                    .hasMessageContaining("erase history");
        }
    }

    @Test
    void refusesAStateTopicThatIsNotCompacted(KafkaCluster kafka) throws Exception {
        Topics topics = new Topics(uniquePrefix(), 1024 * 1024);
        try (Admin admin = kafka.admin()) {
            admin.createTopics(List.of(new NewTopic(topics.rooms().name(), 1, (short) 1)))
                    .all()
                    .get();

            assertThatThrownBy(() -> TopicSetup.ensure(admin, topics, 1, (short) -1))
                    .isInstanceOf(TopicMisconfigured.class)
                    .hasMessageContaining(topics.rooms().name())
                    .hasMessageContaining("needs compact");
        }
    }

    @Test
    void refusesALogThatWouldRefuseEventsSubstrateAccepts(KafkaCluster kafka) throws Exception {
        Topics small = new Topics(uniquePrefix(), 1024 * 1024);
        int maxEventBytes = 4 * 1024 * 1024;
        Topics big = new Topics(small.runEvents().name().replace("run-events", ""), maxEventBytes);
        try (Admin admin = kafka.admin()) {
            TopicSetup.ensure(admin, small, 1, (short) -1);
            assertThat(config(admin, small.roomEvents().name())
                            .get("max.message.bytes")
                            .value())
                    .isEqualTo(Integer.toString(Topics.recordLimit(1024 * 1024)));

            // The same topics, now with events of up to 4 MiB: every existing topic would refuse them.
            assertThatThrownBy(() -> TopicSetup.ensure(admin, big, 1, (short) -1))
                    .isInstanceOf(TopicMisconfigured.class)
                    .hasMessageContaining(small.runEvents().name())
                    .hasMessageContaining("accepts records of at most " + Topics.recordLimit(1024 * 1024))
                    .hasMessageContaining("--add-config max.message.bytes=" + Topics.recordLimit(maxEventBytes))
                    .hasMessageContaining("or lower max.event.bytes to at most " + 1024 * 1024);
        }
    }

    @Test
    void raisesTheRecordLimitOfChangelogsAnOlderVersionCreated(KafkaCluster kafka) throws Exception {
        String changelog = uniquePrefix() + "fold-rooms-changelog";
        String missing = uniquePrefix() + "fold-runs-changelog";
        try (Admin admin = kafka.admin()) {
            admin.createTopics(List.of(new NewTopic(changelog, 1, (short) 1)))
                    .all()
                    .get();
            // The broker lists a new topic a moment after the controller created it.
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> admin.listTopics().names().get().contains(changelog));

            // Without an override, a topic takes the broker's message.max.bytes (1 MiB + 12 bytes by default).
            assertThat(TopicSetup.raiseRecordLimit(admin, List.of(changelog, missing), 1_000_000))
                    .isEmpty();
            assertThat(TopicSetup.raiseRecordLimit(admin, List.of(changelog, missing), 2_000_000))
                    .containsExactly(changelog);

            assertThat(config(admin, changelog).get("max.message.bytes").value())
                    .isEqualTo("2000000");
            assertThat(admin.listTopics().names().get()).doesNotContain(missing);
        }
    }

    private static String uniquePrefix() {
        return "t" + UUID.randomUUID().toString().substring(0, 8) + ".";
    }

    private static Config config(Admin admin, String topic) throws Exception {
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        return admin.describeConfigs(List.of(resource)).all().get().get(resource);
    }
}
