package dev.substrate.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.substrate.client.SubstrateClient;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.config.TopicSettings;
import dev.substrate.events.run.RunEvent;
import dev.substrate.state.RunState;
import dev.substrate.state.RunStatus;
import dev.substrate.streams.SubstrateFold;
import dev.substrate.testing.KafkaCluster;
import dev.substrate.testing.SampleEvents;
import dev.substrate.testing.SchemaRegistry;
import dev.substrate.testing.SchemaRegistry.Registry;
import dev.substrate.testing.SharedKafka;
import dev.substrate.testing.TestRecords;
import dev.substrate.testing.TestSettings;
import dev.substrate.topic.TopicSetup;
import dev.substrate.topic.Topics;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A serde that is not Substrate's reads and writes its log: kafkajs' {@code @kafkajs/confluent-schema-registry}
 * (on Node, avsc underneath) decodes a record Substrate wrote in the Confluent format, and encodes two new events
 * that the fold then applies. Skipped, saying so, without Node or the package ({@code .ci/run} installs it).
 */
@ExtendWith({SharedKafka.class, SchemaRegistry.class})
@Timeout(300)
class NodeSerdeIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path NODE_DIR = Path.of(System.getProperty("substrate.test.node.dir", "src/test/node"));

    @TempDir
    Path dataDir;

    @Test
    void aNodeServiceReadsSubstratesRecordsAndWritesEventsTheFoldApplies(KafkaCluster kafka, Registry registry)
            throws Exception {
        assumeThat(TestPrograms.onPath("node")).as("node is not installed").isTrue();
        assumeThat(Files.isDirectory(NODE_DIR.resolve("node_modules/@kafkajs/confluent-schema-registry")))
                .as("@kafkajs/confluent-schema-registry is not installed: npm install --no-package-lock in " + NODE_DIR)
                .isTrue();
        String prefix = "node" + UUID.randomUUID().toString().substring(0, 6) + ".";
        Map<String, String> settings = new HashMap<>(TestSettings.of(kafka, prefix, dataDir, prefix + "fold"));
        settings.put(TopicSettings.WIRE_FORMAT.key(), "confluent");
        settings.put(TopicSettings.SCHEMA_REGISTRY_URLS.key(), registry.url());
        SubstrateConfig config = SubstrateConfig.of(settings);
        Topics topics = Topics.from(config);
        try (Admin admin = kafka.admin()) {
            TopicSetup.ensure(admin, topics, 3, (short) -1);
        }
        try (SubstrateClient client = SubstrateClient.create(config)) {
            RunEvent created = RunEvent.newBuilder(SampleEvents.run("run-java-1", SampleEvents.created()))
                    .setOccurredAt(Instant.now().truncatedTo(ChronoUnit.MILLIS))
                    .build();
            client.append(created).join();
        }
        String log = topics.runEvents().name();
        ConsumerRecord<String, byte[]> written = TestRecords.readAll(kafka, log).get(0);

        List<String> lines =
                node(registry.url(), log + "-value", HexFormat.of().formatHex(written.value()), "run-node-1");

        JsonNode decoded = JSON.readTree(lines.get(0).substring("decoded ".length()));
        assertThat(decoded.get("runId").asText()).isEqualTo("run-java-1");
        assertThat(decoded.get("payload")
                        .get("dev.substrate.events.run.RunCreated")
                        .get("project")
                        .asText())
                .isNotBlank();
        List<byte[]> encoded = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
            assertThat(line).startsWith("encoded 00");
            encoded.add(HexFormat.of().parseHex(line.substring("encoded ".length())));
        }
        assertThat(encoded).hasSize(2);
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(
                Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
                new StringSerializer(),
                new ByteArraySerializer())) {
            for (byte[] value : encoded) {
                producer.send(new ProducerRecord<>(log, "run-node-1", value)).get();
            }
        }

        try (SubstrateFold fold = SubstrateFold.start(config)) {
            await().ignoreExceptions().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
                RunState run = FoldStores.runs(fold).get("run-node-1");
                assertThat(run.getStatus()).isEqualTo(RunStatus.running);
                assertThat(run.getLabels()).containsEntry("written.by", "kafkajs");
                assertThat(run.getVersion()).isEqualTo(2);
            });
            assertThat(TestRecords.readAll(kafka, topics.rejections().name())).isEmpty();
            assertThat(TestRecords.readAll(kafka, topics.deadLetters().name())).isEmpty();
        }
    }

    private static List<String> node(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("node", "serde-check.js"));
        command.addAll(List.of(args));
        Path output = Files.createTempFile("node-serde-", ".out");
        Process process = new ProcessBuilder(command)
                .directory(NODE_DIR.toFile())
                .redirectErrorStream(true)
                .redirectOutput(output.toFile())
                .start();
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String text = Files.readString(output, StandardCharsets.UTF_8);
        assertThat(process.exitValue()).as(text).isZero();
        return text.lines()
                .filter(line -> line.startsWith("decoded ") || line.startsWith("encoded "))
                .toList();
    }
}
