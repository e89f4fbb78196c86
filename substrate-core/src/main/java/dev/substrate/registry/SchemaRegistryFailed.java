package dev.substrate.registry;

import dev.substrate.SubstrateException;

/**
 * A Schema Registry call failed: the registry could not be reached, answered with an error status, or answered
 * something that is not its API. The message names the URL and the status. Retriable when the registry could not
 * be reached or answered 5xx or 429 (it may answer later); fatal when it refused the request (4xx: an incompatible
 * schema, bad credentials, an unknown subject) or answered garbage.
 */
public final class SchemaRegistryFailed extends SubstrateException {
    private static final long serialVersionUID = 1L;

    private final int status;
    private final int errorCode;
    private final boolean retriable;

    /**
     * A failed call.
     *
     * @param status the HTTP status, or 0 when no answer came
     * @param errorCode the registry's {@code error_code}, or 0 when it gave none
     */
    public SchemaRegistryFailed(String message, int status, int errorCode, boolean retriable, Throwable cause) {
        super(message, cause);
        this.status = status;
        this.errorCode = errorCode;
        this.retriable = retriable;
    }

    /** The HTTP status the registry answered, or 0 when it could not be reached. */
    public int status() {
        return status;
    }

    /** The registry's own {@code error_code} (Confluent's: 40401 subject not found, 40403 schema not found...). */
    public int errorCode() {
        return errorCode;
    }

    /** Whether the registry said it does not know what was asked of it (HTTP 404). */
    public boolean isNotFound() {
        return status == 404;
    }

    @Override
    public boolean isRetriable() {
        return retriable;
    }
}
