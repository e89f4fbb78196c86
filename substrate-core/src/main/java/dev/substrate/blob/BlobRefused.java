package dev.substrate.blob;

import dev.substrate.SubstrateException;

/**
 * Content the blob store did not keep (or could not serve), and nothing of it is left behind: larger than the
 * limit, not matching the digest the writer named, cut off before its end, past the store's quota, the instance
 * too busy, or Kafka not answering.
 */
public final class BlobRefused extends SubstrateException {
    private static final long serialVersionUID = 1L;

    /** Why the content was refused. */
    public enum Reason {
        /** Longer than the most bytes one blob may have. */
        TOO_LARGE,
        /** Its digest is not the one the writer named (or that is not a digest). */
        DIGEST_MISMATCH,
        /** The writer's stream ended with an error before the content's end: an aborted upload. */
        INCOMPLETE,
        /** Keeping it would pass the store's quota. */
        QUOTA,
        /** As many uploads as the instance takes at once are under way, or as many reads: try again shortly. */
        BUSY,
        /** Kafka did not take the content (or could not be read): nothing was kept; try again. */
        UNAVAILABLE
    }

    private final Reason reason;

    BlobRefused(String message, Reason reason) {
        super(message);
        this.reason = reason;
    }

    /** Why it was refused. */
    public Reason reason() {
        return reason;
    }

    /** Whether the content was refused for its size. */
    public boolean tooLarge() {
        return reason == Reason.TOO_LARGE;
    }

    /**
     * A complete upload may succeed where an aborted one did not, and any may once the instance is less busy or
     * Kafka answers again; the others fail the same way again.
     */
    @Override
    public boolean isRetriable() {
        return reason == Reason.INCOMPLETE || reason == Reason.BUSY || reason == Reason.UNAVAILABLE;
    }
}
