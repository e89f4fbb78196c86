package dev.substrate.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.substrate.api.auth.Role;
import dev.substrate.api.auth.TokenFile;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.crypto.ContentKeys;
import dev.substrate.event.WireCodec;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.events.room.TextDelta;
import dev.substrate.fold.FoldLimits;
import dev.substrate.kafka.embedded.EmbeddedKafka;
import dev.substrate.streams.FoldSettings;
import dev.substrate.streams.SubstrateFold;
import dev.substrate.testing.KafkaCluster;
import dev.substrate.testing.SseConnection;
import dev.substrate.testing.TestRecords;
import dev.substrate.testing.TestSettings;
import dev.substrate.topic.TopicSetup;
import dev.substrate.topic.Topics;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crypto-shredding, end to end, on a broker of its own (whose log directory the test reads): a project with
 * encryption on, a room holding a recognizable secret in a streamed block, a tool result, a log line and metadata.
 * Its content is sealed before it reaches Kafka, so no byte of the secret is on any disk (broker logs, changelogs,
 * state topics, RocksDB) while it reads back whole over the API, and a plain project's text (the control) is found on
 * disk. Erased, the room is gone, its key's bytes leave the broker's disk within the erasure bound, what is left on
 * the log can no longer be opened, another room of the project reads back whole, and a rebuild from the logs yields
 * the same rooms as the running fold.
 */
@Timeout(300)
class ErasureIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void anErasedRoomsContentIsUnreadableEverywhereWhileTheOthersReadBackWhole() throws Exception {
        String secret = "SECRET-" + Long.toHexString(new SecureRandom().nextLong()) + "-hunter2";
        String kept = "KEPT-" + Long.toHexString(new SecureRandom().nextLong());
        String plain = "PLAIN-" + Long.toHexString(new SecureRandom().nextLong());
        byte[] master = new byte[32];
        new SecureRandom().nextBytes(master);
        Path keyFile = dir.resolve("master.keys");
        Files.writeString(keyFile, "# test key\nk1=" + Base64.getEncoder().encodeToString(master) + "\n");

