package dev.substrate.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.substrate.api.auth.Role;
import dev.substrate.api.auth.TokenFile;
import dev.substrate.client.Appended;
import dev.substrate.event.InvalidEvent;
import dev.substrate.event.WireCodec;
import dev.substrate.events.artifact.ArtifactEvent;
import dev.substrate.events.artifact.ArtifactRevised;
import dev.substrate.events.room.BlockCompleted;
import dev.substrate.events.room.BlockStarted;
import dev.substrate.events.room.LogEmitted;
import dev.substrate.events.room.LogLevel;
import dev.substrate.events.room.Member;
import dev.substrate.events.room.MemberGranted;
import dev.substrate.events.room.MetadataUpdated;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.events.room.RoomRole;
import dev.substrate.events.room.TextDelta;
import dev.substrate.events.run.RunEvent;
import dev.substrate.events.run.RunLabelled;
import dev.substrate.state.Rejection;
import dev.substrate.testing.KafkaCluster;
import dev.substrate.testing.SampleEvents;
import dev.substrate.testing.SharedKafka;
import dev.substrate.testing.TestRecords;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A soak of valid input at its extremes, interleaved at random on a real broker: 4,000 deltas to one block,
 * events at {@code max.event.bytes}, thousands of labels, members and metadata keys, an artifact with over a thousand
 * revisions. Every event ends applied or rejected with a reason, the fold stays ready throughout, and reads
 * of other entities answer all along.
 */
