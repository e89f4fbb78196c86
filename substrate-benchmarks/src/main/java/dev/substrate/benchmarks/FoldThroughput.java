package dev.substrate.benchmarks;

import dev.substrate.client.SubstrateClient;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.events.room.BlockCompleted;
import dev.substrate.events.room.BlockStarted;
import dev.substrate.events.room.RoomCreated;
import dev.substrate.events.room.RoomKind;
import dev.substrate.events.room.StreamMode;
import dev.substrate.events.room.TextDelta;
import dev.substrate.events.run.RunStarted;
import dev.substrate.kafka.embedded.EmbeddedKafka;
import dev.substrate.streams.SubstrateFold;
import dev.substrate.testing.SampleEvents;
import dev.substrate.topic.TopicSetup;
import dev.substrate.topic.Topics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * How fast the fold decides a backlog: appends N events (half run events, half room stream events) to an
 * embedded broker, then starts the fold and times it until its committed offsets reach the end of the logs.
 * Prints events/s; asserts nothing. Run with
 *
 * <pre>
 * java -cp substrate-benchmarks/target/benchmarks.jar dev.substrate.benchmarks.FoldThroughput [events [key=value...]]
 * </pre>
 */
public final class FoldThroughput {

    private FoldThroughput() {}

    public static void main(String[] args) throws Exception {
        int events = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
        Path dataDir = Files.createTempDirectory("substrate-fold-bench-");
        try (EmbeddedKafka kafka = EmbeddedKafka.builder().dataDir(dataDir).start()) {
            Map<String, String> settings = new HashMap<>(Map.of(
                    "bootstrap.servers", kafka.bootstrapServers(),
                    "data.dir", dataDir.toString(),
                    "topic.partitions", "6"));
            for (int i = 1; i < args.length; i++) {
                String[] setting = args[i].split("=", 2);
                settings.put(setting[0], setting[1]);
            }
            SubstrateConfig config = SubstrateConfig.of(settings);
            System.out.println("settings: " + settings);
            Topics topics = Topics.from(config);
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
                TopicSetup.ensure(admin, topics, config.topicPartitions(), (short) -1);
            }
            long appendStart = System.nanoTime();
            try (SubstrateClient client = SubstrateClient.create(config)) {
                List<CompletableFuture<?>> acks = new ArrayList<>();
                int runs = events / 4;
                for (int i = 0; i < runs; i++) {
                    acks.add(client.append(SampleEvents.runEvent(
                            "run-" + i, SampleEvents.runPayloads().get(0))));
                    acks.add(client.append(SampleEvents.runEvent("run-" + i, new RunStarted(null))));
                }
                int rooms = Math.max(1, events / 200);
                for (int r = 0; r < rooms; r++) {
                    String roomId = "room-" + r;
                    acks.add(client.append(SampleEvents.roomEvent(
                            roomId,
                            RoomCreated.newBuilder()
                                    .setKind(RoomKind.session)
                                    .setProject("project:bench")
                                    .setStream(StreamMode.durable)
                                    .build())));
                    for (int b = 0; b < 33; b++) {
                        String blockId = "b" + b;
                        acks.add(client.append(SampleEvents.roomEvent(
                                roomId,
                                BlockStarted.newBuilder()
                                        .setBlockId(blockId)
                                        .setKind("text")
                                        .build())));
                        acks.add(client.append(SampleEvents.roomEvent(roomId, new TextDelta(blockId, "tokens "))));
                        acks.add(client.append(SampleEvents.roomEvent(roomId, new BlockCompleted(blockId, null))));
                    }
                }
                CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).join();
                events = acks.size();
            }
            double appendSeconds = (System.nanoTime() - appendStart) / 1e9;
            System.out.printf(
                    "appended %d events in %.1f s (%.0f events/s)%n", events, appendSeconds, events / appendSeconds);

            long foldStart = System.nanoTime();
            try (SubstrateFold fold = SubstrateFold.start(config);
                    Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
                List<String> logs =
                        List.of(topics.runEvents().name(), topics.roomEvents().name());
                while (lag(admin, fold.applicationId(), logs) > 0) {
                    Thread.sleep(200); // a benchmark's polling loop, not a test
                }
                double foldSeconds = (System.nanoTime() - foldStart) / 1e9;
                System.out.printf(
                        "folded %d events exactly once in %.1f s (%.0f events/s, including start-up and the "
                                + "first rebalance)%n",
                        events, foldSeconds, events / foldSeconds);
                long written = recordsWritten(admin, fold.applicationId() + "-", topics);
                System.out.printf(
                        "the fold wrote %d records (changelogs, state topics, rejections): %.1f per event%n",
                        written, (double) written / events);
            }
        }
    }

    /** Records in the fold's changelogs and output topics (end offsets; no compaction has run yet). */
    private static long recordsWritten(Admin admin, String changelogPrefix, Topics topics) throws Exception {
        List<String> outputs = new ArrayList<>();
        for (String topic : admin.listTopics().names().get()) {
            if (topic.startsWith(changelogPrefix)
                    || topic.equals(topics.runs().name())
                    || topic.equals(topics.rooms().name())
                    || topic.equals(topics.rejections().name())) {
                outputs.add(topic);
            }
        }
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        admin.describeTopics(outputs)
                .allTopicNames()
                .get()
                .forEach((topic, d) -> d.partitions()
                        .forEach(p -> latest.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest())));
        long total = 0;
        for (var end : admin.listOffsets(latest).all().get().values()) {
            total += end.offset();
        }
        return total;
    }

    private static long lag(Admin admin, String group, List<String> logs) throws Exception {
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        admin.describeTopics(logs)
                .allTopicNames()
                .get()
                .forEach((topic, d) -> d.partitions()
                        .forEach(p -> latest.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest())));
        Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                .partitionsToOffsetAndMetadata()
                .get();
        long lag = 0;
        for (var end : admin.listOffsets(latest).all().get().entrySet()) {
            OffsetAndMetadata done = committed.get(end.getKey());
            lag += end.getValue().offset() - (done == null ? 0 : done.offset());
        }
        return lag;
    }
}
