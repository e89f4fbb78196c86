package dev.substrate.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.substrate.client.SubstrateClient;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.config.TopicSettings;
import dev.substrate.event.Wire;
import dev.substrate.event.WireCodec;
import dev.substrate.events.run.RunEvent;
import dev.substrate.schemas.WireSchema;
import dev.substrate.state.Rejection;
import dev.substrate.state.RunState;
import dev.substrate.state.RunStatus;
import dev.substrate.streams.SubstrateFold;
import dev.substrate.testing.KafkaCluster;
import dev.substrate.testing.SampleEvents;
import dev.substrate.testing.SchemaRegistry;
import dev.substrate.testing.SchemaRegistry.Registry;
import dev.substrate.testing.SharedKafka;
import dev.substrate.testing.TcpProxy;
import dev.substrate.testing.TestRecords;
import dev.substrate.testing.TestSettings;
import dev.substrate.topic.TopicSetup;
import dev.substrate.topic.Topics;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fold reads both wire formats: a log holding records of both folds to the state of a log of one; a record
 * naming a schema id the registry does not know is dead-lettered with that reason and the fold goes on; and an
 * event a producer put on another partition than Kafka's partitioner would (kcat's default) is refused, never
 * folded into a second copy of its entity; and a registry that goes away after start stops neither appends nor the
 * fold of known ids, while a record of an id not seen before waits for it (holding its stream thread) and is then
 * folded, never dead-lettered.
 */
@ExtendWith({SharedKafka.class, SchemaRegistry.class})
@Timeout(600)
class MixedWireFormatsIT {

    private static final int PARTITIONS = 3;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dataDir;

    @Test
    void aLogOfBothFormatsFoldsToTheStateOfALogOfOne(KafkaCluster kafka, Registry registry) throws Exception {
        String mixedPrefix = "mix" + UUID.randomUUID().toString().substring(0, 6) + ".";
        String plainPrefix = "one" + UUID.randomUUID().toString().substring(0, 6) + ".";
        SubstrateConfig mixed = config(kafka, mixedPrefix, "confluent", registry.url());
        SubstrateConfig plain = config(kafka, plainPrefix, "single-object", "");
        Wire confluent = Wire.start(mixed);
        Wire single = Wire.singleObject();
        ensureTopics(kafka, mixed, plain);

        // The same events, in the same order, with the same timestamps: on one log alternately in both formats,
        // on the other in single-object encoding alone. One refused event (a second RunStarted) in each.
        List<RunEvent> events = new ArrayList<>();
        Instant at = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        for (int i = 0; i < 60; i++) {
            String runId = "run-mix-" + i;
            events.add(at(SampleEvents.run(runId, SampleEvents.created()), at));
            events.add(at(SampleEvents.run(runId, SampleEvents.started()), at));
            events.add(at(SampleEvents.run(runId, SampleEvents.labelled(Map.of("i", "" + i))), at));
            if (i % 7 == 0) {
                events.add(at(SampleEvents.run(runId, SampleEvents.started()), at));
            }
            events.add(at(SampleEvents.run(runId, i % 2 == 0 ? SampleEvents.succeeded() : SampleEvents.failed()), at));
        }
        String mixedLog = Topics.from(mixed).runEvents().name();
        String plainLog = Topics.from(plain).runEvents().name();
        try (KafkaProducer<String, byte[]> producer = producer(kafka)) {
            for (int i = 0; i < events.size(); i++) {
                RunEvent event = events.get(i);
                byte[] bytes = i % 2 == 0
                        ? confluent.encode(mixedLog, WireCodec.RUN, event)
                        : single.encode(mixedLog, WireCodec.RUN, event);
                long time = event.getOccurredAt().toEpochMilli();
                producer.send(new ProducerRecord<>(mixedLog, null, time, event.getRunId(), bytes))
                        .get();
                producer.send(new ProducerRecord<>(
                                plainLog, null, time, event.getRunId(), single.encode(plainLog, WireCodec.RUN, event)))
                        .get();
            }
        }
        assertThat(TestRecords.readAll(kafka, mixedLog).stream()
                        .map(r -> r.value()[0])
                        .distinct())
                .containsExactlyInAnyOrder((byte) 0, (byte) 0xC3);

        try (SubstrateFold mixedFold = SubstrateFold.start(mixed);
                SubstrateFold plainFold = SubstrateFold.start(plain)) {
            Map<String, RunState> fromMixed = awaitRuns(mixedFold, 60);
            Map<String, RunState> fromPlain = awaitRuns(plainFold, 60);
            assertThat(fromMixed).isEqualTo(fromPlain);
            assertThat(fromMixed.values())
                    .allSatisfy(run -> assertThat(run.getStatus()).isIn(RunStatus.succeeded, RunStatus.failed));
        }
        // The fold of the confluent deployment writes its outputs in that format: states and rejections.
        List<ConsumerRecord<String, byte[]>> rejections =
                TestRecords.readAll(kafka, Topics.from(mixed).rejections().name());
        assertThat(rejections)
                .hasSize(9)
                .allSatisfy(record -> assertThat(record.value()[0]).isZero());
        assertThat(confluent
                        .decode(WireCodec.REJECTION, rejections.get(0).value())
                        .getReason())
                .isEqualTo("illegal_transition");
        assertThat(TestRecords.readAll(kafka, Topics.from(mixed).runs().name()))
                .allSatisfy(record -> assertThat(record.value()[0]).isZero());
    }

