package dev.substrate.stream;

import dev.substrate.config.SubstrateConfig;
import dev.substrate.event.UndecodableRecord;
import dev.substrate.event.WireCodec;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.topic.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.utils.Utils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows rooms' events straight from {@code substrate.room-events}, in order, each with its cursor (its offset
 * in the room's partition). No consumer group: one plain {@link KafkaConsumer} per partition in use, assigned to
 * that partition (found as the producer finds it, from the room id), shared by every subscription to a room on
 * it; each subscription sees only its room's events, and only those after its cursor.
 *
 * <pre>{@code
 * try (RoomStream stream = RoomStream.create(config);
 *         RoomStream.Subscription room = stream.subscribe("room-1", RoomStream.From.after(cursor))) {
 *     while (running) {
 *         for (RoomStream.Entry entry : room.poll(Duration.ofSeconds(1))) {
 *             show(entry.event());
 *             cursor = entry.cursor();        // resume from here after a restart
 *         }
 *     }
 * }
 * }</pre>
 *
 * <p>Backpressure: each subscription buffers up to {@value #BUFFER} events. When one is full, its partition's
 * reader either waits for it ({@link OnFull#WAIT}, the default: a slow reader slows the rooms on its partition)
 * or ends it ({@link OnFull#END}: the reader moves on and the subscription {@linkplain Subscription#endReason()
 * says why it ended}, so that its owner can resume from its last cursor). Either way memory stays bounded.
 */
public final class RoomStream implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(RoomStream.class);

    /** Events buffered per subscription before its partition's reader waits. */
    public static final int BUFFER = 1024;

    private static final Duration POLL = Duration.ofMillis(200);

    private final Map<String, Object> consumerConfig;
    private final String topic;
    private final String statesTopic;
    private final int partitions;
    private final Map<Integer, PartitionReader> readers = new HashMap<>();
    private boolean closed;

    private RoomStream(Map<String, Object> consumerConfig, String topic, String statesTopic) {
        this.consumerConfig = consumerConfig;
        this.topic = topic;
        this.statesTopic = statesTopic;
        try (KafkaConsumer<String, byte[]> probe = consumer()) {
            this.partitions = probe.partitionsFor(topic, Duration.ofSeconds(30)).size();
        }
        if (partitions == 0) {
            throw new IllegalStateException("Topic " + topic + " does not exist");
        }
    }

    /** A stream over the cluster and topics {@code config} names. */
    public static RoomStream create(SubstrateConfig config) {
        Map<String, Object> consumer = new HashMap<>(config.kafkaProperties(ConsumerConfig.configNames()));
        Topics topics = Topics.from(config);
        return new RoomStream(
                consumer, topics.roomEvents().name(), topics.rooms().name());
    }

    /** Where a subscription starts. */
    public sealed interface From {
        /** At the room's first event (its {@code RoomCreated}), found from the room's state, not by a scan. */
        static From start() {
            return new Start();
        }

        /** After the event at {@code cursor}: exactly the events that followed it. */
        static From after(long cursor) {
            return new After(cursor);
        }

        /** With the next event appended. */
        static From now() {
            return new Now();
        }
    }

    private record Start() implements From {}

    private record After(long cursor) implements From {}

    private record Now() implements From {}

    /**
     * One event of a room.
     *
     * @param cursor its offset in the room's partition: pass it to {@link From#after} to resume after it
     * @param event the event
     */
    public record Entry(long cursor, RoomEvent event) {}

    /** What a partition's reader does when a subscription's buffer is full. */
    public enum OnFull {
        /** Wait until the subscription drains it: no event is skipped, other rooms on the partition wait too. */
        WAIT,
        /** End the subscription ({@link EndReason#OVERFLOW}) and go on with the others. */
        END
    }

    /** Why a subscription stopped following its room. */
    public enum EndReason {
        /** Its owner closed it. */
        CLOSED,
        /** It fell {@value RoomStream#BUFFER} events behind with {@link OnFull#END}. */
        OVERFLOW,
        /** The stream was closed. */
        STREAM_CLOSED,
        /** The partition's reader failed (the cause is logged); resume from the last cursor. */
        FAILED
    }

    /** The partition of {@code substrate.room-events} holding {@code roomId}, as the producer computes it. */
    public int partitionOf(String roomId) {
        return Utils.toPositive(Utils.murmur2(roomId.getBytes(StandardCharsets.UTF_8))) % partitions;
    }

    /**
     * Starts following {@code roomId} from {@code from}; a full buffer makes the partition's reader wait.
     *
     * @throws IllegalArgumentException when {@code from} is {@link From#start()} and the room does not exist
     */
    public Subscription subscribe(String roomId, From from) {
        return subscribe(roomId, from, OnFull.WAIT);
    }

    /**
     * Starts following {@code roomId} from {@code from}; {@code onFull} says what happens when the subscriber
     * falls {@value #BUFFER} events behind.
     *
     * @throws IllegalArgumentException when {@code from} is {@link From#start()} and the room does not exist
     */
    public synchronized Subscription subscribe(String roomId, From from, OnFull onFull) {
        Objects.requireNonNull(roomId, "roomId");
        Objects.requireNonNull(onFull, "onFull");
        if (closed) {
            throw new IllegalStateException("the stream is closed");
        }
        int partition = partitionOf(roomId);
        long next;
        if (from instanceof After after) {
            next = after.cursor() + 1;
        } else if (from instanceof Now) {
            next = endOffset(partition);
        } else {
            next = firstOffset(roomId, partition)
                    .orElseThrow(() -> new IllegalArgumentException("room " + roomId + " does not exist"));
        }
        Subscription subscription = new Subscription(roomId, partition, next, onFull);
        // A reader that failed is replaced; its subscriptions ended with FAILED.
        readers.compute(partition, (p, reader) -> reader == null || !reader.running ? new PartitionReader(p) : reader)
                .add(subscription);
        return subscription;
    }

    /** The offset of the room's {@code RoomCreated}: from its latest state in the compacted state topic. */
    private OptionalLong firstOffset(String roomId, int partition) {
        try (KafkaConsumer<String, byte[]> consumer = consumer()) {
            // The state topic is keyed and partitioned like the log: only the room's partition is read, and
            // compaction keeps it to about one record per room.
            TopicPartition states = new TopicPartition(statesTopic, partition);
            consumer.assign(List.of(states));
            consumer.seekToBeginning(List.of(states));
            long end = consumer.endOffsets(List.of(states)).get(states);
            OptionalLong first = OptionalLong.empty();
            while (consumer.position(states) < end) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(POLL)) {
                    if (roomId.equals(record.key())) {
                        first = record.value() == null
                                ? OptionalLong.empty()
                                : OptionalLong.of(WireCodec.ROOM_STATE
                                        .decode(record.value())
                                        .getFirstOffset());
                    }
                }
            }
            return first;
        }
    }

    /** The cursor the next event appended to the partition of {@code roomId} will get. */
    public long endOffset(String roomId) {
        return endOffset(partitionOf(roomId));
    }

    private long endOffset(int partition) {
        try (KafkaConsumer<String, byte[]> consumer = consumer()) {
            TopicPartition tp = new TopicPartition(topic, partition);
            return consumer.endOffsets(List.of(tp)).get(tp);
        }
    }

    private KafkaConsumer<String, byte[]> consumer() {
        Map<String, Object> config = new HashMap<>(consumerConfig);
        config.remove(ConsumerConfig.GROUP_ID_CONFIG);
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        return new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer());
    }

    /** How many partitions are being read: one consumer each, however many subscriptions share it. */
    public synchronized int consumers() {
        return readers.size();
    }

    /** How many subscriptions are open. */
    public synchronized int subscriptions() {
        return readers.values().stream()
                .mapToInt(reader -> reader.subscriptions.size())
                .sum();
    }

    /** Stops every reader and ends every subscription. */
    @Override
    public synchronized void close() {
        closed = true;
        readers.values().forEach(reader -> reader.stop(EndReason.STREAM_CLOSED));
        readers.clear();
    }

    /** One room followed from a cursor. Not thread-safe: one reader at a time. */
    public final class Subscription implements AutoCloseable {
        private final String roomId;
        private final int partition;
        private final OnFull onFull;
        private final BlockingQueue<Entry> buffer = new ArrayBlockingQueue<>(BUFFER);
        private volatile long next;
        private volatile EndReason ended;

        private Subscription(String roomId, int partition, long next, OnFull onFull) {
            this.roomId = roomId;
            this.partition = partition;
            this.next = next;
            this.onFull = onFull;
        }

        /** The room followed. */
        public String roomId() {
            return roomId;
        }

        /**
         * The room's next events, in order: waits up to {@code timeout} for the first, then takes what is
         * buffered. Empty when none arrived in time or the subscription has ended (and its buffer is drained:
         * the events read before an {@link EndReason#OVERFLOW} are still handed out).
         */
        public List<Entry> poll(Duration timeout) throws InterruptedException {
            List<Entry> entries = new ArrayList<>();
            if (ended == EndReason.CLOSED || ended == EndReason.STREAM_CLOSED) {
                return entries;
            }
            Entry first = ended == null ? buffer.poll(timeout.toNanos(), TimeUnit.NANOSECONDS) : buffer.poll();
            if (first != null) {
                entries.add(first);
                buffer.drainTo(entries);
            }
            return entries;
        }

        /** Whether it still follows the room. */
        public boolean isOpen() {
            return ended == null;
        }

        /** Why it stopped following the room; null while it follows it. */
        public EndReason endReason() {
            return ended;
        }

        /** Stops following the room. */
        @Override
        public void close() {
            end(EndReason.CLOSED);
            synchronized (RoomStream.this) {
                PartitionReader reader = readers.get(partition);
                if (reader != null && reader.remove(this)) {
                    readers.remove(partition);
                }
            }
            buffer.clear();
        }

        private void end(EndReason reason) {
            if (ended == null) {
                ended = reason;
            }
        }

        /**
         * Hands one record of the partition over, if it is this room's and after the cursor; true when the
         * subscription ended because it was full.
         */
        private boolean offer(ConsumerRecord<String, byte[]> record, RoomEvent event) throws InterruptedException {
            if (ended != null || record.offset() < next || !roomId.equals(record.key())) {
                return false;
            }
            Entry entry = new Entry(record.offset(), event);
            if (onFull == OnFull.END) {
                if (!buffer.offer(entry)) {
                    end(EndReason.OVERFLOW);
                    return true;
                }
            } else {
                while (ended == null && !buffer.offer(entry, POLL.toMillis(), TimeUnit.MILLISECONDS)) {
                    // Full: the reader waits for this subscription (backpressure) until it drains or closes.
                }
            }
            next = record.offset() + 1;
            return false;
        }
    }

    /** The one consumer of a partition, feeding every subscription to a room on it. */
    private final class PartitionReader implements Runnable {
        private final TopicPartition partition;
        private final List<Subscription> subscriptions = new CopyOnWriteArrayList<>();
        private final KafkaConsumer<String, byte[]> consumer = consumer();
        private final Thread thread;
        private long rewindTo = -1;
        private boolean positioned;
        private volatile boolean running = true;

        PartitionReader(int partition) {
            this.partition = new TopicPartition(topic, partition);
            consumer.assign(List.of(this.partition));
            this.thread = new Thread(this, "substrate-room-stream-" + topic + "-" + partition);
            this.thread.setDaemon(true);
        }

        void add(Subscription subscription) {
            subscriptions.add(subscription);
            synchronized (this) {
                rewindTo = rewindTo < 0 ? subscription.next : Math.min(rewindTo, subscription.next);
            }
            if (!thread.isAlive()) {
                thread.start();
            }
            consumer.wakeup();
        }

        /** Removes a subscription; true when none is left and the reader has stopped. */
        boolean remove(Subscription subscription) {
            subscriptions.remove(subscription);
            if (subscriptions.isEmpty()) {
                stop(EndReason.CLOSED);
                return true;
            }
            return false;
        }

        void stop(EndReason reason) {
            running = false;
            subscriptions.forEach(subscription -> subscription.end(reason));
            consumer.wakeup();
        }

        @Override
        public void run() {
            try {
                while (running) {
                    long rewind;
                    synchronized (this) {
                        rewind = rewindTo;
                        rewindTo = -1;
                    }
                    // A new subscription behind the others moves the reader back; the ones ahead skip what
                    // they have seen by their own cursors.
                    if (rewind >= 0 && (!positioned || rewind < consumer.position(partition))) {
                        consumer.seek(partition, rewind);
                        positioned = true;
                    }
                    try {
                        for (ConsumerRecord<String, byte[]> record : consumer.poll(POLL)) {
                            RoomEvent event = decode(record);
                            if (event == null) {
                                continue;
                            }
                            for (Subscription subscription : subscriptions) {
                                if (subscription.offer(record, event)) {
                                    subscriptions.remove(subscription);
                                }
                            }
                        }
                    } catch (WakeupException e) {
                        // A subscription came or went: look again.
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                log.error("Room stream reader of {} stopped", partition, e);
                running = false;
                subscriptions.forEach(subscription -> subscription.end(EndReason.FAILED));
            } finally {
                consumer.close();
            }
        }

        private RoomEvent decode(ConsumerRecord<String, byte[]> record) {
            if (record.value() == null) {
                return null;
            }
            try {
                return WireCodec.ROOM.decode(record.value());
            } catch (UndecodableRecord e) {
                log.warn("Skipping unreadable record at {}@{}: {}", partition, record.offset(), e.getMessage());
                return null;
            }
        }
    }
}
