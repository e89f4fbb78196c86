package dev.substrate.streams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.substrate.client.SubstrateClient;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.events.room.LogEmitted;
import dev.substrate.events.room.LogLevel;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.stream.RoomStream;
import dev.substrate.testing.KafkaCluster;
import dev.substrate.testing.SampleEvents;
import dev.substrate.testing.SharedKafka;
import dev.substrate.testing.TestSettings;
import dev.substrate.topic.TopicSetup;
import dev.substrate.topic.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code RoomStream} over a real broker: rooms interleaved on one partition are each seen alone and in order,
 * a cursor resumes with exactly the rest, {@code now} sees only what follows, and {@code start} begins at the
 * room's first event, found from its state.
 */
@ExtendWith(SharedKafka.class)
@Timeout(180)
class RoomStreamIT {

    @TempDir
    Path dataDir;

    @Test
    void eachSubscriptionSeesItsRoomAloneInOrderAndResumesExactly(KafkaCluster kafka) throws Exception {
        String prefix = "stream" + UUID.randomUUID().toString().substring(0, 6) + ".";
        SubstrateConfig config = SubstrateConfig.of(
                TestSettings.of(kafka, prefix, dataDir, prefix + "fold", "commit.interval.ms", "50"));
        try (Admin admin = kafka.admin()) {
            TopicSetup.ensure(admin, Topics.from(config), 3, (short) -1);
        }
        try (SubstrateClient client = SubstrateClient.create(config);
                RoomStream stream = RoomStream.create(config);
                SubstrateFold fold = SubstrateFold.start(config, new Instance("localhost", 1))) {
            assertThat(fold.applicationId()).isEqualTo(prefix + "fold");
            List<String> rooms = roomsOnOnePartition(stream, 3);
            // Noise on the same partition before the rooms begin: a subscription from their start skips it.
            String noise = roomsOnOnePartition(stream, 4).get(3);
            for (int i = 0; i < 20; i++) {
                client.append(log(noise, "noise " + i)).join();
            }
            Map<String, List<String>> appended = new HashMap<>();
            for (String room : rooms) {
                RoomEvent created =
                        SampleEvents.roomEvent(room, SampleEvents.roomPayloads().get(0));
                client.append(created).join();
                appended.computeIfAbsent(room, r -> new ArrayList<>()).add(created.getEventId());
            }
            for (int i = 0; i < 30; i++) {
                String room = rooms.get(i % 3);
                RoomEvent event = log(room, "line " + i);
                client.append(event).join();
                appended.get(room).add(event.getEventId());
            }

            for (String room : rooms) {
                List<RoomStream.Entry> seen = read(
                        stream,
                        room,
                        RoomStream.From.after(-1),
                        appended.get(room).size());
                assertThat(seen).extracting(e -> e.event().getRoomId()).containsOnly(room);
                assertThat(seen).extracting(e -> e.event().getEventId()).containsExactlyElementsOf(appended.get(room));
                assertThat(seen).extracting(RoomStream.Entry::cursor).isSorted();

                long middle = seen.get(4).cursor();
                List<RoomStream.Entry> rest = read(
                        stream,
                        room,
                        RoomStream.From.after(middle),
                        appended.get(room).size() - 5);
                assertThat(rest)
                        .extracting(e -> e.event().getEventId())
                        .containsExactlyElementsOf(
                                appended.get(room).subList(5, appended.get(room).size()));
            }

            // From the start: the room's first offset comes from its state once the fold has it.
            String first = rooms.get(0);
            org.awaitility.Awaitility.await()
                    .atMost(Duration.ofSeconds(60))
                    .ignoreExceptions()
                    .until(() -> {
                        try (RoomStream.Subscription probe = stream.subscribe(first, RoomStream.From.start())) {
                            return probe.isOpen();
                        }
                    });
            List<RoomStream.Entry> fromStart = read(
                    stream, first, RoomStream.From.start(), appended.get(first).size());
            assertThat(fromStart)
                    .extracting(e -> e.event().getEventId())
                    .containsExactlyElementsOf(appended.get(first));
            assertThatThrownBy(() -> stream.subscribe("room-never-created", RoomStream.From.start()))
                    .isInstanceOf(IllegalArgumentException.class);

            try (RoomStream.Subscription live = stream.subscribe(first, RoomStream.From.now())) {
                RoomEvent next = log(first, "after now");
                client.append(next).join();
                List<RoomStream.Entry> seen = live.poll(Duration.ofSeconds(30));
                assertThat(seen).extracting(e -> e.event().getEventId()).containsExactly(next.getEventId());
            }
        }
    }

