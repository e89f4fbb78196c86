package dev.substrate.event;

import dev.substrate.events.artifact.ArtifactEvent;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.events.run.RunEvent;
import dev.substrate.schemas.ReleasedSchemas;
import dev.substrate.schemas.TrustedEventClasses;
import dev.substrate.schemas.WireSchema;
import dev.substrate.state.ArtifactState;
import dev.substrate.state.EventOutcome;
import dev.substrate.state.Rejection;
import dev.substrate.state.RoomState;
import dev.substrate.state.RunState;
import dev.substrate.state.TranscriptEntry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.Objects;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DatumWriter;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.message.BadHeaderException;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.message.MissingSchemaException;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;

/**
 * The wire format of every event and state record: Avro single-object encoding, that is the two marker bytes {@code C3 01}, the
 * 8-byte little-endian CRC-64-AVRO fingerprint of the writer's schema, then the Avro binary body.
 *
 * <p>Encoding always uses the schema of this build. Decoding resolves the writer's schema by its fingerprint
 * among this build's schema and every {@linkplain ReleasedSchemas released version}, and reads into the current
 * classes (Avro schema resolution fills defaults and drops removed fields). No registry service is needed.
 * Thread-safe.
 *
 * @param <T> the generated record class
 */
public final class WireCodec<T extends SpecificRecord> {

    static {
        TrustedEventClasses.register();
    }

    /** The codec of {@code substrate.run-events}. */
    public static final WireCodec<RunEvent> RUN =
            new WireCodec<>(WireSchema.RUN, RunEvent.getEncoder(), RunEvent.createDecoder(null));
    /** The codec of {@code substrate.room-events}. */
    public static final WireCodec<RoomEvent> ROOM =
            new WireCodec<>(WireSchema.ROOM, RoomEvent.getEncoder(), RoomEvent.createDecoder(null));
    /** The codec of {@code substrate.artifact-events}. */
    public static final WireCodec<ArtifactEvent> ARTIFACT =
            new WireCodec<>(WireSchema.ARTIFACT, ArtifactEvent.getEncoder(), ArtifactEvent.createDecoder(null));
    /** The codec of run states: {@code substrate.runs} and the runs store. */
    public static final WireCodec<RunState> RUN_STATE =
            new WireCodec<>(WireSchema.RUN_STATE, RunState.getEncoder(), RunState.createDecoder(null));
    /** The codec of room states: {@code substrate.rooms} and the rooms store. */
    public static final WireCodec<RoomState> ROOM_STATE =
            new WireCodec<>(WireSchema.ROOM_STATE, RoomState.getEncoder(), RoomState.createDecoder(null));
    /** The codec of artifact states: {@code substrate.artifacts} and the artifacts store. */
    public static final WireCodec<ArtifactState> ARTIFACT_STATE =
            new WireCodec<>(WireSchema.ARTIFACT_STATE, ArtifactState.getEncoder(), ArtifactState.createDecoder(null));
    /** The codec of transcript entries. */
    public static final WireCodec<TranscriptEntry> TRANSCRIPT_ENTRY = new WireCodec<>(
            WireSchema.TRANSCRIPT_ENTRY, TranscriptEntry.getEncoder(), TranscriptEntry.createDecoder(null));
    /** The codec of event outcomes. */
    public static final WireCodec<EventOutcome> EVENT_OUTCOME =
            new WireCodec<>(WireSchema.EVENT_OUTCOME, EventOutcome.getEncoder(), EventOutcome.createDecoder(null));
    /** The codec of {@code substrate.rejections}. */
    public static final WireCodec<Rejection> REJECTION =
            new WireCodec<>(WireSchema.REJECTION, Rejection.getEncoder(), Rejection.createDecoder(null));

    /**
     * One writer per record class for {@link #encodedSize}, which runs for every state the fold decides: a writer
     * resolves its schema when built, and Avro's writers may be shared by threads (as its message encoders do).
     */
    private static final ClassValue<DatumWriter<SpecificRecord>> SIZE_WRITERS = new ClassValue<>() {
        @Override
        protected DatumWriter<SpecificRecord> computeValue(Class<?> type) {
            return new SpecificDatumWriter<>(SpecificData.get().getSchema(type));
        }
    };

    /** Each thread's buffered encoder for {@link #encodedSize}, pointed at a new counter for every record. */
    private static final ThreadLocal<BinaryEncoder> SIZE_ENCODER = new ThreadLocal<>();

