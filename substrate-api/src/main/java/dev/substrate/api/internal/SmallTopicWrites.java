package dev.substrate.api.internal;

import dev.substrate.topic.TopicFollower;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;

/**
 * A change to a small compacted topic that every instance follows (webhook subscriptions, the price table): written,
 * then awaited until this instance's follower has read it back, so that the answer to the change and a read right
 * after it agree. Each step waits {@link #WAIT} at most and answers 503 (a retry can help) past it.
 */
final class SmallTopicWrites {

    /** The longest wait for Kafka to take a write, and again for it to be read back. */
    static final Duration WAIT = Duration.ofSeconds(10);

    private SmallTopicWrites() {}

    /** Writes {@code value} (null: a tombstone) under {@code key}; 503 when Kafka does not take it in time. */
    static RecordMetadata write(KafkaProducer<String, byte[]> producer, String topic, String key, byte[] value) {
        try {
            return producer.send(new ProducerRecord<>(topic, key, value)).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw Problem.unavailable("interrupted while writing to " + topic);
        } catch (ExecutionException | TimeoutException e) {
            Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
            throw Problem.unavailable("Kafka did not take the write to " + topic + ": " + cause);
        }
    }

    /** Waits until {@code follower} has read {@code written}; 503 when it has not in time. */
    static void awaitApplied(TopicFollower follower, String topic, RecordMetadata written) {
        try {
            if (!follower.awaitApplied(written.partition(), written.offset(), WAIT)) {
                throw Problem.unavailable("the change was written to " + topic + " but not read back within "
                        + WAIT.toSeconds() + " s; it takes effect once it is");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw Problem.unavailable("interrupted while reading back " + topic);
        }
    }
}
