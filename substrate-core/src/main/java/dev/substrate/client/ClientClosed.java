package dev.substrate.client;

import dev.substrate.SubstrateException;

/**
 * The client was closed before the append was handed to Kafka. Not retriable with this client; another client (or
 * another instance of the HTTP API) takes the same append.
 */
public final class ClientClosed extends SubstrateException {
    private static final long serialVersionUID = 1L;

    ClientClosed(Throwable cause) {
        super("The client is closed; nothing was appended", cause);
    }

    @Override
    public boolean isRetriable() {
        return false;
    }
}