        try (EmbeddedKafka broker = EmbeddedKafka.builder()
                .dataDir(dir.resolve("broker"))
                .port(0)
                .brokerProperty("log.cleaner.backoff.ms", "200")
                .brokerProperty("log.segment.delete.delay.ms", "200")
                .start()) {
            KafkaCluster kafka = broker::bootstrapServers;
            TokenFile tokens = new TokenFile(dir.resolve("tokens.json"));
            String admin = tokens.create("admin", Set.of(Role.ADMIN));
            String operator = tokens.create("ops", Set.of(Role.OPERATOR));
            Path data = dir.resolve("instance");
            String[] encryption = {
                "encryption.projects", "project:secret/*",
                "encryption.master.key.file", keyFile.toString(),
                "erasure.bound.ms", "3000"
            };
            try (ApiInstance instance = ApiInstance.startReady(kafka, "erase", data, tokens, encryption)) {
                String url = instance.api.baseUrl();
                String erased = room(url, admin, "project:secret/web", secret, "the room to erase");
                String other = room(url, admin, "project:secret/web", kept, "a room that stays");
                String control = room(url, admin, "project:plain", plain, "a room of a plain project");

                // An artifact of the room whose bytes hold the secret across segment boundaries (64 KiB each).
                byte[] content = artifactContent(secret);
                String artifact = artifact(url, admin, erased, content);
                HttpResponse<byte[]> whole = ApiCalls.HTTP.send(
                        ApiCalls.request(url + "/v1/artifacts/" + artifact + "/content", admin)
                                .GET()
                                .build(),
                        HttpResponse.BodyHandlers.ofByteArray());
                assertThat(whole.statusCode()).isEqualTo(200);
                assertThat(whole.body()).isEqualTo(content);
                HttpResponse<byte[]> range = ApiCalls.HTTP.send(
                        ApiCalls.request(url + "/v1/artifacts/" + artifact + "/content", admin)
                                .header("Range", "bytes=65530-131080")
                                .GET()
                                .build(),
                        HttpResponse.BodyHandlers.ofByteArray());
                assertThat(range.statusCode()).isEqualTo(206);
                assertThat(range.body()).isEqualTo(java.util.Arrays.copyOfRange(content, 65530, 131081));

                // A room created and written in one batch, before the fold applied its creation: sealed too.
                HttpResponse<String> batch = ApiCalls.post(
                        url + "/v1/rooms/batch-room/events?wait=applied",
                        "[{\"type\": \"RoomCreated\", \"kind\": \"session\", \"project\": \"project:secret/web\"},"
                                + " {\"type\": \"LogEmitted\", \"level\": \"info\", \"message\": \"" + secret
                                + " batched\"}]",
                        admin);
                assertThat(batch.statusCode()).as(batch.body()).isEqualTo(200);
                assertThat(get(url + "/v1/rooms/batch-room/transcript", admin).body())
                        .contains(secret + " batched");

                // Read back whole, opened, from the state stores and from the room log.
                String transcript =
                        get(url + "/v1/rooms/" + erased + "/transcript", admin).body();
                assertThat(transcript).contains(secret + " streamed", secret + " tool result", secret + " log line");
                assertThat(get(url + "/v1/rooms/" + erased, admin).body()).contains(secret + " metadata");
                assertThat(stream(url, erased, admin))
                        .contains("\"text\":\"" + secret + "\"", secret + " tool result", secret + " metadata");

                // Sealed before Kafka: not a byte of it on disk, while the plain project's text is.
                Topics topics = instance.topics;
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> found(plain, broker.logDir(), data)
                                && TestRecords.latestByKey(kafka, topics.rooms().name())
                                                .size()
                                        == 4);
                assertThat(found(secret, broker.logDir(), data))
                        .as("the secret on disk")
                        .isFalse();
                assertThat(found(kept, broker.logDir(), data)).isFalse();
                List<String> wrapped = wrappedKeys(kafka, topics, erased);
                assertThat(wrapped).isNotEmpty();
                assertThat(found(wrapped.get(0), broker.logDir()))
                        .as("the wrapped key on disk")
                        .isTrue();

                // Only an admin erases; the erasure record lists what it cleared.
                String body = "{\"room\": \"" + erased + "\", \"reason\": \"data subject request 17\"}";
                assertThat(ApiCalls.post(url + "/v1/erasures", body, operator).statusCode())
                        .isEqualTo(403);
                HttpResponse<String> erasure = ApiCalls.post(url + "/v1/erasures", body, admin);
                assertThat(erasure.statusCode()).as(erasure.body()).isEqualTo(200);
                JsonNode record = JSON.readTree(erasure.body());
                assertThat(record.path("requestedBy").asText()).isEqualTo("admin");
                assertThat(record.path("cleared").size()).isGreaterThanOrEqualTo(4);
                assertThat(record.path("cleared").toString()).contains("content keys (1)");
                assertThat(get(url + "/v1/rooms/" + erased, admin).statusCode()).isEqualTo(404);
                assertThat(ApiCalls.post(url + "/v1/erasures", body, admin).statusCode())
                        .isEqualTo(404);
                assertThat(get(url + "/v1/artifacts/" + artifact + "/content", admin)
                                .statusCode())
                        .isNotEqualTo(200);

                // Within the bound (given writes that roll the keys topic's segment), the key's bytes leave the disk.
                List<String> more = new ArrayList<>();
                await().atMost(Duration.ofSeconds(90))
                        .pollInterval(Duration.ofSeconds(2))
                        .until(() -> {
                            more.add(room(url, admin, "project:secret/api", kept, "rolls the segments"));
                            return !found(wrapped.get(0), broker.logDir());
                        });

                // A project's erasure erases each of its encrypted rooms.
                HttpResponse<String> projectErased = ApiCalls.post(
                        url + "/v1/erasures",
                        "{\"project\": \"project:secret/api\", \"reason\": \"the project ended\"}",
                        admin);
                assertThat(projectErased.statusCode()).as(projectErased.body()).isEqualTo(200);
                assertThat(JSON.readTree(projectErased.body()).path("rooms").findValuesAsText("room"))
                        .containsExactlyInAnyOrderElementsOf(more);
                assertThat(more)
                        .allSatisfy(roomId -> assertThat(
                                        get(url + "/v1/rooms/" + roomId, admin).statusCode())
                                .isEqualTo(404));
                assertThat(get(url + "/v1/rooms/" + other, admin).statusCode()).isEqualTo(200);

                // What is left on the log cannot be opened, by this instance or one started after.
                SubstrateConfig reader = SubstrateConfig.of(TestSettings.of(
                        kafka,
                        prefixOf(topics),
                        dir.resolve("reader"),
                        "reader",
                        "encryption.projects",
                        "project:secret/*",
                        "encryption.master.key.file",
                        keyFile.toString()));
                try (ContentKeys keys = ContentKeys.start(reader, topics).orElseThrow()) {
                    List<RoomEvent> events = events(kafka, topics);
                    List<String> erasedDeltas = deltas(events, erased);
                    List<String> otherDeltas = deltas(events, other);
                    assertThat(erasedDeltas)
                            .isNotEmpty()
                            .allSatisfy(text -> assertThat(text).doesNotContain(secret));
                    assertThat(erasedDeltas)
                            .allSatisfy(text -> assertThat(keys.open(ContentKeys.room(erased), text))
                                    .isEmpty());
                    assertThat(otherDeltas)
                            .anySatisfy(text -> assertThat(keys.open(ContentKeys.room(other), text))
                                    .contains(kept));
                }
                assertThat(get(url + "/v1/rooms/" + other + "/transcript", admin)
                                .body())
                        .contains(kept + " streamed", kept + " tool result", kept + " log line");
                assertThat(found(secret, broker.logDir(), data)).isFalse();

                // A rebuild from the logs yields the same rooms as the running fold: the erased one is not there.
                Topics rebuilt = new Topics(prefixOf(topics), prefixOf(topics) + "rebuilt.", 1024 * 1024);
                try (Admin admin2 = kafka.admin()) {
                    TopicSetup.ensure(admin2, rebuilt, 3, (short) -1);
                }
                Map<String, String> rooms =
                        TestRecords.latestByKey(kafka, topics.rooms().name());
                assertThat(rooms).doesNotContainKey(erased).containsKeys(other, control);
                SubstrateConfig rebuilding =
                        SubstrateConfig.of(TestSettings.of(kafka, prefixOf(topics), dir.resolve("rebuild"), "rebuild"));
                FoldSettings settings = new FoldSettings(
                        rebuilt,
                        FoldLimits.of(1024 * 1024),
                        Duration.ofDays(7),
                        Duration.ofDays(7),
                        Duration.ofMillis(200));
                try (SubstrateFold fold = SubstrateFold.start(rebuilding, settings)) {
                    await().atMost(Duration.ofSeconds(90))
                            .until(() -> fold.isRunning()
                                    && TestRecords.latestByKey(
                                                    kafka, rebuilt.rooms().name())
                                            .keySet()
                                            .equals(rooms.keySet()));
                }
                assertThat(TestRecords.latestByKey(kafka, rebuilt.rooms().name()))
                        .isEqualTo(rooms);
                assertThat(more).isNotEmpty();
            }
        }
    }

    /** Creates a room of {@code project} and writes {@code text} into a streamed block, a tool result, a log line and metadata. */
    private static String room(String url, String token, String project, String text, String title) throws Exception {
        HttpResponse<String> created = ApiCalls.post(
                url + "/v1/rooms?wait=applied",
                "{\"kind\": \"session\", \"project\": \"" + project + "\", \"title\": \"" + title + "\"}",
                token);
        assertThat(created.statusCode()).as(created.body()).isEqualTo(200);
        String roomId = JSON.readTree(created.body()).path("roomId").asText();
        HttpResponse<String> appended = ApiCalls.post(
                url + "/v1/rooms/" + roomId + "/events?wait=applied",
                "[{\"type\": \"BlockStarted\", \"blockId\": \"b1\", \"kind\": \"text\", \"role\": \"assistant\"},"
                        + " {\"type\": \"TextDelta\", \"blockId\": \"b1\", \"text\": \"" + text + "\"},"
                        + " {\"type\": \"TextDelta\", \"blockId\": \"b1\", \"text\": \" streamed\"},"
                        + " {\"type\": \"BlockCompleted\", \"blockId\": \"b1\"},"
                        + " {\"type\": \"BlockStarted\", \"blockId\": \"b2\", \"kind\": \"tool_result\","
                        + " \"metadata\": {\"toolCallId\": \"call-1\"}},"
                        + " {\"type\": \"BlockCompleted\", \"blockId\": \"b2\", \"text\": \"" + text
                        + " tool result\"},"
                        + " {\"type\": \"LogEmitted\", \"level\": \"info\", \"message\": \"" + text + " log line\"},"
                        + " {\"type\": \"MetadataUpdated\", \"metadata\": {\"note\": \"" + text + " metadata\"}}]",
                token);
        assertThat(appended.statusCode()).as(appended.body()).isEqualTo(200);
        return roomId;
    }

    /** About 160 KiB that hold {@code secret} at the start, across the first segment boundary and at the end. */
    private static byte[] artifactContent(String secret) {
        byte[] content = new byte[160 * 1024];
        java.util.Arrays.fill(content, (byte) '.');
        byte[] text = secret.getBytes(StandardCharsets.UTF_8);
        System.arraycopy(text, 0, content, 0, text.length);
        System.arraycopy(text, 0, content, 65536 - text.length / 2, text.length);
        System.arraycopy(text, 0, content, content.length - text.length, text.length);
        return content;
    }

    /** Registers an artifact of {@code roomId} and stores {@code content} as its bytes. */
    private static String artifact(String url, String token, String roomId, byte[] content) throws Exception {
        HttpResponse<String> registered = ApiCalls.post(
                url + "/v1/artifacts?wait=applied",
                "{\"kind\": \"report\", \"name\": \"notes.txt\", \"parentId\": \"project:secret/web\","
                        + " \"provenance\": {\"roomId\": \"" + roomId + "\"}}",
                token);
        assertThat(registered.statusCode()).as(registered.body()).isEqualTo(200);
        String artifactId = JSON.readTree(registered.body()).path("artifactId").asText();
        HttpResponse<String> stored = ApiCalls.HTTP.send(
                ApiCalls.request(url + "/v1/artifacts/" + artifactId + "/content?wait=applied", token)
                        .header("Content-Type", "text/plain")
                        .PUT(java.net.http.HttpRequest.BodyPublishers.ofByteArray(content))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(stored.statusCode()).as(stored.body()).isEqualTo(200);
        assertThat(JSON.readTree(stored.body()).path("size").asLong()).isEqualTo(content.length);
        return artifactId;
    }

    private static HttpResponse<String> get(String url, String token) throws Exception {
        return ApiCalls.get(url, token);
    }

    /** The room's stream from its start, as SSE, until its last event (the metadata) has come. */
    private static String stream(String url, String roomId, String token) {
        try (SseConnection connection = SseConnection.open(
                ApiCalls.HTTP, url + "/v1/rooms/" + roomId + "/stream", Map.of("Authorization", "Bearer " + token))) {
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> connection.events().stream()
                            .anyMatch(event -> event.data().contains(" metadata")));
            StringBuilder seen = new StringBuilder();
            connection.events().forEach(event -> seen.append(event.data()).append('\n'));
            return seen.toString();
        }
    }

    /** Whether any file under {@code dirs} holds {@code text}'s UTF-8 bytes. */
    private static boolean found(String text, Path... dirs) throws IOException {
        byte[] needle = text.getBytes(StandardCharsets.UTF_8);
        for (Path dir : dirs) {
            List<Path> files;
            try (Stream<Path> walk = Files.walk(dir)) {
                files = walk.filter(Files::isRegularFile).toList();
            }
            for (Path file : files) {
                byte[] bytes;
                try {
                    bytes = Files.readAllBytes(file);
                } catch (IOException gone) {
                    continue; // a segment the cleaner replaced as it was read
                }
                if (indexOf(bytes, needle) >= 0) {
                    return true;
                }
            }
        }
        return false;
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i <= haystack.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    /** The wrapped key text of each key of {@code roomId}, as the keys topic holds it. */
    private static List<String> wrappedKeys(KafkaCluster kafka, Topics topics, String roomId) throws IOException {
        List<String> wrapped = new ArrayList<>();
        for (var record : TestRecords.readAll(kafka, topics.keys().name())) {
            if (record.key().startsWith(ContentKeys.room(roomId) + "/") && record.value() != null) {
                wrapped.add(JSON.readTree(record.value()).path("wrapped").asText());
            }
        }
        return wrapped;
    }

    private static List<RoomEvent> events(KafkaCluster kafka, Topics topics) {
        return TestRecords.readAll(kafka, topics.roomEvents().name()).stream()
                .map(record -> WireCodec.ROOM.decode(record.value()))
                .toList();
    }

    private static List<String> deltas(List<RoomEvent> events, String roomId) {
        return events.stream()
                .filter(event -> event.getRoomId().equals(roomId))
                .filter(event -> event.getPayload() instanceof TextDelta)
                .map(event -> ((TextDelta) event.getPayload()).getText())
                .toList();
    }

    private static String prefixOf(Topics topics) {
        String name = topics.roomEvents().name();
        return name.substring(0, name.length() - "room-events".length());
    }
}
