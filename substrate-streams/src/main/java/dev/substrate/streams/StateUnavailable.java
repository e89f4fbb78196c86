package dev.substrate.streams;

import dev.substrate.SubstrateException;

/**
 * The fold's state cannot be read right now: it is starting, restoring, or rebalancing. Retriable: ask again
 * in a moment (the HTTP API answers 503 with {@code Retry-After}).
 */
public final class StateUnavailable extends SubstrateException {
    private static final long serialVersionUID = 1L;

    StateUnavailable(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public boolean isRetriable() {
        return true;
    }
}
