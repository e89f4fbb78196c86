package dev.substrate.streams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.substrate.config.SubstrateConfig;
import dev.substrate.event.EventValidator;
import dev.substrate.event.UndecodableRecord;
import dev.substrate.event.WireCodec;
import dev.substrate.events.room.RoomKind;
import dev.substrate.events.room.StreamMode;
import dev.substrate.events.run.RunEvent;
import dev.substrate.fold.InMemoryFold;
import dev.substrate.state.ArtifactState;
import dev.substrate.state.EventOutcome;
import dev.substrate.state.Outcome;
import dev.substrate.state.RoomState;
import dev.substrate.state.RunState;
import dev.substrate.streams.internal.StoreNames;
import dev.substrate.testing.KafkaCluster;
import dev.substrate.testing.SampleEvents;
import dev.substrate.testing.SharedKafka;
import dev.substrate.testing.TestRecords;
import dev.substrate.testing.TestSettings;
import dev.substrate.topic.TopicSetup;
import dev.substrate.topic.Topics;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.BiConsumer;
import java.util.function.Function;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Garbage written straight to the three log topics, between valid events, while the fold runs: bytes that are
 * not Avro, unknown schema fingerprints, truncated Avro, empty and null values, and well-formed events the rules
 * refuse. The unreadable ones (null values included) land in the dead-letter topic, the refused ones are recorded as rejected, the fold
 * never stops, and its state is exactly the pure fold of the readable records.
 */
@ExtendWith(SharedKafka.class)
@Timeout(300)
class PoisonRecordsIT {

    private static final Logger log = LoggerFactory.getLogger(PoisonRecordsIT.class);
    private static final int ROUNDS = 40;

    @TempDir
    Path dataDir;

    @Test
    void unreadableRecordsAreDeadLetteredRefusedOnesRejectedAndTheFoldGoesOn(KafkaCluster kafka) throws Exception {
        String prefix = "poison" + UUID.randomUUID().toString().substring(0, 6) + ".";
        SubstrateConfig config = SubstrateConfig.of(
                TestSettings.of(kafka, prefix, dataDir, prefix + "fold", "commit.interval.ms", "100"));
        Topics topics = Topics.from(config);
        try (Admin admin = kafka.admin()) {
            TopicSetup.ensure(admin, topics, 3, (short) -1);
        }
        Random random = new Random(20261121);
        Map<String, Integer> sent = new TreeMap<>();
        int unreadable = 0;
        int refused = 0;
        try (SubstrateFold fold = SubstrateFold.start(config);
                KafkaProducer<String, byte[]> producer = new KafkaProducer<>(
                        kafka.clientProperties(), new StringSerializer(), new ByteArraySerializer())) {
            List<String> logs = List.of(
                    topics.runEvents().name(),
                    topics.roomEvents().name(),
                    topics.artifactEvents().name());
            for (int round = 0; round < ROUNDS; round++) {
                String runId = "run-" + round;
                // A valid run created and started: it must be in the state however much garbage surrounds it.
                send(
                        producer,
                        topics.runEvents().name(),
                        runId,
                        WireCodec.RUN.encode(SampleEvents.run(runId, SampleEvents.created())));
                String topic = logs.get(round % logs.size());
                byte[] valid = validEvent(topics, topic, round);

                byte[] noise = new byte[random.nextInt(300)];
                random.nextBytes(noise);
                send(producer, topic, "poison-" + round, noise);
                sent.merge("random bytes", 1, Integer::sum);

                byte[] unknownSchema = valid.clone();
                for (int i = 2; i < 10; i++) {
                    unknownSchema[i] = (byte) random.nextInt(256); // the schema fingerprint
                }
                send(producer, topic, "poison-" + round, unknownSchema);
                sent.merge("unknown fingerprint", 1, Integer::sum);

                send(producer, topic, "poison-" + round, Arrays.copyOf(valid, 10 + random.nextInt(valid.length - 11)));
                sent.merge("truncated Avro", 1, Integer::sum);

                send(producer, topic, "poison-" + round, new byte[0]);
                sent.merge("empty value", 1, Integer::sum);
                send(producer, topic, "poison-" + round, null);
                sent.merge("null value", 1, Integer::sum);
                unreadable += 5;

                // Well formed, but refused by the rules: a label key with spaces, a negative expected version,
                // a transition of a run that does not exist, and a second RunCreated.
                RunEvent badLabel = SampleEvents.run(runId, SampleEvents.labelled(Map.of("not a key!", "v")));
                RunEvent badVersion = SampleEvents.run(runId, SampleEvents.started(), -5);
                RunEvent orphan = SampleEvents.run("missing-" + round, SampleEvents.started());
                RunEvent again = SampleEvents.run(runId, SampleEvents.created());
                for (RunEvent event : List.of(badLabel, badVersion, orphan, again)) {
                    send(producer, topics.runEvents().name(), event.getRunId(), WireCodec.RUN.encode(event));
                }
                sent.merge("refused by the rules", 4, Integer::sum);
                refused += 4;

                send(
                        producer,
                        topics.runEvents().name(),
                        runId,
                        WireCodec.RUN.encode(SampleEvents.run(runId, SampleEvents.started())));
            }
            producer.flush();
            log.info("Sent {} rounds: {}", ROUNDS, sent);

            try (Admin admin = kafka.admin()) {
                FoldProgress.awaitCaughtUp(admin, fold.applicationId(), logs, Duration.ofMinutes(3));
            }
            await().atMost(Duration.ofMinutes(1)).until(fold::isRunning);

            Map<String, RunState> runs = FoldLoadIT.all(fold.streams(), StoreNames.RUNS);
            for (int round = 0; round < ROUNDS; round++) {
                assertThat(runs.get("run-" + round)).as("run-" + round).isNotNull();
                assertThat(runs.get("run-" + round).getStatus().name()).isEqualTo("running");
            }

            Reference reference = reference(kafka, topics);
            assertThat(reference.unreadable).isEqualTo(unreadable);
            assertThat(new TreeMap<>(runs)).isEqualTo(new TreeMap<>(reference.fold.runs()));
            Map<String, RoomState> rooms = FoldLoadIT.all(fold.streams(), StoreNames.ROOMS);
            assertThat(new TreeMap<>(rooms)).isEqualTo(new TreeMap<>(reference.fold.rooms()));
            Map<String, ArtifactState> artifacts = FoldLoadIT.all(fold.streams(), StoreNames.ARTIFACTS);
            assertThat(new TreeMap<>(artifacts)).isEqualTo(new TreeMap<>(reference.fold.artifacts()));

            Map<String, Long> rejections = new TreeMap<>();
            reference.fold.outcomes().values().stream()
                    .filter(outcome -> outcome.getOutcome() == Outcome.rejected)
                    .forEach(outcome -> rejections.merge(outcome.getReason(), 1L, Long::sum));
            assertThat(rejections.values().stream().mapToLong(Long::longValue).sum())
                    .isEqualTo(refused);
            Map<String, EventOutcome> outcomes = FoldLoadIT.all(fold.streams(), StoreNames.RUN_EVENT_OUTCOMES);
            long rejectedInState = outcomes.values().stream()
                    .filter(outcome -> outcome.getOutcome() == Outcome.rejected)
                    .count();
            assertThat(rejectedInState).isEqualTo(refused);

            List<ConsumerRecord<String, byte[]>> deadLetters =
                    TestRecords.readAll(kafka, topics.deadLetters().name());
            assertThat(deadLetters.size()).isEqualTo(unreadable);
            assertThat(deadLetters)
                    .allSatisfy(record -> assertThat(record.headers().lastHeader("__streams.errors.exception"))
                            .isNotNull());
            log.info(
                    "Fold still running; {} runs applied; {} unreadable records dead-lettered; {} refused events"
                            + " rejected {}",
                    runs.size(),
                    deadLetters.size(),
                    rejectedInState,
                    rejections);
        }
    }

