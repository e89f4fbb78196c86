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
import dev.substrate.state.UsageTotal;
import java.io.IOException;
import java.util.Objects;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.message.BadHeaderException;
import org.apache.avro.message.BinaryMessageDecoder;
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

    // Before the codecs below: each constructor writes the marker into its header.
    /** The two bytes every single-object encoded record starts with. */
    public static final byte[] MARKER = {(byte) 0xC3, (byte) 0x01};
    /** The length of the header: marker and fingerprint. */
    public static final int HEADER_LENGTH = 10;

    static {
        TrustedEventClasses.register();
    }

    /** The codec of {@code substrate.run-events}. */
    public static final WireCodec<RunEvent> RUN = new WireCodec<>(WireSchema.RUN, RunEvent.createDecoder(null));
    /** The codec of {@code substrate.room-events}. */
    public static final WireCodec<RoomEvent> ROOM = new WireCodec<>(WireSchema.ROOM, RoomEvent.createDecoder(null));
    /** The codec of {@code substrate.artifact-events}. */
    public static final WireCodec<ArtifactEvent> ARTIFACT =
            new WireCodec<>(WireSchema.ARTIFACT, ArtifactEvent.createDecoder(null));
    /** The codec of run states: {@code substrate.runs} and the runs store. */
    public static final WireCodec<RunState> RUN_STATE =
            new WireCodec<>(WireSchema.RUN_STATE, RunState.createDecoder(null));
    /** The codec of room states: {@code substrate.rooms} and the rooms store. */
    public static final WireCodec<RoomState> ROOM_STATE =
            new WireCodec<>(WireSchema.ROOM_STATE, RoomState.createDecoder(null));
    /** The codec of artifact states: {@code substrate.artifacts} and the artifacts store. */
    public static final WireCodec<ArtifactState> ARTIFACT_STATE =
            new WireCodec<>(WireSchema.ARTIFACT_STATE, ArtifactState.createDecoder(null));
    /** The codec of transcript entries. */
    public static final WireCodec<TranscriptEntry> TRANSCRIPT_ENTRY =
            new WireCodec<>(WireSchema.TRANSCRIPT_ENTRY, TranscriptEntry.createDecoder(null));
    /** The codec of event outcomes. */
    public static final WireCodec<EventOutcome> EVENT_OUTCOME =
            new WireCodec<>(WireSchema.EVENT_OUTCOME, EventOutcome.createDecoder(null));
    /** The codec of {@code substrate.rejections}. */
    public static final WireCodec<Rejection> REJECTION =
            new WireCodec<>(WireSchema.REJECTION, Rejection.createDecoder(null));
    /** The codec of usage totals: the run-usage and room-usage stores. */
    public static final WireCodec<UsageTotal> USAGE_TOTAL =
            new WireCodec<>(WireSchema.USAGE_TOTAL, UsageTotal.createDecoder(null));

    private final WireSchema schema;
    /** The marker and this build's fingerprint, little-endian: what every record this codec writes starts with. */
    private final byte[] header;
    /** Writes the body with the generated class's model (its logical-type conversions), shared by all threads. */
    private final SpecificDatumWriter<T> writer;

    private final BinaryMessageDecoder<T> decoder;
    private final long fingerprint;
    /**
     * The record this thread last {@linkplain #encodedSize measured}, with its bytes, until {@link #encode} hands
     * them out: the fold measures each state it decides, then writes that same object to its store.
     */
    private final ThreadLocal<Measured<T>> measured = ThreadLocal.withInitial(Measured::new);

    private WireCodec(WireSchema schema, BinaryMessageDecoder<T> decoder) {
        this.schema = schema;
        this.decoder = decoder;
        Schema current = schema.currentSchema();
        this.fingerprint = ReleasedSchemas.fingerprint(current);
        this.header = new byte[HEADER_LENGTH];
        System.arraycopy(MARKER, 0, header, 0, MARKER.length);
        for (int i = MARKER.length; i < HEADER_LENGTH; i++) {
            header[i] = (byte) (fingerprint >>> (8 * (i - MARKER.length)));
        }
        this.writer = new SpecificDatumWriter<>(current, SpecificData.getForSchema(current));
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

    /**
     * The single-object encoding of {@code record}. When this thread's last {@link #encodedSize} measured this very
     * object, its bytes are returned (once) instead of encoding it again.
     */
    public byte[] encode(T record) {
        Objects.requireNonNull(record, "record");
        Measured<T> last = measured.get();
        if (last.record == record) {
            byte[] bytes = last.bytes;
            last.clear();
            return bytes;
        }
        return encodeNow(record);
    }

    /**
     * How many bytes the single-object encoding of {@code record} takes (its header included): how the fold checks
     * a record against its limits before it writes it. The bytes are kept for this thread's next {@link #encode} of
     * the same object, so that a record checked and then written is encoded once; {@code record} must not be
     * changed in between (the fold's records are built once and never changed).
     */
    public int encodedSize(T record) {
        Objects.requireNonNull(record, "record");
        byte[] bytes = encodeNow(record);
        measured.get().keep(record, bytes);
        return bytes.length;
    }

    /**
     * {@link #encodedSize}, without encoding again when this thread's last measure was of this very object and its
     * bytes are still kept for {@link #encode}: what a cache of written states asks, between the fold's check and its
     * write.
     */
    public int measuredSize(T record) {
        Measured<T> last = measured.get();
        if (last.record == record) {
            return last.bytes.length;
        }
        return encodedSize(record);
    }

    /** The header, then the body through this thread's reused buffer: the bytes Avro's own encoder writes. */
    private byte[] encodeNow(T record) {
        return EncodeBuffer.encode(header, writer, record, schema.fileName());
    }

    /** One thread's last measured record and its bytes. */
    private static final class Measured<T> {
        private T record;
        private byte[] bytes;

        void keep(T record, byte[] bytes) {
            this.record = record;
            this.bytes = bytes;
        }

        void clear() {
            record = null;
            bytes = null;
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
