package dev.substrate.streams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.substrate.client.SubstrateClient;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.event.WireCodec;
import dev.substrate.events.room.RoomClosed;
import dev.substrate.events.room.RoomDeleted;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.events.room.RoomKind;
import dev.substrate.events.room.StreamMode;
import dev.substrate.fold.FoldLimits;
import dev.substrate.testing.KafkaCluster;
import dev.substrate.testing.SampleEvents;
import dev.substrate.testing.SharedKafka;
import dev.substrate.testing.TestRecords;
import dev.substrate.testing.TestSettings;
import dev.substrate.topic.TopicSetup;
import dev.substrate.topic.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The log alone decides, session expiry included: the fold appends a closed session's expiry to the room's log,
 * and a rebuild from the log (which appends nothing itself) ends with the same state.
 */
@ExtendWith(SharedKafka.class)
@Timeout(180)
class SessionExpiryIT {

    @TempDir
    Path first;

    @TempDir
    Path second;

    @Test
    void aRebuildAfterASessionExpiredEqualsTheRunningState(KafkaCluster kafka) throws Exception {
        String prefix = "expiry" + UUID.randomUUID().toString().substring(0, 6) + ".";
        Topics original = new Topics(prefix, 1024 * 1024);
        Topics rebuilt = new Topics(prefix, prefix + "rebuilt.", 1024 * 1024);
        try (Admin admin = kafka.admin()) {
            TopicSetup.ensure(admin, original, 3, (short) -1);
            TopicSetup.ensure(admin, rebuilt, 3, (short) -1);
        }
        SubstrateConfig running = SubstrateConfig.of(
                TestSettings.of(kafka, prefix, first, prefix + "first", "session.retention.ms", "1500"));
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        try (SubstrateClient client = SubstrateClient.create(running)) {
            for (String roomId : List.of("session-closed", "session-open", "talk-closed")) {
                RoomKind kind = roomId.startsWith("talk") ? RoomKind.conversation : RoomKind.session;
                client.append(at(roomId, now, created(kind))).join();
                if (roomId.endsWith("closed")) {
                    client.append(at(roomId, now, new RoomClosed("done"))).join();
                }
            }
        }
        List<String> logs = List.of(
                original.runEvents().name(),
                original.roomEvents().name(),
                original.artifactEvents().name());

        try (SubstrateFold fold = SubstrateFold.start(running)) {
            await().atMost(Duration.ofSeconds(60))
                    .until(() -> expiries(kafka, original).size() == 1
                            && TestRecords.latestByKey(kafka, original.rooms().name())
                                    .keySet()
                                    .equals(java.util.Set.of("session-open", "talk-closed")));
            try (Admin admin = kafka.admin()) {
                FoldProgress.awaitCaughtUp(admin, fold.applicationId(), logs, Duration.ofMinutes(1));
            }
        }
        List<RoomEvent> expiries = expiries(kafka, original);
        assertThat(expiries).singleElement().satisfies(expiry -> {
            assertThat(expiry.getRoomId()).isEqualTo("session-closed");
            assertThat(expiry.getActor()).isNull();
            assertThat(((RoomDeleted) expiry.getPayload()).getReason()).contains("session.retention.ms");
        });

        // The rebuild keeps sessions for a week: without the expiry on the log, it would keep the closed one.
        SubstrateConfig rebuilding = SubstrateConfig.of(TestSettings.of(kafka, prefix, second, prefix + "second"));
        FoldSettings settings = new FoldSettings(
                rebuilt, FoldLimits.of(1024 * 1024), Duration.ofDays(7), Duration.ofDays(7), Duration.ofMillis(200));
        try (SubstrateFold fold = SubstrateFold.start(rebuilding, settings);
                Admin admin = kafka.admin()) {
            FoldProgress.awaitCaughtUp(admin, fold.applicationId(), logs, Duration.ofMinutes(1));
        }

        Map<String, String> before =
                TestRecords.latestByKey(kafka, original.rooms().name());
        assertThat(before).containsOnlyKeys("session-open", "talk-closed");
        assertThat(TestRecords.latestByKey(kafka, rebuilt.rooms().name())).isEqualTo(before);
        assertThat(expiries(kafka, original)).as("the rebuild appended nothing").hasSize(1);
    }

    private static RoomEvent at(String roomId, Instant at, Object payload) {
        return RoomEvent.newBuilder(SampleEvents.roomEvent(roomId, payload))
                .setOccurredAt(at)
                .build();
    }

    private static Object created(RoomKind kind) {
        return dev.substrate.events.room.RoomCreated.newBuilder()
                .setKind(kind)
                .setProject("project:expiry")
                .setStream(StreamMode.durable)
                .build();
    }

    private static List<RoomEvent> expiries(KafkaCluster kafka, Topics topics) {
        return TestRecords.readAll(kafka, topics.roomEvents().name()).stream()
                .map(record -> WireCodec.ROOM.decode(record.value()))
                .filter(event -> event.getPayload() instanceof RoomDeleted deleted && deleted.getExpired())
                .toList();
    }
}
