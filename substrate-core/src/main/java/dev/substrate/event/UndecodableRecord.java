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
        /** Not Avro single-object encoding: too short, or without the {@code C3 01} marker. */
        BAD_HEADER,
        /** The header names a writer schema this build does not know. */
        UNKNOWN_SCHEMA,
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
