package dev.substrate.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.substrate.event.InvalidEvent;
import dev.substrate.event.WireCodec;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.events.room.TextDelta;
import dev.substrate.events.run.Activation;
import dev.substrate.events.run.ActivationSurface;
import dev.substrate.events.run.RunCreated;
import dev.substrate.events.run.RunEvent;
import dev.substrate.events.run.RunLabelled;
import dev.substrate.events.run.RunScope;
import dev.substrate.events.run.RunStarted;
import dev.substrate.testing.KafkaCluster;
import dev.substrate.testing.SampleEvents;
import dev.substrate.testing.SharedKafka;
import dev.substrate.topic.TopicSetup;
import dev.substrate.topic.Topics;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** Appends through a real broker with the client, read back with a plain KafkaConsumer. */
@ExtendWith(SharedKafka.class)
@Timeout(120)
class SubstrateClientIT {

    /** The released schemas as committed, read from the source tree rather than the classpath. */
    private static final Path RELEASED =
            Path.of("..", "schemas", "src", "main", "resources", "dev", "substrate", "schemas", "released");

    private KafkaCluster kafka;
    private Topics topics;

    @BeforeEach
    void setUpTopics(KafkaCluster kafka) {
        this.kafka = kafka;
        String prefix = "c" + UUID.randomUUID().toString().substring(0, 8) + ".";
        topics = new Topics(prefix, 1024 * 1024);
        try (Admin admin = kafka.admin()) {
            TopicSetup.ensure(admin, topics, 3, (short) -1);
        }
    }

    @Test
    void everyEventTypeLandsKeyedByEntityIdWithTheReleasedSchemaFingerprint() throws Exception {
        List<CompletableFuture<Appended>> appends = new ArrayList<>();
        try (SubstrateClient client = client()) {
            SampleEvents.runPayloads().forEach(p -> appends.add(client.append(SampleEvents.runEvent("run-a", p))));
            SampleEvents.roomPayloads().forEach(p -> appends.add(client.append(SampleEvents.roomEvent("room-a", p))));
            SampleEvents.artifactPayloads()
                    .forEach(p -> appends.add(client.append(SampleEvents.artifactEvent("artifact-a", p))));
            CompletableFuture.allOf(appends.toArray(CompletableFuture[]::new)).join();
        }

        List<ConsumerRecord<String, byte[]>> runs = readAll(topics.runEvents().name(), 9);
        List<ConsumerRecord<String, byte[]>> rooms = readAll(topics.roomEvents().name(), 15);
        List<ConsumerRecord<String, byte[]>> artifacts =
                readAll(topics.artifactEvents().name(), 3);

        assertThat(runs).hasSize(9).allSatisfy(r -> assertThat(r.key()).isEqualTo("run-a"));
        assertThat(rooms).hasSize(15).allSatisfy(r -> assertThat(r.key()).isEqualTo("room-a"));
        assertThat(artifacts).hasSize(3).allSatisfy(r -> assertThat(r.key()).isEqualTo("artifact-a"));
        assertHeader(runs, releasedFingerprint("run-event"));
        assertHeader(rooms, releasedFingerprint("room-event"));
        assertHeader(artifacts, releasedFingerprint("artifact-event"));
        assertThat(runs.stream().map(r -> WireCodec.RUN.decode(r.value()).getPayload()))
                .containsExactlyElementsOf(SampleEvents.runPayloads());
        assertThat(rooms.stream().map(r -> WireCodec.ROOM.decode(r.value()).getPayload()))
                .containsExactlyElementsOf(SampleEvents.roomPayloads());
        assertThat(runs.get(1)
                        .headers()
                        .lastHeader(SubstrateClient.EVENT_TYPE_HEADER)
                        .value())
                .asString(StandardCharsets.UTF_8)
                .isEqualTo("RunStarted");
    }