    @Test
    void aRecordNamingAnIdTheRegistryDoesNotKnowIsDeadLetteredAndTheFoldGoesOn(KafkaCluster kafka, Registry registry)
            throws Exception {
        String prefix = "unk" + UUID.randomUUID().toString().substring(0, 6) + ".";
        SubstrateConfig config = config(kafka, prefix, "confluent", registry.url());
        Wire wire = Wire.start(config);
        ensureTopics(kafka, config);
        String log = Topics.from(config).runEvents().name();
        RunEvent created = at(SampleEvents.run("run-unk-1", SampleEvents.created()), Instant.now());
        byte[] good = wire.encode(log, WireCodec.RUN, created);
        byte[] unknown = good.clone();
        unknown[1] = 0x7f; // schema id 0x7fxxxxxx: no registry has given it
        try (KafkaProducer<String, byte[]> producer = producer(kafka)) {
            producer.send(new ProducerRecord<>(log, "run-unk-1", unknown)).get();
            producer.send(new ProducerRecord<>(log, "run-unk-1", good)).get();
        }
        try (SubstrateFold fold = SubstrateFold.start(config)) {
            await().ignoreExceptions()
                    .atMost(Duration.ofSeconds(60))
                    .until(() -> FoldStores.runs(fold).containsKey("run-unk-1"));
            List<ConsumerRecord<String, byte[]>> dead = await().atMost(Duration.ofSeconds(30))
                    .until(
                            () -> TestRecords.readAll(
                                    kafka, Topics.from(config).deadLetters().name()),
                            d -> !d.isEmpty());
            assertThat(dead).hasSize(1);
            String message = new String(
                    dead.get(0).headers().lastHeader("__streams.errors.message").value(), StandardCharsets.UTF_8);
            assertThat(message).contains("knows no schema id");
            assertThat(dead.get(0).value()).isEqualTo(unknown);
        }
    }

    @Test
    void anEventOnAnotherPartitionThanItsKeyMapsToIsRefusedNotFoldedTwice(KafkaCluster kafka) throws Exception {
        String prefix = "part" + UUID.randomUUID().toString().substring(0, 6) + ".";
        SubstrateConfig config = config(kafka, prefix, "single-object", "");
        ensureTopics(kafka, config);
        String log = Topics.from(config).runEvents().name();
        String runId = "run-part-1";
        int right = murmur2(runId);
        int wrong = (right + 1) % PARTITIONS;
        try (KafkaProducer<String, byte[]> producer = producer(kafka)) {
            producer.send(new ProducerRecord<>(
                            log,
                            right,
                            runId,
                            WireCodec.RUN.encode(at(SampleEvents.run(runId, SampleEvents.created()), Instant.now()))))
                    .get();
            // A producer with another partitioner: the run's next event lands elsewhere.
            producer.send(new ProducerRecord<>(
                            log,
                            wrong,
                            runId,
                            WireCodec.RUN.encode(at(SampleEvents.run(runId, SampleEvents.started()), Instant.now()))))
                    .get();
        }
        try (SubstrateFold fold = SubstrateFold.start(config)) {
            List<Rejection> refused = awaitRejections(kafka, config, 1);
            assertThat(refused.get(0).getReason()).isEqualTo("wrong_partition");
            assertThat(refused.get(0).getPartition()).isEqualTo(wrong);
            assertThat(refused.get(0).getMessage()).contains("belongs on partition " + right);
            await().ignoreExceptions()
                    .atMost(Duration.ofSeconds(30))
                    .untilAsserted(
                            () -> assertThat(FoldStores.runs(fold).get(runId).getStatus())
                                    .isEqualTo(RunStatus.queued));
        }
    }

