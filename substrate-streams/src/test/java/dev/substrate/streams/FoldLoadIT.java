package dev.substrate.streams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.substrate.SubstrateException;
import dev.substrate.client.SubstrateClient;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.event.EventValidator;
import dev.substrate.event.WireCodec;
import dev.substrate.events.artifact.ArtifactEvent;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.events.run.RunEvent;
import dev.substrate.fold.InMemoryFold;
import dev.substrate.state.ArtifactState;
import dev.substrate.state.Outcome;
import dev.substrate.state.RoomState;
import dev.substrate.state.RunState;
import dev.substrate.state.RunStatus;
import dev.substrate.streams.internal.StoreNames;
import dev.substrate.testing.KafkaCluster;
import dev.substrate.testing.SharedKafka;
import dev.substrate.testing.TestRecords;
import dev.substrate.testing.TestSettings;
import dev.substrate.topic.TopicSetup;
import dev.substrate.topic.Topics;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * 100,000 mixed events appended with the client through a real broker and folded exactly once by the real
 * application: the stores hold exact counts, and exactly the states the pure fold derives from the same log.
 */
@ExtendWith(SharedKafka.class)
@Timeout(600)
class FoldLoadIT {

    private static final Logger log = LoggerFactory.getLogger(FoldLoadIT.class);

    @TempDir
    Path dataDir;

    @Test
    void foldsOneHundredThousandEventsIntoExactState(KafkaCluster kafka) throws Exception {
        String prefix = "load" + UUID.randomUUID().toString().substring(0, 6) + ".";
        // The workload's sessions closed at a fixed past time: kept here, or a fold slower than the first cleanup (a
        // minute) would expire them while it is counted.
        SubstrateConfig config = SubstrateConfig.of(TestSettings.of(
                kafka, prefix, dataDir, prefix + "fold", "session.retention.ms", Long.toString(Long.MAX_VALUE / 4)));
        Topics topics = Topics.from(config);
        try (Admin admin = kafka.admin()) {
            TopicSetup.ensure(admin, topics, 3, (short) -1);
        }
        Workload workload = Workload.of(1202);
        assertThat(workload.events.size()).isGreaterThanOrEqualTo(100_000);

        long appendStart = System.nanoTime();
        try (SubstrateClient client = SubstrateClient.create(config)) {
            List<CompletableFuture<?>> acks = new ArrayList<>();
            for (Object event : workload.events) {
                acks.add(appendRetrying(client, event, 3));
            }
            CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).join();
        }
        double appendSeconds = (System.nanoTime() - appendStart) / 1e9;