    @Test
    void aSubscriberThatFallsBehindIsEndedWithoutHoldingUpTheOthers(KafkaCluster kafka) throws Exception {
        String prefix = "overflow" + UUID.randomUUID().toString().substring(0, 6) + ".";
        SubstrateConfig config = SubstrateConfig.of(
                TestSettings.of(kafka, prefix, dataDir, prefix + "fold", "commit.interval.ms", "50"));
        try (Admin admin = kafka.admin()) {
            TopicSetup.ensure(admin, Topics.from(config), 3, (short) -1);
        }
        int events = RoomStream.BUFFER + 200;
        try (SubstrateClient client = SubstrateClient.create(config);
                RoomStream stream = RoomStream.create(config);
                RoomStream.Subscription slow =
                        stream.subscribe("room-slow", RoomStream.From.now(), RoomStream.OnFull.END);
                RoomStream.Subscription keeping =
                        stream.subscribe("room-slow", RoomStream.From.now(), RoomStream.OnFull.END)) {
            // The keeping subscriber reads while the events are appended (it keeps up); the slow one never reads.
            java.util.concurrent.CompletableFuture<Void> appending =
                    java.util.concurrent.CompletableFuture.runAsync(() -> {
                        List<java.util.concurrent.CompletableFuture<?>> acks = new ArrayList<>();
                        for (int i = 0; i < events; i++) {
                            acks.add(client.append(log("room-slow", "line " + i)));
                        }
                        acks.forEach(java.util.concurrent.CompletableFuture::join);
                    });
            List<RoomStream.Entry> kept = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (kept.size() < events && System.nanoTime() < deadline) {
                kept.addAll(keeping.poll(Duration.ofMillis(50)));
            }
            appending.join();
            assertThat(kept).hasSize(events);
            assertThat(keeping.isOpen()).isTrue();

            assertThat(slow.isOpen()).isFalse();
            assertThat(slow.endReason()).isEqualTo(RoomStream.EndReason.OVERFLOW);
            List<RoomStream.Entry> buffered = slow.poll(Duration.ofSeconds(1));
            assertThat(buffered).as("what it had read before it ended").hasSize(RoomStream.BUFFER);
            assertThat(buffered)
                    .extracting(RoomStream.Entry::cursor)
                    .containsExactlyElementsOf(kept.subList(0, RoomStream.BUFFER).stream()
                            .map(RoomStream.Entry::cursor)
                            .toList());
            assertThat(slow.poll(Duration.ofMillis(100))).isEmpty();
        }
    }

    @Test
    void aLateSubscriberCatchesUpOnItsOwnConsumerAndJoinsTheLiveOnesWithNothingLostOrTwice(KafkaCluster kafka)
            throws Exception {
        lateSubscriberCatchesUp(kafka, RoomStream.OnFull.WAIT);
    }

    /**
     * As the SSE gateway subscribes: a full buffer ends the subscription. Catching up fills the buffer (its own
     * consumer waits for the subscriber); the handover to the shared reader must not find it full and end a
     * subscriber that keeps up.
     */
    @Test
    void aLateSubscriberThatEndsWhenFullIsNotEndedByItsOwnCatchUp(KafkaCluster kafka) throws Exception {
        lateSubscriberCatchesUp(kafka, RoomStream.OnFull.END);
    }

