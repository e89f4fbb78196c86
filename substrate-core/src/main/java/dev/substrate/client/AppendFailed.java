package dev.substrate.client;

import dev.substrate.SubstrateException;
import org.apache.kafka.common.errors.RetriableException;

/**
 * Kafka did not acknowledge an append. Whether trying again may help follows Kafka's own classification of the
 * cause; retry with the same event id (see {@link AppendOptions#withEventId}) so that the event is applied once.
 */
public final class AppendFailed extends SubstrateException {
    private static final long serialVersionUID = 1L;

    private final boolean retriable;

    AppendFailed(String message, Throwable cause) {
        super(message, cause);
        this.retriable = cause instanceof RetriableException;
    }

    @Override
    public boolean isRetriable() {
        return retriable;
    }

    /** Whether Kafka refused the event as larger than the topic or broker takes: sending it again cannot help. */
    public boolean isTooLarge() {
        return getCause() instanceof org.apache.kafka.common.errors.RecordTooLargeException;
    }
}
