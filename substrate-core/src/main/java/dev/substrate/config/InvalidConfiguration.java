package dev.substrate.config;

import dev.substrate.SubstrateException;

/** A configuration value is missing, of the wrong type, or out of range. Fatal: fix the setting and start again. */
public final class InvalidConfiguration extends SubstrateException {
    private static final long serialVersionUID = 1L;

    private final String key;

    /** A configuration error for {@code key}, described by {@code message}. */
    public InvalidConfiguration(String key, String message, Throwable cause) {
        super(message, cause);
        this.key = key;
    }

    /** The configuration key at fault, e.g. {@code http.port}. */
    public String key() {
        return key;
    }

    @Override
    public boolean isRetriable() {
        return false;
    }
}