    private void lateSubscriberCatchesUp(KafkaCluster kafka, RoomStream.OnFull onFull) throws Exception {
        String prefix = "catchup" + UUID.randomUUID().toString().substring(0, 6) + ".";
        SubstrateConfig config = SubstrateConfig.of(
                TestSettings.of(kafka, prefix, dataDir, prefix + "fold", "commit.interval.ms", "50"));
        try (Admin admin = kafka.admin()) {
            TopicSetup.ensure(admin, Topics.from(config), 3, (short) -1);
        }
        try (SubstrateClient client = SubstrateClient.create(config);
                RoomStream stream = RoomStream.create(config)) {
            List<String> rooms = roomsOnOnePartition(stream, 2);
            String history = rooms.get(0);
            String live = rooms.get(1);
            List<java.util.concurrent.CompletableFuture<?>> acks = new ArrayList<>();
            for (int i = 0; i < 3_000; i++) {
                acks.add(client.append(log(history, "before " + i)));
            }
            acks.forEach(java.util.concurrent.CompletableFuture::join);
            try (RoomStream.Subscription follower = stream.subscribe(live, RoomStream.From.now())) {
                // The shared reader is at the head; the late subscriber starts 3,000 events behind it, and
                // more of its room's events arrive while it catches up.
                client.append(log(live, "head")).join();
                assertThat(follower.poll(Duration.ofSeconds(30))).hasSize(1);
                java.util.concurrent.CompletableFuture<Void> more =
                        java.util.concurrent.CompletableFuture.runAsync(() -> {
                            for (int i = 0; i < 500; i++) {
                                client.append(log(history, "during " + i)).join();
                                client.append(log(live, "live " + i));
                            }
                        });
                List<RoomStream.Entry> seen = new ArrayList<>();
                try (RoomStream.Subscription late = stream.subscribe(history, RoomStream.From.after(-1), onFull)) {
                    long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
                    while (seen.size() < 3_500 && System.nanoTime() < deadline) {
                        seen.addAll(late.poll(Duration.ofMillis(200)));
                        if (onFull == RoomStream.OnFull.END) {
                            // A subscriber that keeps up (a full buffer every 20 ms is 50,000 events a second,
                            // a hundred times the live rate) but not at once, as an SSE writer does.
                            Thread.sleep(20);
                        }
                    }
                    more.join();
                    seen.addAll(late.poll(Duration.ofMillis(500)));
                    assertThat(late.isOpen()).as("ended: %s", late.endReason()).isTrue();
                }
                assertThat(seen).hasSize(3_500);
                assertThat(seen).extracting(RoomStream.Entry::cursor).isSorted().doesNotHaveDuplicates();
                assertThat(seen.subList(3_000, 3_500))
                        .extracting(e -> ((LogEmitted) e.event().getPayload()).getMessage())
                        .first()
                        .isEqualTo("during 0");
                List<RoomStream.Entry> followed = new ArrayList<>();
                long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                while (followed.size() < 500 && System.nanoTime() < deadline) {
                    followed.addAll(follower.poll(Duration.ofMillis(200)));
                }
                assertThat(followed)
                        .as("the live room kept its events meanwhile")
                        .hasSize(500);
            }
        }
    }

