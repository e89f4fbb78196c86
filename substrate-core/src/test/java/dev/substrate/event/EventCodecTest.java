package dev.substrate.event;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.substrate.events.artifact.ArtifactEvent;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.events.run.RunEvent;
import dev.substrate.schemas.Envelope;
import dev.substrate.schemas.ReleasedSchemas;
import dev.substrate.testing.SampleEvents;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageEncoder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class EventCodecTest {

    static Stream<Object> runPayloads() {
        return SampleEvents.runPayloads().stream();
    }

    static Stream<Object> roomPayloads() {
        return SampleEvents.roomPayloads().stream();
    }

    static Stream<Object> artifactPayloads() {
        return SampleEvents.artifactPayloads().stream();
    }

    @ParameterizedTest
    @MethodSource("runPayloads")
    void everyRunEventRoundTrips(Object payload) {
        RunEvent event = SampleEvents.runEvent("run-1", payload);

        assertThat(EventCodec.RUN.decode(EventCodec.RUN.encode(event))).isEqualTo(event);
    }

    @ParameterizedTest
    @MethodSource("roomPayloads")
    void everyRoomEventRoundTrips(Object payload) {
        RoomEvent event = SampleEvents.roomEvent("room-1", payload);

        assertThat(EventCodec.ROOM.decode(EventCodec.ROOM.encode(event))).isEqualTo(event);
    }

    @ParameterizedTest
    @MethodSource("artifactPayloads")
    void everyArtifactEventRoundTrips(Object payload) {
        ArtifactEvent event = SampleEvents.artifactEvent("artifact-1", payload);

        assertThat(EventCodec.ARTIFACT.decode(EventCodec.ARTIFACT.encode(event)))
                .isEqualTo(event);
    }

    @Test
    void samplesCoverEveryPayloadInTheSchemas() {
        assertThat(SampleEvents.runPayloads()).hasSize(payloadTypes(Envelope.RUN));
        assertThat(SampleEvents.roomPayloads()).hasSize(payloadTypes(Envelope.ROOM));
        assertThat(SampleEvents.artifactPayloads()).hasSize(payloadTypes(Envelope.ARTIFACT));
    }

    @Test
    void writesTheSingleObjectHeaderWithTheSchemaFingerprintLittleEndian() {
        byte[] bytes = EventCodec.RUN.encode(
                SampleEvents.runEvent("run-1", SampleEvents.runPayloads().get(1)));
        long released = ReleasedSchemas.of(Envelope.RUN).get(0).fingerprint();

        assertThat(Arrays.copyOf(bytes, 2)).containsExactly(0xC3, 0x01);
        assertThat(EventCodec.fingerprintOf(bytes)).isEqualTo(released);
        assertThat(ByteBuffer.wrap(bytes, 2, 8)
                        .order(java.nio.ByteOrder.LITTLE_ENDIAN)
                        .getLong())
                .isEqualTo(released);
    }

    @Test
    void readsARecordWrittenByAnotherWriterWithTheReleasedSchema() {
        Schema v1 = ReleasedSchemas.of(Envelope.RUN).get(0).schema();
        RunEvent original =
                SampleEvents.runEvent("run-7", SampleEvents.runPayloads().get(7));
        GenericRecord generic = toGeneric(original, v1);

        byte[] bytes = encodeGeneric(generic, v1);

        assertThat(EventCodec.RUN.decode(bytes)).isEqualTo(original);
    }

    @Test
    void refusesBytesWithoutTheMarker() {
        byte[] garbage = new byte[64];
        new Random(7).nextBytes(garbage);
        garbage[0] = 0x00;

        assertThatThrownBy(() -> EventCodec.RUN.decode(garbage))
                .isInstanceOfSatisfying(
                        UndecodableEvent.class,
                        e -> assertThat(e.reason()).isEqualTo(UndecodableEvent.Reason.BAD_HEADER));
    }

    @Test
    void refusesBytesTooShortForAHeader() {
        assertThatThrownBy(() -> EventCodec.RUN.decode(new byte[] {(byte) 0xC3, 0x01, 0x00}))
                .isInstanceOfSatisfying(
                        UndecodableEvent.class,
                        e -> assertThat(e.reason()).isEqualTo(UndecodableEvent.Reason.BAD_HEADER));
        assertThatThrownBy(() -> EventCodec.RUN.decode(null)).isInstanceOf(UndecodableEvent.class);
    }

    @Test
    void refusesAnUnknownFingerprintNamingIt() {
        byte[] bytes = EventCodec.RUN.encode(
                SampleEvents.runEvent("run-1", SampleEvents.runPayloads().get(1)));
        bytes[5] ^= 0x5A;

        assertThatThrownBy(() -> EventCodec.RUN.decode(bytes))
                .isInstanceOfSatisfying(
                        UndecodableEvent.class,
                        e -> assertThat(e.reason()).isEqualTo(UndecodableEvent.Reason.UNKNOWN_SCHEMA))
                .hasMessageContaining(ReleasedSchemas.hex(EventCodec.fingerprintOf(bytes)));
    }

    @Test
    void refusesATruncatedBody() {
        byte[] bytes = EventCodec.RUN.encode(
                SampleEvents.runEvent("run-1", SampleEvents.runPayloads().get(0)));

        for (int length = EventCodec.HEADER_LENGTH; length < bytes.length; length += 7) {
            byte[] truncated = Arrays.copyOf(bytes, length);
            assertThatThrownBy(() -> EventCodec.RUN.decode(truncated))
                    .as("truncated to %d of %d bytes", length, bytes.length)
                    .isInstanceOfSatisfying(
                            UndecodableEvent.class,
                            e -> assertThat(e.reason()).isEqualTo(UndecodableEvent.Reason.MALFORMED_BODY));
        }
    }

    @Test
    void refusesARunEventOnTheRoomCodec() {
        byte[] run = EventCodec.RUN.encode(
                SampleEvents.runEvent("run-1", SampleEvents.runPayloads().get(1)));

        assertThatThrownBy(() -> EventCodec.ROOM.decode(run))
                .isInstanceOfSatisfying(
                        UndecodableEvent.class,
                        e -> assertThat(e.reason()).isEqualTo(UndecodableEvent.Reason.UNKNOWN_SCHEMA));
    }

    private static int payloadTypes(Envelope envelope) {
        return envelope.currentSchema().getField("payload").schema().getTypes().size();
    }

    private static GenericRecord toGeneric(RunEvent event, Schema schema) {
        byte[] bytes = EventCodec.RUN.encode(event);
        GenericData model = new GenericData();
        org.apache.avro.message.BinaryMessageDecoder<GenericRecord> decoder =
                new org.apache.avro.message.BinaryMessageDecoder<>(model, schema);
        try {
            return decoder.decode(bytes);
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    private static byte[] encodeGeneric(GenericRecord record, Schema schema) {
        try {
            ByteBuffer buffer = new BinaryMessageEncoder<GenericRecord>(new GenericData(), schema).encode(record);
            byte[] bytes = new byte[buffer.remaining()];
            buffer.get(bytes);
            return bytes;
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }
}
