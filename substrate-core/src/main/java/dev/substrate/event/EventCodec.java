package dev.substrate.event;

import dev.substrate.events.artifact.ArtifactEvent;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.events.run.RunEvent;
import dev.substrate.schemas.Envelope;
import dev.substrate.schemas.ReleasedSchemas;
import dev.substrate.schemas.TrustedEventClasses;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.Objects;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.message.BadHeaderException;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.message.MissingSchemaException;
import org.apache.avro.specific.SpecificRecord;

/**
 * The wire format of every event: Avro single-object encoding, that is the two marker bytes {@code C3 01}, the
 * 8-byte little-endian CRC-64-AVRO fingerprint of the writer's schema, then the Avro binary body.
 *
 * <p>Encoding always uses the schema of this build. Decoding resolves the writer's schema by its fingerprint
 * among this build's schema and every {@linkplain ReleasedSchemas released version}, and reads into the current
 * classes (Avro schema resolution fills defaults and drops removed fields). No registry service is needed.
 * Thread-safe.
 *
 * @param <T> the envelope class
 */
public final class EventCodec<T extends SpecificRecord> {

    static {
        TrustedEventClasses.register();
    }

    /** The codec of {@code substrate.run-events}. */
    public static final EventCodec<RunEvent> RUN =
            new EventCodec<>(Envelope.RUN, RunEvent.getEncoder(), RunEvent.createDecoder(null));
    /** The codec of {@code substrate.room-events}. */
    public static final EventCodec<RoomEvent> ROOM =
            new EventCodec<>(Envelope.ROOM, RoomEvent.getEncoder(), RoomEvent.createDecoder(null));
    /** The codec of {@code substrate.artifact-events}. */
    public static final EventCodec<ArtifactEvent> ARTIFACT =
            new EventCodec<>(Envelope.ARTIFACT, ArtifactEvent.getEncoder(), ArtifactEvent.createDecoder(null));

    /** The two bytes every single-object encoded record starts with. */
    public static final byte[] MARKER = {(byte) 0xC3, (byte) 0x01};
    /** The length of the header: marker and fingerprint. */
    public static final int HEADER_LENGTH = 10;

    private final Envelope envelope;
    private final BinaryMessageEncoder<T> encoder;
    private final BinaryMessageDecoder<T> decoder;
    private final long fingerprint;

    private EventCodec(Envelope envelope, BinaryMessageEncoder<T> encoder, BinaryMessageDecoder<T> decoder) {
        this.envelope = envelope;
        this.encoder = encoder;
        this.decoder = decoder;
        this.fingerprint = ReleasedSchemas.fingerprint(envelope.currentSchema());
        for (ReleasedSchemas.Version version : ReleasedSchemas.of(envelope)) {
            decoder.addSchema(version.schema());
        }
    }

    /** The envelope this codec writes and reads. */
    public Envelope envelope() {
        return envelope;
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
            throw new UncheckedIOException("Cannot encode " + envelope.fileName(), e);
        }
    }

    /**
     * Reads a record written with this build's schema or any released version.
     *
     * @throws UndecodableEvent if the bytes do not start with the marker, name an unknown schema, or do not hold
     *     a whole record of that schema
     */
    public T decode(byte[] bytes) {
        if (bytes == null || bytes.length < HEADER_LENGTH) {
            throw new UndecodableEvent(
                    UndecodableEvent.Reason.BAD_HEADER,
                    envelope.fileName() + ": " + (bytes == null ? "no value" : bytes.length + " bytes")
                            + " is shorter than the " + HEADER_LENGTH + "-byte single-object header",
                    null);
        }
        try {
            return decoder.decode(bytes);
        } catch (BadHeaderException e) {
            throw new UndecodableEvent(
                    UndecodableEvent.Reason.BAD_HEADER,
                    envelope.fileName() + ": not Avro single-object encoding (expected marker C3 01)",
                    e);
        } catch (MissingSchemaException e) {
            throw new UndecodableEvent(
                    UndecodableEvent.Reason.UNKNOWN_SCHEMA,
                    envelope.fileName() + ": unknown writer schema fingerprint "
                            + ReleasedSchemas.hex(fingerprintOf(bytes)),
                    e);
        } catch (IOException | AvroRuntimeException | IndexOutOfBoundsException | NegativeArraySizeException e) {
            throw new UndecodableEvent(
                    UndecodableEvent.Reason.MALFORMED_BODY,
                    envelope.fileName() + ": the body is truncated or is not a "
                            + envelope.type().getSimpleName(),
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
