package dev.substrate.event;

import dev.substrate.SubstrateException;

/**
 * A record's bytes could not be read as an event. Fatal for that record: reading it again fails the same way.
 * The fold sends such records to {@code substrate.dead-letters} and goes on.
 */
public final class UndecodableRecord extends SubstrateException {
    private static final long serialVersionUID = 1L;

    /** What was wrong with the bytes. */
    public enum Reason {
        /**
         * Neither Avro single-object encoding ({@code C3 01} and a fingerprint) nor Confluent's wire format (a zero
         * byte and a schema id): too short, or another first byte.
         */
        BAD_HEADER,
        /** The header names a writer schema this build does not know, or one it cannot read as its type. */
        UNKNOWN_SCHEMA,
        /**
         * A Confluent-format record whose schema id the Schema Registry does not know (or no registry is
         * configured to look it up in).
         */
        UNKNOWN_SCHEMA_ID,
        /** The body is truncated or does not match the writer schema. */
        MALFORMED_BODY
    }

    private final Reason reason;

    UndecodableRecord(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    /** What was wrong with the bytes. */
    public Reason reason() {
        return reason;
    }

    @Override
    public boolean isRetriable() {
        return false;
    }
}