    /** The two bytes every single-object encoded record starts with. */
    public static final byte[] MARKER = {(byte) 0xC3, (byte) 0x01};
    /** The length of the header: marker and fingerprint. */
    public static final int HEADER_LENGTH = 10;

    private final WireSchema schema;
    private final BinaryMessageEncoder<T> encoder;
    private final BinaryMessageDecoder<T> decoder;
    private final long fingerprint;

    private WireCodec(WireSchema schema, BinaryMessageEncoder<T> encoder, BinaryMessageDecoder<T> decoder) {
        this.schema = schema;
        this.encoder = encoder;
        this.decoder = decoder;
        this.fingerprint = ReleasedSchemas.fingerprint(schema.currentSchema());
        for (ReleasedSchemas.Version version : ReleasedSchemas.of(schema)) {
            decoder.addSchema(version.schema());
        }
    }

    /** The record type this codec writes and reads. */
    public WireSchema schema() {
        return schema;
    }

    /** The fingerprint written in the header of every record this build encodes. */
    public long fingerprint() {
        return fingerprint;
    }

    /** The single-object encoding of {@code event}. */
    public byte[] encode(T event) {
        Objects.requireNonNull(event, "event");
        try {
            ByteBuffer buffer = encoder.encode(event);
            byte[] bytes = new byte[buffer.remaining()];
            buffer.get(bytes);
            return bytes;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot encode " + schema.fileName(), e);
        }
    }

    /**
     * How many bytes the single-object encoding of {@code record} takes (its header included), counted without
     * keeping them: how the fold checks a record against its limits before it writes it.
     */
    public static int encodedSize(SpecificRecord record) {
        Counter counter = new Counter();
        try {
            BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(counter, SIZE_ENCODER.get());
            SIZE_ENCODER.set(encoder);
            SIZE_WRITERS.get(record.getClass()).write(record, encoder);
            encoder.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot encode " + record.getSchema().getName(), e);
        }
        return (int) Math.min(Integer.MAX_VALUE, counter.count + HEADER_LENGTH);
    }

    /** An output stream that only counts. */
    private static final class Counter extends java.io.OutputStream {
        private long count;

        @Override
        public void write(int b) {
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            count += len;
        }
    }

    /**
     * Reads a record written with this build's schema or any released version.
     *
     * @throws UndecodableRecord if the bytes do not start with the marker, name an unknown schema, or do not hold
     *     a whole record of that schema
     */
    public T decode(byte[] bytes) {
        if (bytes == null || bytes.length < HEADER_LENGTH) {
            throw new UndecodableRecord(
                    UndecodableRecord.Reason.BAD_HEADER,
                    schema.fileName() + ": " + (bytes == null ? "no value" : bytes.length + " bytes")
                            + " is shorter than the " + HEADER_LENGTH + "-byte single-object header",
                    null);
        }
        try {
            return decoder.decode(bytes);
        } catch (BadHeaderException e) {
            throw new UndecodableRecord(
                    UndecodableRecord.Reason.BAD_HEADER,
                    schema.fileName() + ": not Avro single-object encoding (expected marker C3 01)",
                    e);
        } catch (MissingSchemaException e) {
            throw new UndecodableRecord(
                    UndecodableRecord.Reason.UNKNOWN_SCHEMA,
                    schema.fileName() + ": unknown writer schema fingerprint "
                            + ReleasedSchemas.hex(fingerprintOf(bytes)),
                    e);
        } catch (IOException | AvroRuntimeException | IndexOutOfBoundsException | NegativeArraySizeException e) {
            throw new UndecodableRecord(
                    UndecodableRecord.Reason.MALFORMED_BODY,
                    schema.fileName() + ": the body is truncated or is not a "
                            + schema.type().getSimpleName(),
                    e);
        }
    }

    /**
     * The writer-schema fingerprint in a record's header, as a {@code long} (the header stores it little-endian).
     *
     * @throws IllegalArgumentException if the bytes are too short to hold a header
     */
    public static long fingerprintOf(byte[] bytes) {
        if (bytes.length < HEADER_LENGTH) {
            throw new IllegalArgumentException("a single-object header needs " + HEADER_LENGTH + " bytes");
        }
        long fingerprint = 0;
        for (int i = HEADER_LENGTH - 1; i >= MARKER.length; i--) {
            fingerprint = (fingerprint << 8) | (bytes[i] & 0xFF);
        }
        return fingerprint;
    }
}
