package dev.substrate.event;

import dev.substrate.SubstrateException;

/**
 * An event was refused at the door: a field is missing, malformed or out of range, or the whole event is too
 * large. Nothing was written. Fatal: the same event is refused again.
 */
public final class InvalidEvent extends SubstrateException {
    private static final long serialVersionUID = 1L;

    private final String field;

    /**
     * @param field the offending field as a path, e.g. {@code payload.failure.code}
     * @param problem what is wrong with it
     */
    public InvalidEvent(String field, String problem) {
        super(field + ": " + problem);
        this.field = field;
    }

    /** The offending field as a path, e.g. {@code runId} or {@code payload.labels}. */
    public String field() {
        return field;
    }

    @Override
    public boolean isRetriable() {
        return false;
    }
}
