package dev.substrate.streams;

import static org.assertj.core.api.Assertions.assertThat;

import dev.substrate.client.Appended;
import dev.substrate.client.SubstrateClient;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.entity.EntityKind;
import dev.substrate.events.run.RunEvent;
import dev.substrate.testing.KafkaCluster;
import dev.substrate.testing.SampleEvents;
import dev.substrate.testing.SharedKafka;
import dev.substrate.testing.TestSettings;
import dev.substrate.topic.TopicSetup;
import dev.substrate.topic.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Read-your-writes position bounds: reached for every record the fold reads (a refused event and a duplicate
 * included), and still reached by a store restored from its changelog on a fresh state directory.
 */
@ExtendWith(SharedKafka.class)
@Timeout(300)
class PositionBoundIT {

    @TempDir
    Path first;

    @TempDir
    Path second;

    @Test
    void everyRecordMovesThePositionAndARestoredStoreKeepsIt(KafkaCluster kafka) throws Exception {
        String prefix = "position" + UUID.randomUUID().toString().substring(0, 6) + ".";
        try (Admin admin = kafka.admin()) {
            TopicSetup.ensure(admin, new Topics(prefix, 1024 * 1024), 2, (short) -1);
        }
        SubstrateConfig firstConfig = config(kafka, prefix, first, prefix + "fold");
        RunEvent created =
                SampleEvents.runEvent("run-1", SampleEvents.runPayloads().get(0));
        Appended last;
        try (SubstrateClient client = SubstrateClient.create(firstConfig)) {
            client.append(created).join();
            // A refused event (a second create) and a repeat of the first event: neither changes the run.
            client.append(SampleEvents.runEvent(
                            "run-1", SampleEvents.runPayloads().get(0)))
                    .join();
            last = client.append(created).join();
        }
        int partition = last.position().partition();
        long offset = last.position().offset();

        try (SubstrateFold fold = SubstrateFold.start(firstConfig, new Instance("localhost", 1))) {
            StateQueries queries = new StateQueries(fold.streams(), Topics.from(firstConfig));
            assertThat(queries.awaitPosition(EntityKind.RUN, partition, offset, Duration.ofSeconds(60)))
                    .isEqualTo(StateQueries.PositionWait.REACHED);
            assertThat(queries.awaitPosition(EntityKind.RUN, partition, offset + 1, Duration.ofMillis(300)))
                    .as("no record has been read past the last one")
                    .isEqualTo(StateQueries.PositionWait.TIMED_OUT);
            assertThat(queries.run("run-1"))
                    .get()
                    .extracting(run -> run.getVersion())
                    .isEqualTo(1L);
        }

        // The same application on an empty state directory restores its stores from the changelogs.
        SubstrateConfig secondConfig = config(kafka, prefix, second, prefix + "fold");
        try (SubstrateFold fold = SubstrateFold.start(secondConfig, new Instance("localhost", 2))) {
            StateQueries queries = new StateQueries(fold.streams(), Topics.from(secondConfig));
            assertThat(queries.awaitPosition(EntityKind.RUN, partition, offset, Duration.ofSeconds(60)))
                    .isEqualTo(StateQueries.PositionWait.REACHED);
            assertThat(queries.run("run-1")).isPresent();
            assertThat(queries.ownerOf(EntityKind.RUN, "run-1")).isEqualTo(new Instance("localhost", 2));
            assertThat(queries.placement(EntityKind.RUN))
                    .containsOnlyKeys(new Instance("localhost", 2))
                    .containsValue(java.util.Set.of(0, 1));
        }
    }

    private static SubstrateConfig config(KafkaCluster kafka, String prefix, Path dataDir, String applicationId) {
        return SubstrateConfig.of(TestSettings.of(kafka, prefix, dataDir, applicationId, "commit.interval.ms", "50"));
    }
}