    @Test
    void typedCallsReturnTheAcknowledgedPositionsInOrder() {
        List<Appended> appended = new ArrayList<>();
        try (SubstrateClient client = client()) {
            Appended created = client.createRun(null, created()).join();
            appended.add(created);
            appended.add(client.startRun(
                            created.entityId(),
                            new RunStarted(null),
                            AppendOptions.none()
                                    .withExpectedVersion(1)
                                    .withActor("svc:runner")
                                    .withCorrelation("work-9", created.eventId(), null))
                    .join());
        }

        assertThat(appended.get(0).entityId()).startsWith("run-");
        assertThat(appended.get(1).entityId()).isEqualTo(appended.get(0).entityId());
        assertThat(appended.get(1).position().partition())
                .isEqualTo(appended.get(0).position().partition());
        assertThat(appended.get(1).position().offset())
                .isGreaterThan(appended.get(0).position().offset());

        List<ConsumerRecord<String, byte[]>> records =
                readAll(topics.runEvents().name(), 2);
        RunEvent started = WireCodec.RUN.decode(records.get(1).value());
        assertThat(started.getEventId()).isEqualTo(appended.get(1).eventId());
        assertThat(started.getExpectedVersion()).isEqualTo(1L);
        assertThat(started.getActor()).isEqualTo("svc:runner");
        assertThat(started.getCorrelation().getCausationId())
                .isEqualTo(appended.get(0).eventId());
        assertThat(records.get(1).offset()).isEqualTo(appended.get(1).position().offset());
    }

