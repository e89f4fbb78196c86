package dev.substrate.api.auth;

import dev.substrate.SubstrateException;

/**
 * Tokens cannot be checked or changed now: the tokens topic is still being read, cannot be read, or Kafka did
 * not take a write. Retriable: the same call later may succeed.
 */
public final class TokensUnavailable extends SubstrateException {
    private static final long serialVersionUID = 1L;

    public TokensUnavailable(String message) {
        super(message);
    }

    @Override
    public boolean isRetriable() {
        return true;
    }
}
