package dev.substrate.local;

import dev.substrate.SubstrateException;

/** The local store could not be opened, read or written (a locked, full, corrupt or newer file). */
public final class LocalStoreException extends SubstrateException {

    private static final long serialVersionUID = 1L;

    public LocalStoreException(String message, Throwable cause) {
        super(message, cause);
    }

    /** Retriable only when another process held the write lock for longer than the busy timeout. */
    @Override
    public boolean isRetriable() {
        return getCause() != null && String.valueOf(getCause().getMessage()).contains("SQLITE_BUSY");
    }
}
