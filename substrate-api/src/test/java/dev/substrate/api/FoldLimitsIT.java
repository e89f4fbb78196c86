package dev.substrate.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.substrate.api.auth.Role;
import dev.substrate.api.auth.TokenFile;
import dev.substrate.fold.FoldLimits;
import dev.substrate.testing.KafkaCluster;
import dev.substrate.testing.SharedKafka;
import dev.substrate.testing.SseConnection;
import dev.substrate.topic.Topics;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * No valid input stops the fold: a block of 1,500 deltas of 1,000 bytes (1.5 MB, past the 1 MiB record limit) and
 * events of 2.5 MB with {@code max.event.bytes} at 4 MiB are applied and read back whole, while {@code /ready}
 * stays 200 and other entities keep answering.
 */
@ExtendWith(SharedKafka.class)
@Timeout(300)
class FoldLimitsIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dataDir;

    @Test
    void aBlockOfFifteenHundredDeltasOfAThousandBytesCompletesAndReadsBackWhole(KafkaCluster kafka) throws Exception {
        TokenFile tokens = new TokenFile(dataDir.resolve("tokens.json"));
        String token = tokens.create("svc:agent", Set.of(Role.OPERATOR));
        try (ApiInstance instance = ApiInstance.startReady(kafka, "long-block", dataDir, tokens);
                ReadinessWatch watch = ReadinessWatch.start(instance.url(), token)) {
            Api api = new Api(instance.url(), token);
            String roomId =
                    api.create("/v1/rooms", "{\"kind\": \"session\", \"project\": \"project:limits\"}", "roomId");
            watch.alsoRead("/v1/rooms/"
                    + api.create("/v1/rooms", "{\"kind\": \"session\", \"project\": \"project:other\"}", "roomId"));
            watch.alsoRead("/v1/runs/" + api.create("/v1/runs", run(), "runId"));

            api.append(roomId, "{\"type\": \"BlockStarted\", \"blockId\": \"tool-1\", \"kind\": \"tool_result\"}");
            // Appended in batches of 100, as a streaming service does: 1,500 events, each its own delta to the fold.
            StringBuilder expected = new StringBuilder();
            List<String> batch = new ArrayList<>();
            for (int i = 0; i < 1_500; i++) {
                String text = String.format("%06d:", i) + "x".repeat(993);
                expected.append(text);
                batch.add("{\"type\": \"TextDelta\", \"blockId\": \"tool-1\", \"text\": \"" + text + "\"}");
                if (batch.size() == 100) {
                    api.append(roomId, "[" + String.join(",", batch) + "]");
                    batch.clear();
                }
            }
            // The fold decides the 1,500 deltas first: on a loaded machine that takes longer than the default wait.
            HttpResponse<String> completed = api.post(
                    "/v1/rooms/" + roomId + "/events?wait=applied&timeoutMs=30000",
                    "{\"type\": \"BlockCompleted\", \"blockId\": \"tool-1\"}");

            assertThat(completed.statusCode()).as(completed.body()).isEqualTo(200);
            assertThat(JSON.readTree(completed.body()).get("outcome").asText()).isEqualTo("applied");
            JsonNode entry =
                    api.json("/v1/rooms/" + roomId + "/transcript").get("items").get(0);
            assertThat(entry.get("kind").asText()).isEqualTo("block");
            // 1,500,000 ASCII bytes: every full part of the default size moved out, the rest in the entry.
            assertThat(entry.get("parts").asInt()).isEqualTo(1_500_000 / FoldLimits.DEFAULT_BLOCK_PART_BYTES);
            assertThat(entry.get("text").asText()).isEqualTo(expected.toString());
            assertThat(blocksView(instance.url(), roomId, token)).isEqualTo(expected.toString());
            watch.assertAnsweredThroughout();
        }
    }

    @Test
    void withFourMebibyteEventsAnEventOfTwoAndAHalfMegabytesIsAppliedAndTheRestKeepsAnswering(KafkaCluster kafka)
            throws Exception {
        TokenFile tokens = new TokenFile(dataDir.resolve("tokens.json"));
        String token = tokens.create("svc:agent", Set.of(Role.OPERATOR));
        int maxEventBytes = 4 * 1024 * 1024;
        try (ApiInstance instance = ApiInstance.startReady(
                        kafka, "big-events", dataDir, tokens, "max.event.bytes", Integer.toString(maxEventBytes));
                ReadinessWatch watch = ReadinessWatch.start(instance.url(), token)) {
            Api api = new Api(instance.url(), token);
            String roomId =
                    api.create("/v1/rooms", "{\"kind\": \"session\", \"project\": \"project:limits\"}", "roomId");
            watch.alsoRead("/v1/runs/" + api.create("/v1/runs", run(), "runId"));
            String big = "y".repeat(2_500_000);

            api.appendApplied(roomId, "{\"type\": \"BlockStarted\", \"blockId\": \"b1\", \"kind\": \"text\"}");
            api.appendApplied(roomId, "{\"type\": \"TextDelta\", \"blockId\": \"b1\", \"text\": \"" + big + "\"}");
            api.appendApplied(roomId, "{\"type\": \"BlockCompleted\", \"blockId\": \"b1\"}");
            api.appendApplied(roomId, "{\"type\": \"LogEmitted\", \"level\": \"info\", \"message\": \"" + big + "\"}");

            List<JsonNode> items =
                    list(api.json("/v1/rooms/" + roomId + "/transcript").get("items"));
            assertThat(items).hasSize(2);
            assertThat(items.get(0).get("text").asText()).isEqualTo(big);
            assertThat(items.get(1).get("text").asText()).isEqualTo(big);
            watch.assertAnsweredThroughout();

            // Kafka Streams created the fold's changelogs to take what the fold writes.
            try (Admin admin = kafka.admin()) {
                String changelog = instance.fold.applicationId() + "-rooms-changelog";
                ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, changelog);
                String limit = admin.describeConfigs(List.of(resource))
                        .all()
                        .get()
                        .get(resource)
                        .get("max.message.bytes")
                        .value();
                assertThat(Integer.parseInt(limit)).isEqualTo(Topics.recordLimit(maxEventBytes));
            }
        }
    }

    @Test
    void anEventTheBrokerRefusesAsTooLargeIsAnswered413NotTryAgain(KafkaCluster kafka) throws Exception {
        TokenFile tokens = new TokenFile(dataDir.resolve("tokens.json"));
        String token = tokens.create("svc:agent", Set.of(Role.OPERATOR));
        try (ApiInstance instance = ApiInstance.startReady(
                kafka, "refused", dataDir, tokens, "max.event.bytes", Integer.toString(4 * 1024 * 1024))) {
            Api api = new Api(instance.url(), token);
            String roomId =
                    api.create("/v1/rooms", "{\"kind\": \"session\", \"project\": \"project:limits\"}", "roomId");
            api.appendApplied(roomId, "{\"type\": \"BlockStarted\", \"blockId\": \"b1\", \"kind\": \"text\"}");
            // Someone lowers the log's limit to the broker's default under the running instance.
            try (Admin admin = kafka.admin()) {
                ConfigResource log = new ConfigResource(
                        ConfigResource.Type.TOPIC, instance.topics.roomEvents().name());
                admin.incrementalAlterConfigs(Map.of(
                                log,
                                List.of(new AlterConfigOp(
                                        new ConfigEntry("max.message.bytes", "1048588"), AlterConfigOp.OpType.SET))))
                        .all()
                        .get();
            }

            HttpResponse<String> refused = api.post(
                    "/v1/rooms/" + roomId + "/events",
                    "{\"type\": \"TextDelta\", \"blockId\": \"b1\", \"text\": \"" + "z".repeat(2_000_000) + "\"}");

            assertThat(refused.statusCode()).as(refused.body()).isEqualTo(413);
            assertThat(refused.headers().firstValue("Retry-After")).isEmpty();
            assertThat(JSON.readTree(refused.body()).get("detail").asText()).contains("cannot help");
            api.appendApplied(roomId, "{\"type\": \"TextDelta\", \"blockId\": \"b1\", \"text\": \"small\"}");
        }
    }

    private static String run() {
        return "{\"scope\": \"shared\", \"project\": \"project:limits\","
                + " \"activation\": {\"surface\": \"operator\", \"actor\": \"ops\"}}";
    }

    /**
     * The text of the first block of the room's {@code view=blocks} stream, from its start. A client that falls
     * 1,024 events behind while the stream replays is ended ({@code slow-consumer}) and connects again, as an
     * {@code EventSource} does; on a busy machine that can take a few tries.
     */
    private static String blocksView(String url, String roomId, String token) throws Exception {
        for (int attempt = 1; ; attempt++) {
            try (SseConnection stream = SseConnection.open(
                    ApiCalls.HTTP,
                    url + "/v1/rooms/" + roomId + "/stream?view=blocks",
                    Map.of("Authorization", "Bearer " + token))) {
                await().atMost(Duration.ofSeconds(60))
                        .until(() -> stream.events().stream()
                                .anyMatch(event -> event.name().equals("block")
                                        || event.name().equals("end")));
                var block = stream.events().stream()
                        .filter(event -> event.name().equals("block"))
                        .findFirst();
                if (block.isPresent()) {
                    return JSON.readTree(block.get().data()).get("text").asText();
                }
                String end = stream.events().get(stream.events().size() - 1).data();
                assertThat(attempt)
                        .as("the stream ended before the block, %d times: %s", attempt, end)
                        .isLessThan(5);
                assertThat(end).contains("slow-consumer");
            }
        }
    }

    private static List<JsonNode> list(JsonNode array) {
        List<JsonNode> items = new java.util.ArrayList<>();
        array.forEach(items::add);
        return items;
    }

    /** The calls of one principal. */
    private record Api(String url, String token) {

        HttpResponse<String> post(String path, String body) throws Exception {
            return ApiCalls.post(url + path, body, token);
        }

        JsonNode json(String path) throws Exception {
            HttpResponse<String> answer = ApiCalls.get(url + path, token);
            assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
            return JSON.readTree(answer.body());
        }

        String create(String path, String body, String idField) throws Exception {
            HttpResponse<String> created = post(path + "?wait=applied", body);
            assertThat(created.statusCode()).as(created.body()).isEqualTo(200);
            return JSON.readTree(created.body()).get(idField).asText();
        }

        void append(String roomId, String event) throws Exception {
            HttpResponse<String> answer = post("/v1/rooms/" + roomId + "/events", event);
            assertThat(answer.statusCode()).as(answer.body()).isEqualTo(202);
        }

        void appendApplied(String roomId, String event) throws Exception {
            HttpResponse<String> answer = post("/v1/rooms/" + roomId + "/events?wait=applied", event);
            assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
            assertThat(JSON.readTree(answer.body()).get("outcome").asText())
                    .as(answer.body())
                    .isEqualTo("applied");
        }
    }
}