    /**
     * The first appends to a topic go through the sender thread (the producer has no metadata yet); once one is
     * acknowledged, a caller with nothing queued sends on its own thread. Several threads appending at once without
     * waiting mix both ways, and each thread's events still reach the log in the order it appended them.
     */
    @Test
    void eachThreadsAppendsReachTheLogInItsOrderWhicheverThreadHandsThemToKafka() throws Exception {
        int threads = 4;
        int perThread = 500;
        try (SubstrateClient client = client()) {
            List<CompletableFuture<Void>> writers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                String runId = "run-order-" + t;
                writers.add(CompletableFuture.runAsync(() -> {
                    List<CompletableFuture<Appended>> appends = new ArrayList<>();
                    for (int i = 0; i < perThread; i++) {
                        appends.add(client.append(SampleEvents.runEvent(
                                runId, SampleEvents.labelled(Map.of("seq", Integer.toString(i))))));
                        if (i % 50 == 0) {
                            Thread.yield();
                        }
                    }
                    CompletableFuture.allOf(appends.toArray(CompletableFuture[]::new))
                            .join();
                }));
            }
            CompletableFuture.allOf(writers.toArray(CompletableFuture[]::new)).join();
        }
        Map<String, List<Integer>> order = new TreeMap<>();
        for (ConsumerRecord<String, byte[]> record : readAll(topics.runEvents().name(), threads * perThread)) {
            RunEvent event = WireCodec.RUN.decode(record.value());
            RunLabelled labelled = (RunLabelled) event.getPayload();
            order.computeIfAbsent(record.key(), key -> new ArrayList<>())
                    .add(Integer.parseInt(labelled.getLabels().get("seq")));
        }
        assertThat(order).hasSize(threads);
        for (List<Integer> sequence : order.values()) {
            assertThat(sequence).hasSize(perThread).isSorted();
        }
    }

    @Test
    void anAppendAfterCloseFailsAsClosedAndWritesNothing() {
        SubstrateClient client = client();
        client.append(SampleEvents.runEvent("run-closed", SampleEvents.created()))
                .join();
        client.close();
        assertThatThrownBy(() -> client.append(SampleEvents.runEvent("run-closed", SampleEvents.started())))
                .isInstanceOf(ClientClosed.class);
        assertThat(readAll(topics.runEvents().name(), 1)).hasSize(1);
    }

    @Test
    void anInvalidCallThrowsNamingTheFieldAndWritesNothing() {
        try (SubstrateClient client = client()) {
            assertThatThrownBy(() -> client.startRun("bad id!", new RunStarted(null)))
                    .isInstanceOfSatisfying(
                            InvalidEvent.class, e -> assertThat(e.field()).isEqualTo("runId"));
            assertThatThrownBy(() -> client.appendText("room-1", new TextDelta("block 1", "x")))
                    .isInstanceOfSatisfying(
                            InvalidEvent.class, e -> assertThat(e.field()).isEqualTo("payload.blockId"));
            assertThatThrownBy(() -> client.startRun("run-1", null))
                    .isInstanceOfSatisfying(
                            InvalidEvent.class, e -> assertThat(e.field()).isEqualTo("payload"));
            // A marker event after the refused ones: the log holds it and nothing else.
            client.createRun("run-marker", created()).join();
        }

        assertThat(readAll(topics.runEvents().name(), 1))
                .singleElement()
                .satisfies(r -> assertThat(r.key()).isEqualTo("run-marker"));
        assertThat(readAll(topics.roomEvents().name(), 0)).isEmpty();
    }

    @Test
    void refusesAnEventOverTheSizeLimitBeforeWriting() {
        try (SubstrateClient client = SubstrateClient.builder()
                .kafkaProperties(Map.of("bootstrap.servers", kafka.bootstrapServers()))
                .topicPrefix(prefix())
                .maxEventBytes(4096)
                .build()) {
            RoomEvent big = SampleEvents.roomEvent("room-big", new TextDelta("block-1", "x".repeat(5000)));

            assertThatThrownBy(() -> client.append(big))
                    .isInstanceOfSatisfying(
                            InvalidEvent.class, e -> assertThat(e.field()).isEqualTo("event"));
        }
        assertThat(readAll(topics.roomEvents().name(), 0)).isEmpty();
    }

    @Test
    void refusesProducerSettingsThatWouldWeakenDurability() {
        assertThatThrownBy(() -> SubstrateClient.builder()
                        .kafkaProperty("bootstrap.servers", kafka.bootstrapServers())
                        .kafkaProperty("acks", "1")
                        .build())
                .hasMessageContaining("acks=all");
    }

    private SubstrateClient client() {
        return SubstrateClient.builder()
                .kafkaProperty("bootstrap.servers", kafka.bootstrapServers())
                .topicPrefix(prefix())
                .build();
    }

    private String prefix() {
        return topics.runEvents().name().substring(0, topics.runEvents().name().length() - "run-events".length());
    }

    private static RunCreated created() {
        return RunCreated.newBuilder()
                .setScope(RunScope.shared)
                .setProject("project:acme/web")
                .setActivation(new Activation(ActivationSurface.automation, "nightly"))
                .build();
    }

    /** The fingerprint of the envelope's latest released version: the one this build writes. */
    private static long releasedFingerprint(String envelope) throws Exception {
        int latest = 1;
        while (Files.exists(RELEASED.resolve(envelope).resolve("v" + (latest + 1) + ".avsc"))) {
            latest++;
        }
        Schema schema = new Schema.Parser()
                .parse(Files.readString(RELEASED.resolve(envelope).resolve("v" + latest + ".avsc")));
        return SchemaNormalization.parsingFingerprint64(schema);
    }

    private static void assertHeader(List<ConsumerRecord<String, byte[]>> records, long fingerprint) {
        for (ConsumerRecord<String, byte[]> record : records) {
            byte[] value = record.value();
            assertThat(Arrays.copyOf(value, 2)).containsExactly(0xC3, 0x01);
            long inHeader = 0;
            for (int i = 9; i >= 2; i--) {
                inHeader = (inHeader << 8) | (value[i] & 0xFF);
            }
            assertThat(inHeader).as("little-endian fingerprint in the header").isEqualTo(fingerprint);
        }
    }

    private List<ConsumerRecord<String, byte[]>> readAll(String topic, int expected) {
        Properties props = kafka.clientProperties();
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "reader-" + UUID.randomUUID());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer =
                new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime()
                    + Duration.ofSeconds(expected == 0 ? 3 : 30).toNanos();
            while ((expected == 0 || records.size() < expected) && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
        }
        records.sort((a, b) -> a.partition() != b.partition()
                ? Integer.compare(a.partition(), b.partition())
                : Long.compare(a.offset(), b.offset()));
        return records;
    }
}
