package dev.substrate.client;

import dev.substrate.SubstrateException;

/**
 * The client already holds as many unacknowledged appends as it may (the broker is slow or unreachable), so it
 * refused another rather than grow without bound. Retriable: try again when earlier appends complete.
 */
public final class ClientOverloaded extends SubstrateException {
    private static final long serialVersionUID = 1L;

    ClientOverloaded(int pending) {
        super("The client already has " + pending + " appends waiting for Kafka; try again when some complete");
    }

    @Override
    public boolean isRetriable() {
        return true;
    }
}
