package dev.substrate.event;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.substrate.events.artifact.ArtifactEvent;
import dev.substrate.events.common.Correlation;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.events.run.RunEvent;
import dev.substrate.schemas.ReleasedSchemas;
import dev.substrate.schemas.WireSchema;
import dev.substrate.testing.SampleEvents;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageEncoder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class WireCodecTest {

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

        assertThat(WireCodec.RUN.decode(WireCodec.RUN.encode(event))).isEqualTo(event);
    }

    @ParameterizedTest
    @MethodSource("roomPayloads")
    void everyRoomEventRoundTrips(Object payload) {
        RoomEvent event = SampleEvents.roomEvent("room-1", payload);

        assertThat(WireCodec.ROOM.decode(WireCodec.ROOM.encode(event))).isEqualTo(event);
    }

    @ParameterizedTest
    @MethodSource("artifactPayloads")
    void everyArtifactEventRoundTrips(Object payload) {
        ArtifactEvent event = SampleEvents.artifactEvent("artifact-1", payload);

        assertThat(WireCodec.ARTIFACT.decode(WireCodec.ARTIFACT.encode(event))).isEqualTo(event);
    }

    @ParameterizedTest
    @MethodSource("runPayloads")
    void writesTheBytesAvrosOwnRunEncoderWrites(Object payload) throws Exception {
        RunEvent event = SampleEvents.runEvent("run-1", payload);

        assertThat(WireCodec.RUN.encode(event))
                .isEqualTo(avro(RunEvent.getEncoder().encode(event)));
    }

    @ParameterizedTest
    @MethodSource("roomPayloads")
    void writesTheBytesAvrosOwnRoomEncoderWrites(Object payload) throws Exception {
        RoomEvent event = SampleEvents.roomEvent("room-1", payload);

        assertThat(WireCodec.ROOM.encode(event))
                .isEqualTo(avro(RoomEvent.getEncoder().encode(event)));
    }

    @ParameterizedTest
    @MethodSource("artifactPayloads")
    void writesTheBytesAvrosOwnArtifactEncoderWrites(Object payload) throws Exception {
        ArtifactEvent event = SampleEvents.artifactEvent("artifact-1", payload);

        assertThat(WireCodec.ARTIFACT.encode(event))
                .isEqualTo(avro(ArtifactEvent.getEncoder().encode(event)));
    }

    @Test
    void aRecordPastTheKeptBufferIsWholeAndTheNextSmallOneToo() throws Exception {
        // 2 MiB of text grows the thread's buffer past what it keeps; the record after it starts from a fresh one.
        RoomEvent large = SampleEvents.roomEvent(
                "room-1",
                dev.substrate.events.room.TextDelta.newBuilder()
                        .setBlockId("b1")
                        .setText("x".repeat(2 << 20))
                        .build());
        RoomEvent small =
                SampleEvents.roomEvent("room-2", SampleEvents.roomPayloads().get(1));

        assertThat(WireCodec.ROOM.encode(large))
                .isEqualTo(avro(RoomEvent.getEncoder().encode(large)));
        assertThat(WireCodec.ROOM.encode(small))
                .isEqualTo(avro(RoomEvent.getEncoder().encode(small)));
        assertThat(WireCodec.ROOM.decode(WireCodec.ROOM.encode(large))).isEqualTo(large);
    }

    @Test
    void aRecordThatFailsHalfWrittenLeavesNothingInTheNextOnesBytes() throws Exception {
        // The event id is written before the missing run id stops the write: those bytes must not reach the next.
        RunEvent broken = new RunEvent(
                "e-broken",
                null,
                java.time.Instant.EPOCH,
                null,
                new Correlation(null, null, null),
                null,
                null,
                null,
                null);
        RunEvent good =
                SampleEvents.runEvent("run-1", SampleEvents.runPayloads().get(1));

        assertThatThrownBy(() -> WireCodec.RUN.encode(broken)).isInstanceOf(RuntimeException.class);

        assertThat(WireCodec.RUN.encode(good))
                .isEqualTo(avro(RunEvent.getEncoder().encode(good)));
    }

    @Test
    void samplesCoverEveryPayloadInTheSchemas() {
        assertThat(SampleEvents.runPayloads()).hasSize(payloadTypes(WireSchema.RUN));
        assertThat(SampleEvents.roomPayloads()).hasSize(payloadTypes(WireSchema.ROOM));
        assertThat(SampleEvents.artifactPayloads()).hasSize(payloadTypes(WireSchema.ARTIFACT));
    }

    @Test
    void writesTheSingleObjectHeaderWithTheSchemaFingerprintLittleEndian() {
        byte[] bytes = WireCodec.RUN.encode(
                SampleEvents.runEvent("run-1", SampleEvents.runPayloads().get(1)));
        List<ReleasedSchemas.Version> versions = ReleasedSchemas.of(WireSchema.RUN);
        long released = versions.get(versions.size() - 1).fingerprint();

        assertThat(Arrays.copyOf(bytes, 2)).containsExactly(0xC3, 0x01);
        assertThat(WireCodec.fingerprintOf(bytes)).isEqualTo(released);
        assertThat(ByteBuffer.wrap(bytes, 2, 8)
                        .order(java.nio.ByteOrder.LITTLE_ENDIAN)
                        .getLong())
                .isEqualTo(released);
    }

    @Test
    void readsARecordWrittenByAnotherWriterWithTheReleasedSchema() {
        Schema v1 = ReleasedSchemas.of(WireSchema.RUN).get(0).schema();
        RunEvent original =
                SampleEvents.runEvent("run-7", SampleEvents.runPayloads().get(7));
        GenericRecord generic = toGeneric(original, v1);

        byte[] bytes = encodeGeneric(generic, v1);

        assertThat(WireCodec.RUN.decode(bytes)).isEqualTo(original);
    }

    @Test
    void refusesBytesWithoutTheMarker() {
        byte[] garbage = new byte[64];
        new Random(7).nextBytes(garbage);
        garbage[0] = 0x00;

        assertThatThrownBy(() -> WireCodec.RUN.decode(garbage))
                .isInstanceOfSatisfying(
                        UndecodableRecord.class,
                        e -> assertThat(e.reason()).isEqualTo(UndecodableRecord.Reason.BAD_HEADER));
    }

    @Test
    void refusesBytesTooShortForAHeader() {
        assertThatThrownBy(() -> WireCodec.RUN.decode(new byte[] {(byte) 0xC3, 0x01, 0x00}))
                .isInstanceOfSatisfying(
                        UndecodableRecord.class,
                        e -> assertThat(e.reason()).isEqualTo(UndecodableRecord.Reason.BAD_HEADER));
        assertThatThrownBy(() -> WireCodec.RUN.decode(null)).isInstanceOf(UndecodableRecord.class);
    }

    @Test
    void refusesAnUnknownFingerprintNamingIt() {
        byte[] bytes = WireCodec.RUN.encode(
                SampleEvents.runEvent("run-1", SampleEvents.runPayloads().get(1)));
        bytes[5] ^= 0x5A;

        assertThatThrownBy(() -> WireCodec.RUN.decode(bytes))
                .isInstanceOfSatisfying(
                        UndecodableRecord.class,
                        e -> assertThat(e.reason()).isEqualTo(UndecodableRecord.Reason.UNKNOWN_SCHEMA))
                .hasMessageContaining(ReleasedSchemas.hex(WireCodec.fingerprintOf(bytes)));
    }

    @Test
    void refusesATruncatedBody() {
        byte[] bytes = WireCodec.RUN.encode(
                SampleEvents.runEvent("run-1", SampleEvents.runPayloads().get(0)));

        for (int length = WireCodec.HEADER_LENGTH; length < bytes.length; length += 7) {
            byte[] truncated = Arrays.copyOf(bytes, length);
            assertThatThrownBy(() -> WireCodec.RUN.decode(truncated))
                    .as("truncated to %d of %d bytes", length, bytes.length)
                    .isInstanceOfSatisfying(
                            UndecodableRecord.class,
                            e -> assertThat(e.reason()).isEqualTo(UndecodableRecord.Reason.MALFORMED_BODY));
        }
    }

    @Test
    void refusesARunEventOnTheRoomCodec() {
        byte[] run = WireCodec.RUN.encode(
                SampleEvents.runEvent("run-1", SampleEvents.runPayloads().get(1)));

        assertThatThrownBy(() -> WireCodec.ROOM.decode(run))
                .isInstanceOfSatisfying(
                        UndecodableRecord.class,
                        e -> assertThat(e.reason()).isEqualTo(UndecodableRecord.Reason.UNKNOWN_SCHEMA));
    }

    @ParameterizedTest
    @MethodSource("runPayloads")
    void theMeasuredSizeIsTheEncodedLength(Object payload) {
        RunEvent event = SampleEvents.runEvent("run-1", payload);

        assertThat(WireCodec.RUN.encodedSize(event)).isEqualTo(WireCodec.RUN.encode(event).length);
    }

    @Test
    void aMeasuredRecordEncodesToItsOwnBytesWhateverWasMeasuredBetween() throws Exception {
        RunEvent first =
                SampleEvents.runEvent("run-1", SampleEvents.runPayloads().get(1));
        RunEvent second =
                SampleEvents.runEvent("run-2", SampleEvents.runPayloads().get(2));
        byte[] firstBytes = encodeFresh(first);
        byte[] secondBytes = encodeFresh(second);

        // Measured, then another record encoded: that record's bytes, not the measured one's.
        WireCodec.RUN.encodedSize(first);
        assertThat(WireCodec.RUN.encode(second)).isEqualTo(secondBytes);
        // Measured, then written: the same bytes, and again on a second write (kept once, then encoded anew).
        assertThat(WireCodec.RUN.encode(first)).isEqualTo(firstBytes);
        assertThat(WireCodec.RUN.encode(first)).isEqualTo(firstBytes);
        // Two measured in turn: the first written afterwards is still its own.
        WireCodec.RUN.encodedSize(first);
        WireCodec.RUN.encodedSize(second);
        assertThat(WireCodec.RUN.encode(first)).isEqualTo(firstBytes);
        assertThat(WireCodec.RUN.encode(second)).isEqualTo(secondBytes);
        // An equal copy measured: the bytes are equal too.
        WireCodec.RUN.encodedSize(RunEvent.newBuilder(first).build());
        assertThat(WireCodec.RUN.encode(first)).isEqualTo(firstBytes);
        // Measured on one thread, written on another.
        WireCodec.RUN.encodedSize(first);
        java.util.concurrent.FutureTask<byte[]> elsewhere =
                new java.util.concurrent.FutureTask<>(() -> WireCodec.RUN.encode(first));
        new Thread(elsewhere).start();
        assertThat(elsewhere.get()).isEqualTo(firstBytes);
        assertThat(WireCodec.RUN.encode(second)).isEqualTo(secondBytes);
    }

    private static byte[] avro(ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.remaining()];
        buffer.get(bytes);
        return bytes;
    }

    /** The bytes Avro's own encoder writes for {@code event}. */
    private static byte[] encodeFresh(RunEvent event) throws java.io.IOException {
        ByteBuffer buffer = RunEvent.getEncoder().encode(event);
        byte[] bytes = new byte[buffer.remaining()];
        buffer.get(bytes);
        return bytes;
    }

    private static int payloadTypes(WireSchema envelope) {
        return envelope.currentSchema().getField("payload").schema().getTypes().size();
    }

    private static GenericRecord toGeneric(RunEvent event, Schema schema) {
        byte[] bytes = WireCodec.RUN.encode(event);
        GenericData model = new GenericData();
        org.apache.avro.message.BinaryMessageDecoder<GenericRecord> decoder =
                new org.apache.avro.message.BinaryMessageDecoder<>(model, schema);
        decoder.addSchema(WireSchema.RUN.currentSchema());
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