    @Test
    void aReadOfEverythingSoFarEndsAtThePartitionsEndAndTheReaderWaitsForTheNextClient(KafkaCluster kafka)
            throws Exception {
        String prefix = "caught" + UUID.randomUUID().toString().substring(0, 6) + ".";
        SubstrateConfig config = SubstrateConfig.of(TestSettings.of(kafka, prefix, dataDir, prefix + "fold"));
        try (Admin admin = kafka.admin()) {
            TopicSetup.ensure(admin, Topics.from(config), 3, (short) -1);
        }
        try (SubstrateClient client = SubstrateClient.create(config);
                RoomStream stream = RoomStream.create(config)) {
            List<String> rooms = roomsOnOnePartition(stream, 2);
            for (int i = 0; i < 10; i++) {
                client.append(log(rooms.get(i % 2), "line " + i)).join();
            }
            long end = stream.endOffset(rooms.get(0));

            List<RoomStream.Entry> seen = new ArrayList<>();
            long caughtUpTo;
            try (RoomStream.Subscription subscription = stream.subscribe(rooms.get(0), RoomStream.From.after(-1))) {
                long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                while (true) {
                    long mark = subscription.caughtUpTo();
                    List<RoomStream.Entry> got = subscription.poll(Duration.ofMillis(mark >= 0 ? 0 : 50));
                    seen.addAll(got);
                    if (got.isEmpty() && mark >= 0) {
                        caughtUpTo = mark;
                        break;
                    }
                    assertThat(System.nanoTime()).as("caught up within 30 s").isLessThan(deadline);
                }
            }
            assertThat(caughtUpTo)
                    .as("the partition's end, the other room's events included")
                    .isEqualTo(end);
            assertThat(seen)
                    .hasSize(5)
                    .allSatisfy(entry -> assertThat(entry.event().getRoomId()).isEqualTo(rooms.get(0)));

            // Its reader stays at the partition's end for the next client (a long poll asking again)...
            assertThat(stream.consumers()).isZero();
            assertThat(stream.idleConsumers()).isEqualTo(1);
            try (RoomStream.Subscription again = stream.subscribe(rooms.get(0), RoomStream.From.after(end - 1))) {
                assertThat(stream.consumers()).isEqualTo(1);
                assertThat(stream.idleConsumers()).isZero();
                client.append(log(rooms.get(0), "after")).join();
                List<RoomStream.Entry> next = new ArrayList<>();
                long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                while (next.isEmpty() && System.nanoTime() < deadline) {
                    next.addAll(again.poll(Duration.ofMillis(200)));
                }
                assertThat(next).extracting(RoomStream.Entry::cursor).containsExactly(end);

                // ...and holds its latest records: a subscriber a little behind it starts from them, exactly.
                List<Long> cursors = new ArrayList<>();
                for (int i = 0; i < 20; i++) {
                    cursors.add(client.append(log(rooms.get(0), "more " + i))
                            .join()
                            .position()
                            .offset());
                    client.append(log(rooms.get(1), "other " + i)).join();
                }
                List<RoomStream.Entry> followed = new ArrayList<>();
                while (followed.size() < 20 && System.nanoTime() < deadline) {
                    followed.addAll(again.poll(Duration.ofMillis(200)));
                }
                try (RoomStream.Subscription behind =
                        stream.subscribe(rooms.get(0), RoomStream.From.after(cursors.get(4)))) {
                    List<RoomStream.Entry> rest = new ArrayList<>();
                    while (rest.size() < 15 && System.nanoTime() < deadline) {
                        rest.addAll(behind.poll(Duration.ofMillis(200)));
                    }
                    rest.addAll(behind.poll(Duration.ofMillis(300)));
                    assertThat(rest).extracting(RoomStream.Entry::cursor).isEqualTo(cursors.subList(5, 20));
                }

                // More of its room than a subscription buffers: read on a consumer of its own, not handed over
                // at once (which would end a subscriber that ends when full).
                List<java.util.concurrent.CompletableFuture<dev.substrate.client.Appended>> many = new ArrayList<>();
                for (int i = 0; i < 1_100; i++) {
                    many.add(client.append(log(rooms.get(0), "many " + i)));
                }
                long firstOfMany = many.get(0).join().position().offset();
                many.forEach(java.util.concurrent.CompletableFuture::join);
                List<RoomStream.Entry> drained = new ArrayList<>();
                while (drained.size() < 1_100 && System.nanoTime() < deadline) {
                    drained.addAll(again.poll(Duration.ofMillis(200)));
                }
                try (RoomStream.Subscription longer =
                        stream.subscribe(rooms.get(0), RoomStream.From.after(firstOfMany - 1), RoomStream.OnFull.END)) {
                    Thread.sleep(500); // a subscriber that takes its first events a moment later, as a busy writer does
                    List<RoomStream.Entry> all = new ArrayList<>();
                    while (all.size() < 1_100 && System.nanoTime() < deadline) {
                        all.addAll(longer.poll(Duration.ofMillis(200)));
                    }
                    assertThat(longer.isOpen())
                            .as("ended: %s", longer.endReason())
                            .isTrue();
                    assertThat(all).hasSize(1_100);
                }
            }
        }
    }

    private static List<RoomStream.Entry> read(RoomStream stream, String room, RoomStream.From from, int expected)
            throws InterruptedException {
        List<RoomStream.Entry> seen = new ArrayList<>();
        try (RoomStream.Subscription subscription = stream.subscribe(room, from)) {
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (seen.size() < expected && System.nanoTime() < deadline) {
                seen.addAll(subscription.poll(Duration.ofMillis(500)));
            }
            // Nothing more than expected arrives.
            seen.addAll(subscription.poll(Duration.ofMillis(300)));
        }
        return seen;
    }

    private static List<String> roomsOnOnePartition(RoomStream stream, int count) {
        List<String> rooms = new ArrayList<>();
        int partition = stream.partitionOf("room-0");
        for (int i = 0; rooms.size() < count; i++) {
            String room = "room-" + i;
            if (stream.partitionOf(room) == partition) {
                rooms.add(room);
            }
        }
        return rooms;
    }

    private static RoomEvent log(String room, String message) {
        return SampleEvents.roomEvent(room, new LogEmitted(LogLevel.info, message));
    }
}