    @Test
    void kcatWithItsDefaultPartitionerGetsItsMisplacedEventsRefused(KafkaCluster kafka) throws Exception {
        assumeThat(TestPrograms.onPath("kcat"))
                .as("kcat is not installed (apt-get install kcat)")
                .isTrue();
        String prefix = "kcat" + UUID.randomUUID().toString().substring(0, 6) + ".";
        SubstrateConfig config = config(kafka, prefix, "single-object", "");
        ensureTopics(kafka, config);
        String log = Topics.from(config).runEvents().name();
        // librdkafka's default partitioner, consistent_random, takes CRC-32 of the key; Kafka's Java producer takes
        // murmur2. One run id where they agree, one where they do not.
        String agrees = null;
        String differs = null;
        for (int i = 0; agrees == null || differs == null; i++) {
            String runId = "run-kcat-" + i;
            if (crc32(runId) == murmur2(runId)) {
                agrees = agrees == null ? runId : agrees;
            } else {
                differs = differs == null ? runId : differs;
            }
        }
        for (String runId : List.of(agrees, differs)) {
            Path file = dataDir.resolve(runId + ".avro");
            Files.write(file, WireCodec.RUN.encode(at(SampleEvents.run(runId, SampleEvents.created()), Instant.now())));
            Process kcat = new ProcessBuilder(
                            "kcat", "-P", "-b", kafka.bootstrapServers(), "-t", log, "-k", runId, file.toString())
                    .redirectErrorStream(true)
                    .start();
            assertThat(kcat.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(kcat.exitValue())
                    .as(new String(kcat.getInputStream().readAllBytes()))
                    .isZero();
        }
        try (SubstrateFold fold = SubstrateFold.start(config)) {
            String applied = agrees;
            await().ignoreExceptions()
                    .atMost(Duration.ofSeconds(60))
                    .until(() -> FoldStores.runs(fold).containsKey(applied));
            List<Rejection> refused = awaitRejections(kafka, config, 1);
            assertThat(refused.get(0).getEntityId()).isEqualTo(differs);
            assertThat(refused.get(0).getReason()).isEqualTo("wrong_partition");
            assertThat(FoldStores.runs(fold)).doesNotContainKey(differs).hasSize(1);
        }
    }

    @Test
    void aRegistryGoneAfterStartStallsOnlyAnIdNotSeenAndLosesNothing(KafkaCluster kafka, Registry registry)
            throws Exception {
        URI target = URI.create(registry.url());
        try (TcpProxy proxy = TcpProxy.to(target.getHost(), target.getPort())) {
            String prefix = "gone" + UUID.randomUUID().toString().substring(0, 6) + ".";
            // The record of an unseen id fails its stream thread, which is replaced; the dead thread's consumer does
            // not leave the group (Kafka Streams' consumers never do on close), so its partitions move once the
            // group's session timeout passes: 6 s here rather than Kafka's 45 s default.
            SubstrateConfig config = config(
                    kafka,
                    prefix,
                    "confluent",
                    "http://127.0.0.1:" + proxy.port() + target.getPath(),
                    Map.of("session.timeout.ms", "6000"));
            Wire wire = Wire.start(config); // registers through the proxy
            ensureTopics(kafka, config);
            String log = Topics.from(config).runEvents().name();
            // Another writer registers a newer, compatible version of the schema: an id this process has not seen.
            ObjectNode newer =
                    (ObjectNode) JSON.readTree(WireSchema.RUN.currentSchema().toString());
            ((ArrayNode) newer.get("fields"))
                    .addObject()
                    .put("name", "note")
                    .putNull("default")
                    .putArray("type")
                    .add("null")
                    .add("string");
            HttpResponse<String> registered = HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(URI.create(registry.url() + "/subjects/" + log + "-value/versions"))
                                    .header("Content-Type", "application/vnd.schemaregistry.v1+json")
                                    .POST(HttpRequest.BodyPublishers.ofString(JSON.createObjectNode()
                                            .put("schema", newer.toString())
                                            .toString()))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            assertThat(registered.statusCode()).as(registered.body()).isEqualTo(200);
            int newId = JSON.readTree(registered.body()).get("id").asInt();
            assertThat(newId).isNotEqualTo(wire.schemaId(log));

            try (SubstrateClient client = SubstrateClient.create(config, wire);
                    SubstrateFold fold = SubstrateFold.start(config, wire, null)) {
                proxy.down();
                // Appends and the fold go on without the registry: the ids are cached.
                client.append(at(SampleEvents.run("run-gone-1", SampleEvents.created()), Instant.now()))
                        .join();
                await().ignoreExceptions()
                        .atMost(Duration.ofSeconds(60))
                        .until(() -> FoldStores.runs(fold).containsKey("run-gone-1"));

                // A record of the newer version (this build's body and the new field, null) waits for the registry.
                byte[] known = wire.encode(
                        log, WireCodec.RUN, at(SampleEvents.run("run-gone-2", SampleEvents.created()), Instant.now()));
                ByteBuffer unseen = ByteBuffer.allocate(known.length + 1);
                unseen.put((byte) 0)
                        .putInt(newId)
                        .put(known, 5, known.length - 5)
                        .put((byte) 0);
                try (KafkaProducer<String, byte[]> producer = producer(kafka)) {
                    producer.send(new ProducerRecord<>(log, "run-gone-2", unseen.array()))
                            .get();
                }
                await().atMost(Duration.ofSeconds(60)).until(() -> fold.health().threadFailures() > 0);
                assertThat(fold.health().notReady()).isPresent();
                // The record holds its stream thread (the fold says so on /ready); it is not dead-lettered.
                assertThat(TestRecords.readAll(
                                kafka, Topics.from(config).deadLetters().name()))
                        .isEmpty();

                proxy.up();
                await().ignoreExceptions()
                        .atMost(Duration.ofSeconds(90))
                        .until(() -> FoldStores.runs(fold).containsKey("run-gone-2"));
                assertThat(TestRecords.readAll(
                                kafka, Topics.from(config).deadLetters().name()))
                        .isEmpty();
            }
        }
    }

    private SubstrateConfig config(KafkaCluster kafka, String prefix, String format, String registry) {
        return config(kafka, prefix, format, registry, Map.of());
    }

    private SubstrateConfig config(
            KafkaCluster kafka, String prefix, String format, String registry, Map<String, String> more) {
        Map<String, String> settings =
                new HashMap<>(TestSettings.of(kafka, prefix, dataDir.resolve(prefix), prefix + "fold"));
        settings.putAll(more);
        settings.put(TopicSettings.WIRE_FORMAT.key(), format);
        settings.put(TopicSettings.SCHEMA_REGISTRY_URLS.key(), registry);
        return SubstrateConfig.of(settings);
    }

    private static void ensureTopics(KafkaCluster kafka, SubstrateConfig... configs) {
        try (Admin admin = kafka.admin()) {
            for (SubstrateConfig config : configs) {
                TopicSetup.ensure(admin, Topics.from(config), PARTITIONS, (short) -1);
            }
        }
    }

    private static KafkaProducer<String, byte[]> producer(KafkaCluster kafka) {
        Map<String, Object> config = new HashMap<>();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        return new KafkaProducer<>(config, new StringSerializer(), new ByteArraySerializer());
    }

    private static RunEvent at(RunEvent event, Instant time) {
        return RunEvent.newBuilder(event)
                .setOccurredAt(time.truncatedTo(ChronoUnit.MILLIS))
                .build();
    }

    private static Map<String, RunState> awaitRuns(SubstrateFold fold, int runs) {
        Map<String, RunState> states = new TreeMap<>();
        await().ignoreExceptions().atMost(Duration.ofSeconds(90)).until(() -> {
            states.clear();
            states.putAll(FoldStores.runs(fold));
            return states.size() == runs && states.values().stream().allMatch(run -> run.getVersion() == 4);
        });
        return states;
    }

    private static List<Rejection> awaitRejections(KafkaCluster kafka, SubstrateConfig config, int count) {
        List<Rejection> rejections = new ArrayList<>();
        await().ignoreExceptions().atMost(Duration.ofSeconds(60)).until(() -> {
            rejections.clear();
            for (ConsumerRecord<String, byte[]> record :
                    TestRecords.readAll(kafka, Topics.from(config).rejections().name())) {
                rejections.add(WireCodec.REJECTION.decode(record.value()));
            }
            return rejections.size() >= count;
        });
        return rejections;
    }

    private static int murmur2(String key) {
        return Utils.toPositive(Utils.murmur2(key.getBytes(StandardCharsets.UTF_8))) % PARTITIONS;
    }

    private static int crc32(String key) {
        CRC32 crc = new CRC32();
        crc.update(key.getBytes(StandardCharsets.UTF_8));
        return (int) (crc.getValue() % PARTITIONS);
    }
}
