package dev.substrate.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.substrate.config.KafkaSettings;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.config.TopicSettings;
import dev.substrate.event.Wire;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.events.room.TextDelta;
import dev.substrate.registry.SchemaRegistryFailed;
import dev.substrate.stream.RoomStream;
import dev.substrate.testing.SchemaRegistry;
import dev.substrate.testing.SchemaRegistry.Registry;
import dev.substrate.testing.SseConnection;
import dev.substrate.testing.TestRecords;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code substrate dev --schema-registry URL} against a real Confluent-compatible registry (Apicurio Registry 3):
 * it registers its subjects, writes the Confluent wire format, and every feature works as in the default format.
 */
@ExtendWith(SchemaRegistry.class)
@Timeout(600)
class ConfluentWireFormatIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    Path dataDir;

    @Test
    void devRegistersItsSubjectsAndEveryFeatureWorksInTheConfluentFormat(Registry registry) throws Exception {
        String prefix = "cw" + UUID.randomUUID().toString().substring(0, 6) + ".";
        try (SubstrateProcess dev = startDev(registry.url(), "-c", "topic.prefix=" + prefix)) {
            String url = dev.awaitOutput("HTTP\\s+(\\S+)", Duration.ofSeconds(120));
            String kafka = dev.awaitOutput("Kafka\\s+(\\S+)", Duration.ofSeconds(5));
            assertThat(dev.awaitOutput("Wire\\s+(.*)", Duration.ofSeconds(5)))
                    .startsWith("confluent")
                    .contains("7 subjects registered");
            String token = Files.readString(dataDir.resolve("admin.token")).strip();
            await().atMost(Duration.ofSeconds(90)).until(() -> DevCommandIT.status(url + "/ready", null) == 200);

            // Every topic Substrate writes has its subject, with FULL_TRANSITIVE set.
            JsonNode subjects =
                    JSON.readTree(get(registry.url() + "/subjects", null).body());
            List<String> ours = names(subjects).stream()
                    .filter(s -> s.startsWith(prefix))
                    .sorted()
                    .toList();
            assertThat(ours)
                    .containsExactly(
                            prefix + "artifact-events-value",
                            prefix + "artifacts-value",
                            prefix + "rejections-value",
                            prefix + "room-events-value",
                            prefix + "rooms-value",
                            prefix + "run-events-value",
                            prefix + "runs-value");
            assertThat(get(registry.url() + "/config/" + prefix + "run-events-value", null)
                            .body())
                    .contains("FULL_TRANSITIVE");

            // Appends, the fold and reads.
            post(
                    url,
                    token,
                    "/v1/runs?wait=applied",
                    "{\"runId\": \"run-cw-1\", \"scope\": \"shared\", \"project\": \"project:cw\", "
                            + "\"activation\": {\"surface\": \"operator\", \"actor\": \"alice\"}}");
            HttpResponse<String> started = post(url, token, "/v1/runs/run-cw-1/events", "{\"type\": \"RunStarted\"}");
            assertThat(started.statusCode()).as(started.body()).isEqualTo(202);
            String position = JSON.readTree(started.body()).get("position").asText();
            // Read-your-writes: a read at the append's position sees it.
            HttpResponse<String> run = HTTP.send(
                    HttpRequest.newBuilder(URI.create(url + "/v1/runs/run-cw-1"))
                            .header("Authorization", "Bearer " + token)
                            .header("X-Substrate-Position", position)
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(JSON.readTree(run.body()).get("status").asText()).isEqualTo("running");
            assertThat(JSON.readTree(
                                    get(url + "/v1/runs/run-cw-1/events", token).body())
                            .get("items"))
                    .hasSize(2);

            // Room streams: SSE and RoomStream read the Confluent-format room log.
            post(
                    url,
                    token,
                    "/v1/rooms?wait=applied",
                    "{\"roomId\": \"room-cw-1\", \"kind\": \"session\", \"project\": \"project:cw\"}");
            SubstrateConfig observer = SubstrateConfig.of(Map.of(
                    KafkaSettings.BOOTSTRAP_SERVERS.key(), kafka,
                    TopicSettings.PREFIX.key(), prefix,
                    TopicSettings.SCHEMA_REGISTRY_URLS.key(), registry.url()));
            List<RoomEvent> seen = new CopyOnWriteArrayList<>();
            try (SseConnection sse = SseConnection.open(
                            HTTP, url + "/v1/rooms/room-cw-1/stream", Map.of("Authorization", "Bearer " + token));
                    RoomStream stream = RoomStream.create(observer);
                    // From.start finds the room's first event in the rooms state topic, which the fold's
                    // transaction makes visible at its next commit, a moment after ?wait=applied answered.
                    RoomStream.Subscription subscription = await().ignoreException(IllegalArgumentException.class)
                            .atMost(Duration.ofSeconds(30))
                            .until(() -> stream.subscribe("room-cw-1", RoomStream.From.start()), s -> true)) {
                post(
                        url,
                        token,
                        "/v1/rooms/room-cw-1/events",
                        "{\"type\": \"BlockStarted\", \"blockId\": \"b1\", \"kind\": \"text\"}");
                post(
                        url,
                        token,
                        "/v1/rooms/room-cw-1/events",
                        "{\"type\": \"TextDelta\", \"blockId\": \"b1\", \"text\": \"over the wire\"}");
                await().atMost(Duration.ofSeconds(30))
                        .until(() ->
                                sse.events().stream().anyMatch(e -> e.data().contains("over the wire")));
                await().atMost(Duration.ofSeconds(30)).until(() -> {
                    subscription.poll(Duration.ofMillis(200)).forEach(entry -> seen.add(entry.event()));
                    return seen.stream()
                            .anyMatch(e -> e.getPayload() instanceof TextDelta delta
                                    && delta.getText().equals("over the wire"));
                });
            }

            // What is on the logs and state topics is Confluent's format, with the ids the registry gave.
            int runEventsId = latestId(registry, prefix + "run-events-value");
            int runsId = latestId(registry, prefix + "runs-value");
            List<ConsumerRecord<String, byte[]>> events =
                    TestRecords.readAll(DevCommandIT.cluster(kafka), prefix + "run-events");
            assertThat(events)
                    .isNotEmpty()
                    .allSatisfy(record -> assertThat(header(record.value())).isEqualTo(runEventsId));
            List<ConsumerRecord<String, byte[]>> states =
                    TestRecords.readAll(DevCommandIT.cluster(kafka), prefix + "runs");
            assertThat(states)
                    .isNotEmpty()
                    .allSatisfy(record -> assertThat(header(record.value())).isEqualTo(runsId));

            // Share: a local run goes into the Confluent-format log through the client's wire.
            String db = dataDir.resolve("local.db").toString();
            String localRun =
                    CliRun.of("local", "create", "--local-db", db).out().strip();
            CliRun.of("local", "append", localRun, "{\"type\": \"RunStarted\"}", "--local-db", db);
            CliRun shared = CliRun.of(
                    "share",
                    localRun,
                    "--local-db",
                    db,
                    "--bootstrap-servers",
                    kafka,
                    "-c",
                    "topic.prefix=" + prefix,
                    "--schema-registry",
                    registry.url());
            assertThat(shared.exitCode()).as(shared.err()).isZero();
            await().atMost(Duration.ofSeconds(30))
                    .untilAsserted(() -> assertThat(JSON.readTree(get(url + "/v1/runs/" + localRun, token)
                                            .body())
                                    .path("status")
                                    .asText())
                            .isEqualTo("running"));

            assertThat(dev.stop()).isEqualTo(SubstrateProcess.EXIT_ON_SIGTERM);
        }
    }

    @Test
    void anUnreachableRegistryStopsDevWithAClearError() throws Exception {
        int closed;
        try (ServerSocket socket = new ServerSocket(0)) {
            closed = socket.getLocalPort();
        }
        String registry = "http://127.0.0.1:" + closed;
        try (SubstrateProcess dev = startDev(registry)) {
            assertThat(dev.awaitExit(Duration.ofSeconds(120))).isEqualTo(1);
            assertThat(String.join("\n", dev.stderr())).contains(registry).contains("no answer");
        }
    }

    @Test
    void anIncompatibleSchemaUnderASubjectIsRefusedAtStartNamingIt(Registry registry) throws Exception {
        String prefix = "cwx" + UUID.randomUUID().toString().substring(0, 6) + ".";
        String subject = prefix + "run-events-value";
        put(registry.url() + "/config/" + subject, "{\"compatibility\": \"FULL_TRANSITIVE\"}");
        String other = "{\"type\":\"record\",\"name\":\"RunEvent\",\"namespace\":\"dev.substrate.events.run\","
                + "\"fields\":[{\"name\":\"x\",\"type\":\"int\"}]}";
        HttpResponse<String> registered = HTTP.send(
                HttpRequest.newBuilder(URI.create(registry.url() + "/subjects/" + subject + "/versions"))
                        .header("Content-Type", "application/vnd.schemaregistry.v1+json")
                        .POST(HttpRequest.BodyPublishers.ofString(
                                JSON.createObjectNode().put("schema", other).toString()))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(registered.statusCode()).as(registered.body()).isEqualTo(200);

        SubstrateConfig config = SubstrateConfig.of(Map.of(
                KafkaSettings.BOOTSTRAP_SERVERS.key(),
                "127.0.0.1:1",
                TopicSettings.PREFIX.key(),
                prefix,
                TopicSettings.WIRE_FORMAT.key(),
                "confluent",
                TopicSettings.SCHEMA_REGISTRY_URLS.key(),
                registry.url()));
        assertThatThrownBy(() -> Wire.start(config))
                .isInstanceOf(SchemaRegistryFailed.class)
                .hasMessageContaining("refused released version v1 of run-event under subject " + subject)
                .hasMessageContaining("409")
                .satisfies(e ->
                        assertThat(((SchemaRegistryFailed) e).isRetriable()).isFalse());
    }

    /** {@code substrate dev} on free ports, in this test's data directory, writing the Confluent format. */
    private SubstrateProcess startDev(String registry, String... more) {
        List<String> args = new ArrayList<>(List.of(
                "dev",
                "--data-dir",
                dataDir.toString(),
                "--kafka-port",
                "0",
                "--http-port",
                "0",
                "--schema-registry",
                registry));
        args.addAll(List.of(more));
        return SubstrateProcess.start(Map.of(), args.toArray(String[]::new));
    }

    private static int header(byte[] value) {
        assertThat(value[0]).as("Confluent magic byte").isZero();
        return ByteBuffer.wrap(value, 1, 4).getInt();
    }

    private static int latestId(Registry registry, String subject) throws Exception {
        return JSON.readTree(get(registry.url() + "/subjects/" + subject + "/versions/latest", null)
                        .body())
                .get("id")
                .asInt();
    }

    private static List<String> names(JsonNode array) {
        return java.util.stream.StreamSupport.stream(array.spliterator(), false)
                .map(JsonNode::asText)
                .toList();
    }

    private static HttpResponse<String> get(String url, String token) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static void put(String url, String body) throws Exception {
        HttpResponse<String> response = HTTP.send(
                HttpRequest.newBuilder(URI.create(url))
                        .header("Content-Type", "application/vnd.schemaregistry.v1+json")
                        .PUT(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    }

    static HttpResponse<String> post(String url, String token, String path, String body) throws Exception {
        HttpResponse<String> response = HTTP.send(
                HttpRequest.newBuilder(URI.create(url + path))
                        .header("Authorization", "Bearer " + token)
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(path + ": " + response.body()).isLessThan(300);
        return response;
    }
}
