package dev.substrate.topic;

import dev.substrate.config.SubstrateConfig;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a whole (small, compacted) topic from its beginning and then follows it, on a thread of its own, handing
 * each committed record to a handler: how every instance keeps the tokens and the blob index. It is caught up once
 * it has read every record that was in the topic when it started; until then {@link #notReady} says why not. A
 * topic it cannot read (missing, not authorised, brokers away) is retried every second, never fatal; a record the
 * handler throws on is logged and skipped.
 */
public final class TopicFollower implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(TopicFollower.class);

    /** How long one poll waits for records: the most a record waits to be applied once it is readable. */
    private static final Duration POLL = Duration.ofMillis(100);

    private static final Duration RETRY = Duration.ofSeconds(1);

    /** The least time between two lookups of the topic's end for {@link #awaitLatest}. */
    private static final Duration LOOKUP_GAP = Duration.ofMillis(50);

    private final String topic;
    private final String purpose;
    private final Consumer<ConsumerRecord<byte[], byte[]>> handler;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Thread thread;
    private final Map<TopicPartition, Long> positions = new HashMap<>();
    private Map<TopicPartition, Long> startEnd;
    private boolean caughtUp;
    private String problem;
    private volatile boolean closed;
    /** How many waits for the topic's latest records were asked ({@link #awaitLatest}); each asking one more. */
    private long latestAsked;
    /** The asks the follower looked the topic's end up for, and whose end it has read up to. */
    private long latestLookedUp;

    private long latestServed;
    /** The end the follower looked up for {@link #latestLookedUp}, until it has read up to it; null when none. */
    private Map<TopicPartition, Long> latestEnd;
    /** When the last lookup began ({@link System#nanoTime}); the follower's thread only. */
    private long lastLookup = System.nanoTime() - LOOKUP_GAP.toNanos();

    private TopicFollower(
            SubstrateConfig config, String topic, String purpose, Consumer<ConsumerRecord<byte[], byte[]>> handler) {
        this.topic = topic;
        this.purpose = purpose;
        this.handler = handler;
        Map<String, Object> props = new HashMap<>(config.kafkaProperties(ConsumerConfig.configNames()));
        props.remove(ConsumerConfig.GROUP_ID_CONFIG);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, "substrate-" + purpose.replace(' ', '-') + "-follower");
        this.consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        this.problem = "reading " + topic + " (" + purpose + ") has not started";
        this.thread = new Thread(this::run, "substrate-follower-" + topic);
        this.thread.setDaemon(true);
    }

    /**
     * Starts following {@code topic}.
     *
     * @param purpose what the topic holds, for messages (e.g. {@code tokens})
     * @param handler applies one record; called on the follower's thread only, in offset order per partition
     */
    public static TopicFollower start(
            SubstrateConfig config, String topic, String purpose, Consumer<ConsumerRecord<byte[], byte[]>> handler) {
        TopicFollower follower = new TopicFollower(config, topic, purpose, handler);
        follower.thread.start();
        return follower;
    }

    /** Why the follower has not read the whole topic yet, or empty once it has. */
    public synchronized Optional<String> notReady() {
        return caughtUp ? Optional.empty() : Optional.of(problem);
    }

    /** Waits until the follower has read everything the topic held at its start; false if it has not by then. */
    public synchronized boolean awaitCaughtUp(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!caughtUp) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            wait(Math.max(1, left / 1_000_000));
        }
        return true;
    }

    /**
     * Waits until the record at {@code offset} of {@code partition} has been handed to the handler (an instance
     * reading its own write); false if it has not been by then.
     */
    public synchronized boolean awaitApplied(int partition, long offset, Duration timeout) throws InterruptedException {
        TopicPartition tp = new TopicPartition(topic, partition);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (positions.getOrDefault(tp, -1L) <= offset) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            wait(Math.max(1, left / 1_000_000));
        }
        return true;
    }

    /**
     * Waits until the follower has read everything the topic held when this was called (an instance learning of a
     * token another instance minted a moment ago): the follower looks the topic's end up (one lookup for every wait
     * asked before it began) and reads up to it. False if it has not by {@code timeout}.
     */
    public boolean awaitLatest(Duration timeout) throws InterruptedException {
        long ticket;
        synchronized (this) {
            ticket = ++latestAsked;
        }
        consumer.wakeup(); // the follower may be waiting in a poll: it looks the end up at once
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (this) {
            while (latestServed < ticket) {
                long left = deadline - System.nanoTime();
                if (left <= 0 || closed) {
                    return false;
                }
                wait(Math.max(1, left / 1_000_000));
            }
            return true;
        }
    }

    /**
     * On the follower's thread: looks the topic's end up for the waits asked since the last lookup, at most one lookup
     * every {@link #LOOKUP_GAP} (many waits at once cost the brokers one request).
     */
    private void lookUpLatest() {
        long asked;
        synchronized (this) {
            asked = latestAsked;
            if (asked == latestLookedUp || latestEnd != null) {
                return;
            }
        }
        long sinceLast = System.nanoTime() - lastLookup;
        if (sinceLast < LOOKUP_GAP.toNanos()) {
            return; // the next turn of the loop (a poll is at most POLL) looks it up
        }
        lastLookup = System.nanoTime();
        Map<TopicPartition, Long> end = consumer.endOffsets(consumer.assignment(), Duration.ofSeconds(5));
        synchronized (this) {
            latestLookedUp = asked;
            latestEnd = new HashMap<>(end);
        }
    }

    private void run() {
        while (!closed) {
            try {
                if (startEnd == null) {
                    assign();
                }
                if (caughtUp) {
                    lookUpLatest();
                }
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(POLL)) {
                    try {
                        handler.accept(record);
                    } catch (RuntimeException e) {
                        log.warn(
                                "Skipped record {}-{}@{} of {}: {}",
                                record.topic(),
                                record.partition(),
                                record.offset(),
                                purpose,
                                e.toString());
                    }
                }
                advance();
            } catch (WakeupException e) {
                // close() woke the consumer (the loop ends), or awaitLatest did (the loop looks the end up).
            } catch (RuntimeException e) {
                if (closed) {
                    break;
                }
                synchronized (this) {
                    problem = "cannot read " + topic + " (" + purpose + "): " + e.getMessage();
                }
                log.warn(
                        "Cannot read {} ({}), trying again in {} s: {}",
                        topic,
                        purpose,
                        RETRY.toSeconds(),
                        e.toString());
                try {
                    // A bounded pause before the next try against brokers that refused or are away.
                    Thread.sleep(RETRY.toMillis());
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        consumer.close(org.apache.kafka.clients.consumer.CloseOptions.timeout(Duration.ofSeconds(5)));
    }

    private void assign() {
        List<PartitionInfo> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(10));
        if (partitions == null || partitions.isEmpty()) {
            throw new IllegalStateException("the topic " + topic + " does not exist");
        }
        List<TopicPartition> assigned = partitions.stream()
                .map(info -> new TopicPartition(topic, info.partition()))
                .toList();
        consumer.assign(assigned);
        consumer.seekToBeginning(assigned);
        Map<TopicPartition, Long> end = consumer.endOffsets(assigned, Duration.ofSeconds(10));
        synchronized (this) {
            startEnd = new HashMap<>(end);
            problem = "reading " + topic + " (" + purpose + ") from its beginning";
        }
    }

    private void advance() {
        Map<TopicPartition, Long> now = new HashMap<>();
        for (TopicPartition tp : consumer.assignment()) {
            now.put(tp, consumer.position(tp, Duration.ofSeconds(10)));
        }
        synchronized (this) {
            positions.putAll(now);
            if (!caughtUp) {
                caughtUp = startEnd.entrySet().stream()
                        .allMatch(end -> positions.getOrDefault(end.getKey(), 0L) >= end.getValue());
                if (caughtUp) {
                    log.info("Read {} ({}) to its end; following it", topic, purpose);
                }
            }
            if (latestEnd != null
                    && latestEnd.entrySet().stream()
                            .allMatch(end -> positions.getOrDefault(end.getKey(), 0L) >= end.getValue())) {
                latestServed = latestLookedUp;
                latestEnd = null;
            }
            notifyAll();
        }
    }

    @Override
    public void close() {
        closed = true;
        synchronized (this) {
            notifyAll();
        }
        consumer.wakeup();
        try {
            thread.join(Duration.ofSeconds(10).toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
