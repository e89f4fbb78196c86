package dev.substrate.blob;

import dev.substrate.SubstrateException;

/** Content the blob store did not keep: larger than the limit, or not matching the digest the writer named. */
public final class BlobRefused extends SubstrateException {
    private static final long serialVersionUID = 1L;

    private final boolean tooLarge;

    BlobRefused(String message, boolean tooLarge) {
        super(message);
        this.tooLarge = tooLarge;
    }

    /** Whether the content was refused for its size (otherwise for its digest). */
    public boolean tooLarge() {
        return tooLarge;
    }

    @Override
    public boolean isRetriable() {
        return false;
    }
}