@ExtendWith(SharedKafka.class)
@Timeout(600)
class FoldSoakIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_EVENT_BYTES = 1024 * 1024;
    /** The reasons the extremes may be refused for: what events add up to, never a failed write. */
    private static final Set<String> LIMIT_REASONS = Set.of("state_too_large", "block_too_large", "entry_too_large");

    private final Random random = new Random(20261201);

    @TempDir
    Path dataDir;

    @Test
    void randomValidSequencesAtTheExtremesAreEachDecidedWhileTheFoldStaysReady(KafkaCluster kafka) throws Exception {
        TokenFile tokens = new TokenFile(dataDir.resolve("tokens.json"));
        String token = tokens.create("ops", Set.of(Role.OPERATOR));
        try (ApiInstance instance = ApiInstance.startReady(kafka, "soak", dataDir, tokens);
                ReadinessWatch watch = ReadinessWatch.start(instance.url(), token)) {
            Map<String, String> controls = controls(instance, token);
            controls.values().forEach(watch::alsoRead);

            StringBuilder longBlock = new StringBuilder();
            List<Iterator<Object>> workloads = new ArrayList<>(List.of(
                    longBlock("soak-block", longBlock),
                    eventsAtTheLimit("soak-big"),
                    labels("soak-labels"),
                    members("soak-members"),
                    metadata("soak-metadata"),
                    revisions("soak-revisions")));
            Map<String, Integer> sent = new LinkedHashMap<>();
            Map<String, String> lastEventIds = new HashMap<>();
            List<CompletableFuture<Appended>> appends = new ArrayList<>();
            while (!workloads.isEmpty()) {
                Iterator<Object> workload = workloads.get(random.nextInt(workloads.size()));
                if (!workload.hasNext()) {
                    workloads.remove(workload);
                    continue;
                }
                Object event = workload.next();
                String entityId = entityId(event);
                sent.merge(entityId, 1, Integer::sum);
                lastEventIds.put(entityId, eventId(event));
                appends.add(append(instance, event));
            }
            CompletableFuture.allOf(appends.toArray(CompletableFuture[]::new)).get();
            int total = sent.values().stream().mapToInt(Integer::intValue).sum();
            System.out.printf("soak: %d events appended: %s%n", total, sent);

            // One byte past the limit is refused at the door, before Kafka.
            RoomEvent tooLarge = delta("soak-big", MAX_EVENT_BYTES + 1);
            assertThatThrownBy(() -> instance.client.append(tooLarge)).isInstanceOf(InvalidEvent.class);

            Api api = new Api(instance.url(), token);
            for (Map.Entry<String, String> last : lastEventIds.entrySet()) {
                String path = path(last.getKey()) + "/outcomes/" + last.getValue();
                await().atMost(Duration.ofMinutes(5))
                        .pollInterval(Duration.ofMillis(200))
                        .until(() -> ApiCalls.get(api.url() + path, token).statusCode() == 200);
            }

            Map<String, List<String>> reasons = rejections(kafka, instance).stream()
                    .collect(Collectors.groupingBy(
                            Rejection::getEntityId, Collectors.mapping(Rejection::getReason, Collectors.toList())));
            for (Map.Entry<String, Integer> entity : sent.entrySet()) {
                JsonNode state = api.json(path(entity.getKey()));
                List<String> refused = reasons.getOrDefault(entity.getKey(), List.of());
                System.out.printf(
                        "soak: %s: %d sent, %d applied, %d rejected %s%n",
                        entity.getKey(),
                        entity.getValue(),
                        state.get("version").asLong(),
                        refused.size(),
                        new java.util.TreeSet<>(refused));
                assertThat(state.get("version").asLong() + refused.size())
                        .as("every event of %s applied or rejected", entity.getKey())
                        .isEqualTo(entity.getValue().longValue());
                assertThat(refused)
                        .as("why events of %s were refused", entity.getKey())
                        .allMatch(LIMIT_REASONS::contains);
            }
            assertThat(reasons.get("soak-labels")).as("labels past the limit").isNotEmpty();
            assertThat(reasons.get("soak-metadata"))
                    .as("metadata past the limit")
                    .isNotEmpty();
            assertThat(reasons.get("soak-revisions"))
                    .as("revisions past the limit")
                    .isNotEmpty();
            assertThat(reasons.get("soak-big"))
                    .as("a block past block.max.bytes")
                    .contains("block_too_large");
            assertThat(reasons).as("thousands of members fit").doesNotContainKey("soak-members");
            assertThat(api.json(path("soak-members")).get("members").size()).isEqualTo(2_001);
            assertThat(api.json(path("soak-labels")).get("labels").size()).isGreaterThan(1_000);

            JsonNode block =
                    api.json("/v1/rooms/soak-block/transcript").get("items").get(0);
            assertThat(block.get("text").asText()).isEqualTo(longBlock.toString());
            JsonNode big = api.json("/v1/rooms/soak-big/transcript");
            assertThat(big.get("items").get(0).get("text").asText().length())
                    .as("the block at the limit, read whole")
                    .isGreaterThan(15 * MAX_EVENT_BYTES);
            watch.assertAnsweredThroughout();
        }
    }

    // --- workloads: each an entity's events in order ---

    /** A block of 4,000 deltas of 1 to 200 characters of one- to four-byte UTF-8: past its part size three times. */
    private Iterator<Object> longBlock(String roomId, StringBuilder expected) {
        List<Object> events = new ArrayList<>();
        events.add(room(roomId, SampleEvents.roomPayloads().get(0)));
        events.add(room(
                roomId,
                BlockStarted.newBuilder().setBlockId("b").setKind("tool_result").build()));
        String[] pieces = {"a", "é", "✓", "😀", " "};
        for (int i = 0; i < 4_000; i++) {
            StringBuilder text = new StringBuilder();
            int length = 1 + random.nextInt(200);
            while (text.length() < length) {
                text.append(pieces[random.nextInt(pieces.length)]);
            }
            expected.append(text);
            events.add(room(roomId, new TextDelta("b", text.toString())));
        }
        events.add(room(roomId, new BlockCompleted("b", null)));
        return events.iterator();
    }

    /**
     * Twenty deltas and a log line each exactly {@code max.event.bytes} encoded: the block passes {@code
     * block.max.bytes} (16 MiB) at its seventeenth delta.
     */
    private Iterator<Object> eventsAtTheLimit(String roomId) {
        List<Supplier<Object>> events = new ArrayList<>();
        events.add(() -> room(roomId, SampleEvents.roomPayloads().get(0)));
        events.add(() -> room(
                roomId,
                BlockStarted.newBuilder().setBlockId("big").setKind("text").build()));
        for (int i = 0; i < 20; i++) {
            events.add(() -> delta(roomId, MAX_EVENT_BYTES));
        }
        events.add(() -> room(roomId, new BlockCompleted("big", null)));
        events.add(() -> ofEncodedSize(text -> room(roomId, new LogEmitted(LogLevel.info, text)), MAX_EVENT_BYTES));
        // Built one at a time: twenty 1 MiB strings are not held at once.
        Iterator<Supplier<Object>> suppliers = events.iterator();
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return suppliers.hasNext();
            }

            @Override
            public Object next() {
                return suppliers.next().get();
            }
        };
    }

    /** A hundred label events of 64 new labels of 1,000 characters each. */
    private Iterator<Object> labels(String runId) {
        List<Object> events = new ArrayList<>();
        events.add(SampleEvents.runEvent(runId, SampleEvents.runPayloads().get(0)));
        for (int i = 0; i < 100; i++) {
            Map<String, String> labels = new HashMap<>();
            for (int j = 0; j < 64; j++) {
                labels.put("k" + i + "-" + j, "v".repeat(1_000));
            }
            events.add(SampleEvents.runEvent(runId, new RunLabelled(labels, List.of())));
        }
        return events.iterator();
    }

    /** Two thousand members. */
    private Iterator<Object> members(String roomId) {
        List<Object> events = new ArrayList<>();
        events.add(room(roomId, SampleEvents.roomPayloads().get(0)));
        for (int i = 0; i < 2_000; i++) {
            RoomRole role = RoomRole.values()[random.nextInt(RoomRole.values().length)];
            events.add(room(roomId, new MemberGranted(new Member("member-" + i + "@example.com", role))));
        }
        return events.iterator();
    }

    /**
     * A hundred metadata updates of 64 new keys with 500-character values: the state is full after about 34, and the
     * rest are refused (each refusal measures a state at the limit, so a thousand cost a tenth of the soak's time).
     */
    private Iterator<Object> metadata(String roomId) {
        List<Object> events = new ArrayList<>();
        events.add(room(roomId, SampleEvents.roomPayloads().get(0)));
        for (int i = 0; i < 100; i++) {
            Map<String, String> metadata = new HashMap<>();
            for (int j = 0; j < 64; j++) {
                metadata.put("m" + i + "." + j, "w".repeat(500));
            }
            events.add(room(roomId, new MetadataUpdated(metadata)));
        }
        return events.iterator();
    }

    /** 1,200 revisions with notes of 1,000 characters: the state is full after about 930, the rest refused. */
    private Iterator<Object> revisions(String artifactId) {
        List<Object> events = new ArrayList<>();
        events.add(artifact(artifactId, SampleEvents.artifactPayloads().get(0)));
        for (int i = 0; i < 1_200; i++) {
            events.add(artifact(
                    artifactId,
                    ArtifactRevised.newBuilder()
                            .setRemoteId("r" + i)
                            .setNote("n".repeat(1_000))
                            .build()));
        }
        return events.iterator();
    }

    // --- helpers ---

    /** A run and a room of their own, read all along while the soak runs. */
    private static Map<String, String> controls(ApiInstance instance, String token) throws Exception {
        instance.client
                .append(SampleEvents.runEvent(
                        "control-run", SampleEvents.runPayloads().get(0)))
                .get();
        instance.client
                .append(room("control-room", SampleEvents.roomPayloads().get(0)))
                .get();
        Api api = new Api(instance.url(), token);
        await().atMost(Duration.ofSeconds(60))
                .until(() ->
                        ApiCalls.get(api.url() + "/v1/runs/control-run", token).statusCode() == 200
                                && ApiCalls.get(api.url() + "/v1/rooms/control-room", token)
                                                .statusCode()
                                        == 200);
        return Map.of("run", "/v1/runs/control-run", "room", "/v1/rooms/control-room");
    }

    /** A delta to block {@code big} whose event, encoded, is exactly {@code bytes} long. */
    private static RoomEvent delta(String roomId, int bytes) {
        return ofEncodedSize(text -> room(roomId, new TextDelta("big", text)), bytes);
    }

    /** The event {@code withText} makes of the text that makes it exactly {@code bytes} long, encoded. */
    private static RoomEvent ofEncodedSize(Function<String, RoomEvent> withText, int bytes) {
        int overhead = WireCodec.ROOM.encode(withText.apply("x")).length - 1;
        // Avro writes a string's length as a varint: a longer text takes more length bytes.
        for (int length = bytes - overhead; length > 0; length--) {
            RoomEvent event = withText.apply("t".repeat(length));
            if (WireCodec.ROOM.encode(event).length == bytes) {
                return event;
            }
        }
        throw new IllegalStateException("no text makes an event of " + bytes + " bytes");
    }

    private static RoomEvent room(String roomId, Object payload) {
        return SampleEvents.roomEvent(roomId, payload);
    }

    private static ArtifactEvent artifact(String artifactId, Object payload) {
        return ArtifactEvent.newBuilder(SampleEvents.artifactEvent(artifactId, payload))
                .setExpectedVersion(null)
                .build();
    }

    private static CompletableFuture<Appended> append(ApiInstance instance, Object event) {
        if (event instanceof RunEvent run) {
            return instance.client.append(run);
        }
        if (event instanceof RoomEvent room) {
            return instance.client.append(room);
        }
        return instance.client.append((ArtifactEvent) event);
    }

    private static String entityId(Object event) {
        if (event instanceof RunEvent run) {
            return run.getRunId();
        }
        if (event instanceof RoomEvent room) {
            return room.getRoomId();
        }
        return ((ArtifactEvent) event).getArtifactId();
    }

    private static String eventId(Object event) {
        if (event instanceof RunEvent run) {
            return run.getEventId();
        }
        if (event instanceof RoomEvent room) {
            return room.getEventId();
        }
        return ((ArtifactEvent) event).getEventId();
    }

    private static String path(String entityId) {
        if (entityId.equals("soak-labels")) {
            return "/v1/runs/" + entityId;
        }
        if (entityId.equals("soak-revisions")) {
            return "/v1/artifacts/" + entityId;
        }
        return "/v1/rooms/" + entityId;
    }

    private static List<Rejection> rejections(KafkaCluster kafka, ApiInstance instance) {
        List<Rejection> rejections = new ArrayList<>();
        for (ConsumerRecord<String, byte[]> record :
                TestRecords.readAll(kafka, instance.topics.rejections().name())) {
            rejections.add(WireCodec.REJECTION.decode(record.value()));
        }
        return rejections;
    }

    private record Api(String url, String token) {
        JsonNode json(String path) throws Exception {
            HttpResponse<String> answer = ApiCalls.get(url + path, token);
            assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
            return JSON.readTree(answer.body());
        }
    }
}