        long foldStart = System.nanoTime();
        try (SubstrateFold fold = SubstrateFold.start(config);
                Admin admin = kafka.admin()) {
            FoldProgress.awaitCaughtUp(
                    admin,
                    fold.applicationId(),
                    List.of(
                            topics.runEvents().name(),
                            topics.roomEvents().name(),
                            topics.artifactEvents().name()),
                    Duration.ofMinutes(8));
            double foldSeconds = (System.nanoTime() - foldStart) / 1e9;
            log.info(
                    "Appended {} events in {} s ({} events/s); folded them exactly once in {} s ({} events/s)",
                    workload.events.size(),
                    String.format("%.1f", appendSeconds),
                    Math.round(workload.events.size() / appendSeconds),
                    String.format("%.1f", foldSeconds),
                    Math.round(workload.events.size() / foldSeconds));
            await().atMost(Duration.ofMinutes(1)).until(fold::isRunning);

            Map<String, RunState> runs = all(fold.streams(), StoreNames.RUNS);
            Map<String, RoomState> rooms = all(fold.streams(), StoreNames.ROOMS);
            Map<String, ArtifactState> artifacts = all(fold.streams(), StoreNames.ARTIFACTS);

            assertThat(runs).hasSize(workload.runs);
            assertThat(runs.values().stream().filter(r -> r.getStatus() == RunStatus.succeeded))
                    .hasSize(workload.succeeded);
            assertThat(runs.values().stream().filter(r -> r.getStatus() == RunStatus.failed))
                    .hasSize(workload.failed);
            assertThat(runs.values()).allSatisfy(r -> assertThat(r.getVersion()).isEqualTo(6));
            assertThat(rooms).hasSize(workload.rooms);
            assertThat(rooms.values()).allSatisfy(r -> {
                assertThat(r.getCounters().getBlocks()).isEqualTo(3);
                assertThat(r.getClosed()).isTrue();
            });
            assertThat(artifacts).hasSize(workload.artifacts - workload.deletedArtifacts);

            InMemoryFold reference = foldLog(kafka, topics);
            assertThat(new TreeMap<>(runs)).isEqualTo(new TreeMap<>(reference.runs()));
            assertThat(new TreeMap<>(rooms)).isEqualTo(new TreeMap<>(reference.rooms()));
            assertThat(new TreeMap<>(artifacts)).isEqualTo(new TreeMap<>(reference.artifacts()));
            assertThat(reference.outcomes().values().stream().filter(o -> o.getOutcome() == Outcome.rejected))
                    .hasSize(workload.refusals);
        }
    }

    /**
     * Appends {@code event}, sending it again (same event id, so the fold applies it once) when Kafka's answer
     * says a retry may help: what the client's contract asks of a caller, and what keeps a slow moment of a
     * shared CI machine (a delivery timeout) from failing a test about the fold.
     */
    static CompletableFuture<?> appendRetrying(SubstrateClient client, Object event, int attempts) {
        return append(client, event)
                .<CompletableFuture<?>>handle((done, error) -> {
                    Throwable cause = error instanceof CompletionException ? error.getCause() : error;
                    if (cause == null) {
                        return CompletableFuture.completedFuture(done);
                    }
                    if (attempts > 1 && cause instanceof SubstrateException failed && failed.isRetriable()) {
                        log.warn("Appending again after a retriable failure: {}", cause.getMessage());
                        return appendRetrying(client, event, attempts - 1);
                    }
                    return CompletableFuture.failedFuture(cause);
                })
                .thenCompose(next -> next);
    }

    static CompletableFuture<?> append(SubstrateClient client, Object event) {
        if (event instanceof RunEvent run) {
            return client.append(run);
        }
        if (event instanceof RoomEvent room) {
            return client.append(room);
        }
        return client.append((ArtifactEvent) event);
    }

    @SuppressWarnings("unchecked")
    static <V> Map<String, V> all(KafkaStreams streams, String store) {
        ReadOnlyKeyValueStore<String, V> view = (ReadOnlyKeyValueStore<String, V>) (ReadOnlyKeyValueStore<?, ?>)
                streams.store(StoreQueryParameters.fromNameAndType(store, QueryableStoreTypes.keyValueStore()));
        Map<String, V> entries = new HashMap<>();
        try (var range = view.all()) {
            range.forEachRemaining(entry -> entries.put(entry.key, entry.value));
        }
        return entries;
    }

    /** Reads the three logs back and folds them with the pure fold, record by record. */
    static InMemoryFold foldLog(KafkaCluster kafka, Topics topics) {
        InMemoryFold reference = new InMemoryFold(new EventValidator(1024 * 1024, Clock.systemUTC()));
        for (ConsumerRecord<String, byte[]> record :
                TestRecords.readAll(kafka, topics.runEvents().name())) {
            reference.apply(WireCodec.RUN.decode(record.value()), record.partition(), record.offset(), time(record));
        }
        for (ConsumerRecord<String, byte[]> record :
                TestRecords.readAll(kafka, topics.roomEvents().name())) {
            reference.apply(WireCodec.ROOM.decode(record.value()), record.partition(), record.offset(), time(record));
        }
        for (ConsumerRecord<String, byte[]> record :
                TestRecords.readAll(kafka, topics.artifactEvents().name())) {
            reference.apply(
                    WireCodec.ARTIFACT.decode(record.value()), record.partition(), record.offset(), time(record));
        }
        return reference;
    }

    private static Instant time(ConsumerRecord<?, ?> record) {
        return Instant.ofEpochMilli(record.timestamp());
    }
}
