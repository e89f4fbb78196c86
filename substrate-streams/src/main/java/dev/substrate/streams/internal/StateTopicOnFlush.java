package dev.substrate.streams.internal;

import java.util.function.Function;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.internals.InternalProcessorContext;
import org.apache.kafka.streams.processor.internals.ProcessorNode;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.internals.CachedStateStore;

/**
 * Writes an entity's state to its compacted state topic when the state store's record cache flushes it (at each
 * commit, or when the cache evicts it), not once per event: an entity changed by many events between two commits
 * (a room receiving deltas) is written there once, with its latest state. This is how a cached KTable forwards
 * (Kafka Streams' own {@code TimestampedCacheFlushListener}); the flush happens inside the commit, before its
 * transaction ends, so the topic and the store stay in step exactly once. A removed entity is a tombstone.
 */
final class StateTopicOnFlush {

    private StateTopicOnFlush() {}

    /**
     * Forwards each state {@code store} flushes, encoded by {@code encode}, to {@code sink}, as if from the
     * processor whose {@code context} this is.
     *
     * @throws IllegalStateException when the store is not cached (it would forward nothing)
     */
    @SuppressWarnings("unchecked")
    static <S> void attach(
            ProcessorContext<String, byte[]> context,
            KeyValueStore<String, S> store,
            String sink,
            Function<S, byte[]> encode) {
        InternalProcessorContext<String, byte[]> internal = (InternalProcessorContext<String, byte[]>) context;
        ProcessorNode<?, ?, ?, ?> processor = internal.currentNode();
        boolean cached = ((CachedStateStore<String, S>) store)
                .setFlushListener(
                        flushed -> {
                            ProcessorNode<?, ?, ?, ?> current = internal.currentNode();
                            internal.setCurrentNode(processor);
                            try {
                                S state = flushed.value().newValue;
                                internal.forward(
                                        new Record<String, byte[]>(
                                                flushed.key(),
                                                state == null ? null : encode.apply(state),
                                                flushed.timestamp(),
                                                flushed.headers()),
                                        sink);
                            } finally {
                                internal.setCurrentNode(current);
                            }
                        },
                        false);
        if (!cached) {
            throw new IllegalStateException(
                    "the " + store.name() + " store must be cached: its state topic is written when the cache flushes");
        }
    }
}