    /** A valid event of the kind {@code topic} carries, whose bytes the poison is made from. */
    private static byte[] validEvent(Topics topics, String topic, int round) {
        if (topic.equals(topics.runEvents().name())) {
            return WireCodec.RUN.encode(SampleEvents.run("other-" + round, SampleEvents.created()));
        }
        if (topic.equals(topics.roomEvents().name())) {
            return WireCodec.ROOM.encode(
                    SampleEvents.room("room-" + round, SampleEvents.roomCreated(RoomKind.session, StreamMode.durable)));
        }
        return WireCodec.ARTIFACT.encode(SampleEvents.artifact("artifact-" + round, SampleEvents.registered()));
    }

    private static void send(KafkaProducer<String, byte[]> producer, String topic, String key, byte[] value) {
        producer.send(new ProducerRecord<>(topic, key, value));
    }

    /** The pure fold of every readable record of the three logs, and how many were unreadable. */
    private static Reference reference(KafkaCluster kafka, Topics topics) {
        InMemoryFold fold = new InMemoryFold(new EventValidator(1024 * 1024, Clock.systemUTC()));
        int unreadable = 0;
        unreadable += replay(
                kafka,
                topics.runEvents().name(),
                WireCodec.RUN::decode,
                (event, record) -> fold.apply(
                        event, record.partition(), record.offset(), Instant.ofEpochMilli(record.timestamp())));
        unreadable += replay(
                kafka,
                topics.roomEvents().name(),
                WireCodec.ROOM::decode,
                (event, record) -> fold.apply(
                        event, record.partition(), record.offset(), Instant.ofEpochMilli(record.timestamp())));
        unreadable += replay(
                kafka,
                topics.artifactEvents().name(),
                WireCodec.ARTIFACT::decode,
                (event, record) -> fold.apply(
                        event, record.partition(), record.offset(), Instant.ofEpochMilli(record.timestamp())));
        return new Reference(fold, unreadable);
    }

    private static <E> int replay(
            KafkaCluster kafka,
            String topic,
            Function<byte[], E> decode,
            BiConsumer<E, ConsumerRecord<String, byte[]>> apply) {
        int unreadable = 0;
        for (ConsumerRecord<String, byte[]> record : TestRecords.readAll(kafka, topic)) {
            E event;
            try {
                event = decode.apply(record.value());
            } catch (UndecodableRecord e) {
                unreadable++;
                continue;
            }
            apply.accept(event, record);
        }
        return unreadable;
    }

    private record Reference(InMemoryFold fold, int unreadable) {}
}
