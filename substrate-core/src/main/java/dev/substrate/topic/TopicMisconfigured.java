package dev.substrate.topic;

import dev.substrate.SubstrateException;

/**
 * An existing topic has a configuration Substrate cannot work with, such as a compacted event log (which
 * would erase history). Fatal: fix the topic, or point Substrate at another prefix.
 */
public final class TopicMisconfigured extends SubstrateException {
    private static final long serialVersionUID = 1L;

    private final String topic;

    /** A misconfiguration of {@code topic}, described by {@code message}. */
    public TopicMisconfigured(String topic, String message) {
        super(message);
        this.topic = topic;
    }

    /** The topic at fault. */
    public String topic() {
        return topic;
    }

    @Override
    public boolean isRetriable() {
        return false;
    }
}
