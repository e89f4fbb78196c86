package dev.substrate.api.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.substrate.event.InvalidEvent;
import dev.substrate.events.artifact.ArtifactEvent;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.events.run.RunEvent;
import dev.substrate.testing.SampleEvents;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class AvroJsonTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    static Stream<Object> events() {
        return Stream.of(
                        SampleEvents.runPayloads().stream().map(p -> SampleEvents.runEvent("run-1", p)),
                        SampleEvents.roomPayloads().stream().map(p -> SampleEvents.roomEvent("room-1", p)),
                        SampleEvents.artifactPayloads().stream().map(p -> SampleEvents.artifactEvent("a-1", p)))
                .flatMap(s -> s);
    }

    @ParameterizedTest
    @MethodSource("events")
    void everyEventRoundTripsThroughJson(Object event) {
        org.apache.avro.specific.SpecificRecord record = (org.apache.avro.specific.SpecificRecord) event;

        JsonNode json = AvroJson.toJson(record);

        assertThat(AvroJson.fromJson(json, record.getSchema(), "")).isEqualTo(event);
    }

    @Test
    void writesPayloadsWithTheirTypeAndTimestampsAsIsoStrings() {
        JsonNode json = AvroJson.toJson(
                SampleEvents.runEvent("run-1", SampleEvents.runPayloads().get(2)));

        assertThat(json.get("occurredAt").asText()).isEqualTo("2026-11-01T10:15:30.123Z");
        assertThat(json.get("payload").get("type").asText()).isEqualTo("RunWaiting");
        assertThat(json.get("payload").get("waitingOn").get("kind").asText()).isEqualTo("approval");
        assertThat(json.get("expectedVersion").isNull()).isTrue();
    }

    @Test
    void namesTheFieldAtFaultAsAPath() throws Exception {
        JsonNode bad = JSON.readTree("""
                {"type": "RunFailed", "failure": {"code": "x", "message": "m", "retryable": "yes"}}""");

        assertThatThrownBy(() -> AvroJson.fromJson(
                        bad, RunEvent.getClassSchema().getField("payload").schema(), "payload"))
                .isInstanceOfSatisfying(
                        InvalidEvent.class, e -> assertThat(e.field()).isEqualTo("payload.failure.retryable"));
    }

    @Test
    void refusesUnknownFieldsAndMissingRequiredOnes() throws Exception {
        assertThatThrownBy(() -> AvroJson.fromJson(
                        JSON.readTree("{\"type\": \"TextDelta\", \"blockId\": \"b\", \"text\": \"t\", \"extra\": 1}"),
                        RoomEvent.getClassSchema().getField("payload").schema(),
                        ""))
                .isInstanceOfSatisfying(
                        InvalidEvent.class, e -> assertThat(e.field()).isEqualTo("extra"));
        assertThatThrownBy(() -> AvroJson.fromJson(
                        JSON.readTree("{\"type\": \"ArtifactRegistered\", \"kind\": \"file\"}"),
                        ArtifactEvent.getClassSchema().getField("payload").schema(),
                        ""))
                .isInstanceOfSatisfying(
                        InvalidEvent.class, e -> assertThat(e.field()).isEqualTo("name"));
    }
}
