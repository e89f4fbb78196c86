package dev.substrate.stream;

import dev.substrate.config.SubstrateConfig;
import dev.substrate.event.UndecodableRecord;
import dev.substrate.event.Wire;
import dev.substrate.event.WireCodec;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.registry.SchemaRegistryFailed;
import dev.substrate.topic.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Queue;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;
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
 * <p>Catching up: a subscription that starts a little behind its partition's reader (a client reconnecting, a long
 * poll asking again) starts from the reader's latest records, which it keeps ({@value #RECENT_RECORDS} records or
 * {@value #RECENT_BYTES} bytes at most). One further behind is not served by moving the shared reader back (that would
 * hold up every other room on the partition while it replays): it reads the history on a consumer of its own, with
 * backpressure, until it meets the shared reader, and then follows with the others. At most {@value
 * #MAX_CATCH_UPS} catch-ups run at once; past that a late subscriber moves the shared reader back. A reader with no
 * subscription left waits {@code LINGER} for the next before it stops.
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

    /** Subscriptions reading their history on a consumer of their own at once, at most. */
    public static final int MAX_CATCH_UPS = 256;

    private static final Duration POLL = Duration.ofMillis(200);

    /** How long a partition's reader goes on with no subscription before it stops. */
    static final Duration LINGER = Duration.ofSeconds(30);

    private final Semaphore catchUps = new Semaphore(MAX_CATCH_UPS);

    /** How long a partition's reader waits for the Schema Registry to tell it a new schema id before it skips. */
    private static final Duration REGISTRY_PATIENCE = Duration.ofSeconds(30);

    private final Map<String, Object> consumerConfig;
    private final Wire wire;
    private final String topic;
    private final String statesTopic;
    private final int partitions;
    private final Map<Integer, PartitionReader> readers = new HashMap<>();
    private boolean closed;

    /** What each event read goes through before any subscription sees it (the API opens sealed content). */
    private final UnaryOperator<RoomEvent> open;

    private RoomStream(
            Map<String, Object> consumerConfig,
            String topic,
            String statesTopic,
            Wire wire,
            UnaryOperator<RoomEvent> open) {
        this.wire = wire;
        this.open = open;
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
        return create(config, UnaryOperator.identity());
    }

    /**
     * A stream over the cluster and topics {@code config} names whose events go through {@code open} as they are read
     * (once each, whatever the number of subscriptions), such as one that opens an encrypted room's content.
     */
    public static RoomStream create(SubstrateConfig config, UnaryOperator<RoomEvent> open) {
        Map<String, Object> consumer = new HashMap<>(config.kafkaProperties(ConsumerConfig.configNames()));
        Topics topics = Topics.from(config);
        return new RoomStream(
                consumer, topics.roomEvents().name(), topics.rooms().name(), Wire.reading(config), open);
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
    public Subscription subscribe(String roomId, From from, OnFull onFull) {
        return subscribe(roomId, from, onFull, Long.MAX_VALUE);
    }

    /**
     * Starts following {@code roomId} from {@code from}; {@code onFull} says what happens when the subscriber
     * falls {@value #BUFFER} events or {@code maxBufferedBytes} bytes of events (as written) behind.
     *
     * @throws IllegalArgumentException when {@code from} is {@link From#start()} and the room does not exist
     */
    public Subscription subscribe(String roomId, From from, OnFull onFull, long maxBufferedBytes) {
        return subscribe(roomId, from, onFull, maxBufferedBytes, null);
    }

    /**
     * A bound on the bytes that several subscriptions hold buffered together: all the room streams of one caller,
     * so that many slow readers of one token cannot take the heap. A subscription that would pass it is full (as
     * when it passes its own bound); an empty one still takes one event.
     */
    public static final class Budget {
        private final long maxBytes;
        private final AtomicLong used = new AtomicLong();

        /** @param maxBytes the most bytes the subscriptions sharing it hold buffered together */
        public Budget(long maxBytes) {
            this.maxBytes = maxBytes;
        }

        /** The bytes its subscriptions hold buffered now. */
        public long used() {
            return used.get();
        }
    }

    /**
     * {@link #subscribe(String, From, OnFull, long)}, its buffer also counted against {@code budget} (shared with
     * other subscriptions; null for none).
     */
    public synchronized Subscription subscribe(
            String roomId, From from, OnFull onFull, long maxBufferedBytes, Budget budget) {
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
        Subscription subscription = new Subscription(roomId, partition, next, onFull, maxBufferedBytes, budget);
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
                                : OptionalLong.of(wire.decode(WireCodec.ROOM_STATE, record.value())
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

    /** How many partitions are being read for subscriptions: one consumer each, however many subscriptions share it. */
    public synchronized int consumers() {
        return (int) readers.values().stream().filter(PartitionReader::feeding).count();
    }

    /**
     * How many partitions' readers have no subscription left and wait for one ({@link #LINGER}) before they stop: a
     * client that comes back, or a long poll that asks again, finds its reader at the partition's end.
     */
    public synchronized int idleConsumers() {
        return readers.size() - consumers();
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
        private final long maxBytes;
        private final BlockingQueue<Held> buffer = new ArrayBlockingQueue<>(BUFFER);
        private final AtomicLong bufferedBytes = new AtomicLong();
        private final Budget budget;
        private volatile long next;
        private volatile EndReason ended;
        /** While true, its history is read by its own consumer and the shared reader only notes what it passed. */
        private volatile boolean catchingUp;
        /** The last offset the shared reader passed while this subscription caught up. */
        private long seenByReader;
        /** See {@link #caughtUpTo()}. */
        private volatile long caughtUpTo = -1;
        /** The partition's end when the shared reader first saw this subscription; -1 before. Reader thread only. */
        private long target = -1;

        private Subscription(String roomId, int partition, long next, OnFull onFull, long maxBytes, Budget budget) {
            this.budget = budget;
            this.roomId = roomId;
            this.partition = partition;
            this.next = next;
            this.onFull = onFull;
            this.maxBytes = maxBytes;
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
            Held first = ended == null ? buffer.poll(timeout.toNanos(), TimeUnit.NANOSECONDS) : buffer.poll();
            if (first != null) {
                List<Held> held = new ArrayList<>();
                held.add(first);
                buffer.drainTo(held);
                for (Held one : held) {
                    entries.add(one.entry());
                    bufferedBytes.addAndGet(-one.bytes());
                    uncharge(one);
                }
            }
            return entries;
        }

        /**
         * An offset of the partition before which every event of the room was handed to this subscription, once its
         * reader has passed the partition's end as it was when the subscription came; -1 until then. Read it, then
         * {@link #poll}: when the poll returns nothing, the subscription has given out every event of its room before
         * that offset (what a read of "everything so far" waits for).
         */
        public long caughtUpTo() {
            return caughtUpTo;
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
                if (reader != null) {
                    reader.remove(this);
                }
            }
            clearBuffer();
        }

        /**
         * The reader is at {@code position}, having handed this subscription everything before it, and the partition's
         * end was at {@code highWatermark} by its last fetch. The first time, that end becomes the subscription's
         * target: it is caught up once the reader passes it (under a steady load the reader is rarely at the very end,
         * so "everything so far" is everything up to the end as it was when the subscription came).
         */
        private void reachedEnd(long position, long highWatermark) {
            if (catchingUp || ended != null) {
                return;
            }
            if (target < 0) {
                target = highWatermark;
            }
            if (position >= target && position > caughtUpTo) {
                caughtUpTo = position;
            }
        }

        /** Empties the buffer, giving what it held back to the budget. */
        private void clearBuffer() {
            List<Held> left = new ArrayList<>();
            buffer.drainTo(left);
            left.forEach(this::uncharge);
        }

        private void charge(Held held) {
            if (budget != null) {
                budget.used.addAndGet(held.bytes());
            }
        }

        private void uncharge(Held held) {
            if (budget != null) {
                budget.used.addAndGet(-held.bytes());
            }
        }

        private void end(EndReason reason) {
            if (ended == null) {
                ended = reason;
            }
        }

        /**
         * Hands one record the shared reader read over, if it is this room's and after the cursor; while the
         * subscription catches up on its own consumer, only notes how far the reader got. True when the
         * subscription ended because it was full.
         */
        private boolean offerLive(ConsumerRecord<String, byte[]> record, RoomEvent event) throws InterruptedException {
            if (catchingUp) {
                synchronized (this) {
                    if (catchingUp) {
                        seenByReader = record.offset();
                        return false;
                    }
                }
            }
            return offer(record, event, onFull);
        }

        /**
         * Hands one record of the partition over, if it is this room's and after the cursor; true when the
         * subscription ended because it was full.
         */
        private boolean offer(ConsumerRecord<String, byte[]> record, RoomEvent event, OnFull whenFull)
                throws InterruptedException {
            return offer(record.offset(), record.key(), record.value().length, event, whenFull);
        }

        /** {@link #offer(ConsumerRecord, RoomEvent, OnFull)}, for a record of {@code size} bytes at {@code offset}. */
        private boolean offer(long offset, String key, int size, RoomEvent event, OnFull whenFull)
                throws InterruptedException {
            if (ended != null || offset < next || !roomId.equals(key)) {
                return false;
            }
            Held held = new Held(new Entry(offset, event), size);
            if (whenFull == OnFull.END) {
                if (!hasRoomFor(held) || !buffer.offer(held)) {
                    end(EndReason.OVERFLOW);
                    return true;
                }
            } else {
                // Full: wait for this subscription (backpressure) until it drains or closes.
                while (true) {
                    if (ended != null) {
                        return false;
                    }
                    if (!hasRoomFor(held)) {
                        // Full by bytes: the queue can only wait for a free slot, so look again once the
                        // subscriber has had a moment to drain (bounded: ends when it drains or closes).
                        Thread.sleep(10);
                    } else if (buffer.offer(held, POLL.toMillis(), TimeUnit.MILLISECONDS)) {
                        break;
                    }
                }
            }
            bufferedBytes.addAndGet(held.bytes());
            charge(held);
            if (ended == EndReason.CLOSED || ended == EndReason.STREAM_CLOSED) {
                // Closed while this was handed over, after close() emptied the buffer: nobody will take it.
                clearBuffer();
            }
            next = offset + 1;
            return false;
        }

        /**
         * Whether what its partition's reader holds of this room from the subscription's cursor on fits in half its
         * buffer: handed over at once, on the reader's thread, it must not end the subscription as full (a longer
         * history is read on a consumer of its own, with backpressure).
         */
        private boolean fits(ArrayDeque<Recent> recent) {
            int count = 0;
            long bytes = 0;
            for (java.util.Iterator<Recent> latestFirst = recent.descendingIterator(); latestFirst.hasNext(); ) {
                Recent record = latestFirst.next();
                if (record.offset() < next) {
                    break;
                }
                if (roomId.equals(record.key())) {
                    count++;
                    bytes += record.bytes();
                    if (count > BUFFER / 2 || bytes > maxBytes / 2) {
                        return false;
                    }
                }
            }
            return budget == null || budget.used.get() + bytes <= budget.maxBytes;
        }

        /** Hands over what its partition's reader still holds from this subscription's cursor on. */
        private void replay(Iterable<Recent> recent) throws InterruptedException {
            for (Recent record : recent) {
                if (record.offset() >= next
                        && offer(record.offset(), record.key(), record.bytes(), record.event(), OnFull.END)) {
                    return;
                }
            }
        }

        /** Whether the buffer is at most half full, by events and by bytes. */
        private boolean drained() {
            return buffer.size() <= BUFFER / 2 && bufferedBytes.get() <= maxBytes / 2;
        }

        /** Whether the buffer's bytes leave room for {@code held} (an empty buffer takes any one event). */
        private boolean hasRoomFor(Held held) {
            long buffered = bufferedBytes.get();
            return buffered <= 0
                    || (buffered + held.bytes() <= maxBytes
                            && (budget == null || budget.used.get() + held.bytes() <= budget.maxBytes));
        }

        /**
         * Reads this subscription's history, from its cursor, on a consumer of its own, until it meets the shared
         * reader (which is at {@code readerAt}); then the shared reader feeds it. Waits for the subscriber when it is
         * full, so a long history slows only this subscription.
         */
        private void catchUp(long readerAt) {
            synchronized (this) {
                catchingUp = true;
                seenByReader = readerAt - 1;
            }
            Thread thread = new Thread(
                    () -> {
                        try (KafkaConsumer<String, byte[]> own = consumer()) {
                            TopicPartition tp = new TopicPartition(topic, partition);
                            own.assign(List.of(tp));
                            own.seek(tp, next);
                            while (ended == null) {
                                for (ConsumerRecord<String, byte[]> record : own.poll(POLL)) {
                                    RoomEvent event = decode(tp, record);
                                    if (event != null) {
                                        offer(record, event, OnFull.WAIT);
                                    }
                                }
                                synchronized (this) {
                                    next = Math.max(next, own.position(tp));
                                    // Hand over once caught up and the subscriber has drained what catching up
                                    // gave it: the shared reader does not wait (a full buffer may end the
                                    // subscription), so it must not meet a buffer this consumer filled.
                                    if (next > seenByReader && drained()) {
                                        catchingUp = false;
                                        return;
                                    }
                                }
                            }
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        } catch (RuntimeException e) {
                            log.error("Catching up room {} on {}-{} failed", roomId, topic, partition, e);
                            end(EndReason.FAILED);
                        } finally {
                            catchUps.release();
                        }
                    },
                    "substrate-room-catch-up-" + partition);
            thread.setDaemon(true);
            thread.start();
        }
    }

    /** An event waiting in a subscription's buffer, with its size as written. */
    private record Held(Entry entry, int bytes) {}

    /** A record a partition's reader read lately, kept for subscriptions that start a little behind it. */
    private record Recent(long offset, String key, int bytes, RoomEvent event) {}

    /** How many of its latest records a partition's reader keeps, at most, for subscriptions that start behind it. */
    static final int RECENT_RECORDS = 4_096;

    /** How many bytes (as written) of its latest records a partition's reader keeps, at most. */
    static final long RECENT_BYTES = 8L * 1024 * 1024;

    private RoomEvent decode(TopicPartition partition, ConsumerRecord<String, byte[]> record) {
        if (record.value() == null) {
            return null;
        }
        long giveUp = System.nanoTime() + REGISTRY_PATIENCE.toNanos();
        while (true) {
            try {
                return open.apply(wire.decode(WireCodec.ROOM, record.value()));
            } catch (UndecodableRecord e) {
                log.warn("Skipping unreadable record at {}@{}: {}", partition, record.offset(), e.getMessage());
                return null;
            } catch (SchemaRegistryFailed e) {
                // A schema id not seen before, and the registry not answering now: the partition's observers
                // wait (each try is bounded and backs off) rather than miss the event, for a bounded time.
                if (!e.isRetriable() || System.nanoTime() - giveUp > 0) {
                    log.warn(
                            "Skipping record at {}@{} whose schema the registry did not give: {}",
                            partition,
                            record.offset(),
                            e.getMessage());
                    return null;
                }
                log.info(
                        "Waiting for the Schema Registry to read {}@{}: {}",
                        partition,
                        record.offset(),
                        e.getMessage());
            }
        }
    }

    /** The one consumer of a partition, feeding every subscription to a room on it. */
    private final class PartitionReader implements Runnable {
        private final TopicPartition partition;
        private final List<Subscription> subscriptions = new CopyOnWriteArrayList<>();
        private final Queue<Subscription> arriving = new ConcurrentLinkedQueue<>();
        private final KafkaConsumer<String, byte[]> consumer = consumer();
        private final Thread thread;
        private boolean positioned;
        private volatile boolean running = true;
        /** When the last subscription left ({@link System#nanoTime}), or 0 while it has some. */
        private long idleSince;
        /** The latest records read, in order: every record from {@link #recentFrom} to the reader's position. */
        private final ArrayDeque<Recent> recent = new ArrayDeque<>();
        /** The offset from which {@link #recent} holds every record read; -1 before the reader is positioned. */
        private long recentFrom = -1;

        private long recentBytes;

        PartitionReader(int partition) {
            this.partition = new TopicPartition(topic, partition);
            consumer.assign(List.of(this.partition));
            this.thread = new Thread(this, "substrate-room-stream-" + topic + "-" + partition);
            this.thread.setDaemon(true);
        }

        /** Whether it has subscriptions to feed (else it lingers, then stops). */
        boolean feeding() {
            return !subscriptions.isEmpty() || !arriving.isEmpty();
        }

        void add(Subscription subscription) {
            arriving.add(subscription);
            if (!thread.isAlive()) {
                thread.start();
            }
            consumer.wakeup();
        }

        /**
         * Removes a subscription. The reader goes on for {@link #LINGER} with none left (a client that reconnects, a
         * long poll that asks again, finds it at the partition's end instead of starting a consumer), then stops.
         */
        void remove(Subscription subscription) {
            subscriptions.remove(subscription);
            arriving.remove(subscription);
        }

        /** Stops the reader once it has had no subscription for {@link #LINGER}; whether it stopped. */
        private boolean stopIfIdle() {
            if (!subscriptions.isEmpty() || !arriving.isEmpty()) {
                idleSince = 0;
                return false;
            }
            long now = System.nanoTime();
            if (idleSince == 0) {
                idleSince = now;
                return false;
            }
            if (now - idleSince < LINGER.toNanos()) {
                return false;
            }
            synchronized (RoomStream.this) {
                // Under the stream's lock, as subscribe() adds: nobody arrives while the reader leaves the map.
                if (!subscriptions.isEmpty() || !arriving.isEmpty()) {
                    idleSince = 0;
                    return false;
                }
                running = false;
                readers.remove(partition.partition(), this);
                return true;
            }
        }

        void stop(EndReason reason) {
            running = false;
            subscriptions.forEach(subscription -> subscription.end(reason));
            arriving.forEach(subscription -> subscription.end(reason));
            consumer.wakeup();
        }

        /**
         * Takes in the subscriptions that arrived: the first ones position the reader; a later one a little behind
         * it starts from the records it keeps; one further behind catches up on a consumer of its own (or, when too many do, moves the reader back: the ones ahead
         * skip what they have seen by their own cursors).
         */
        private void takeArrivals() throws InterruptedException {
            List<Subscription> taken = new ArrayList<>();
            for (Subscription subscription; (subscription = arriving.poll()) != null; ) {
                taken.add(subscription);
            }
            if (taken.isEmpty()) {
                return;
            }
            long rewind = -1;
            for (Subscription subscription : taken) {
                long at = positioned ? consumer.position(partition) : -1;
                if (positioned
                        && subscription.next < at
                        && recentFrom >= 0
                        && subscription.next >= recentFrom
                        && subscription.fits(recent)) {
                    // A little behind (a client reconnecting, a long poll asking again): from what the reader holds.
                    subscription.replay(recent);
                } else if (positioned && subscription.next < at && catchUps.tryAcquire()) {
                    subscription.catchUp(at);
                } else if (!positioned || subscription.next < at) {
                    rewind = rewind < 0 ? subscription.next : Math.min(rewind, subscription.next);
                }
                subscriptions.add(subscription);
            }
            if (rewind >= 0) {
                consumer.seek(partition, rewind);
                positioned = true;
                recent.clear();
                recentBytes = 0;
                recentFrom = rewind;
            }
        }

        /** Keeps {@code record} among the latest, forgetting the oldest past the bounds. */
        private void remember(ConsumerRecord<String, byte[]> record, RoomEvent event) {
            recent.addLast(new Recent(record.offset(), record.key(), record.value().length, event));
            recentBytes += record.value().length;
            while (recent.size() > RECENT_RECORDS || recentBytes > RECENT_BYTES) {
                Recent forgotten = recent.removeFirst();
                recentBytes -= forgotten.bytes();
                recentFrom = forgotten.offset() + 1;
            }
        }

        /**
         * Tells every subscription it follows live where the reader is and where the partition ended by its last
         * fetch: what {@link Subscription#caughtUpTo} answers.
         */
        private void markCaughtUp() {
            if (!positioned) {
                return;
            }
            OptionalLong lag = consumer.currentLag(partition);
            if (lag.isPresent()) {
                long position = consumer.position(partition);
                for (Subscription subscription : subscriptions) {
                    subscription.reachedEnd(position, position + lag.getAsLong());
                }
            }
        }

        @Override
        public void run() {
            try {
                while (running) {
                    takeArrivals();
                    if (stopIfIdle()) {
                        break;
                    }
                    markCaughtUp();
                    try {
                        for (ConsumerRecord<String, byte[]> record : consumer.poll(POLL)) {
                            RoomEvent event = decode(partition, record);
                            if (event == null) {
                                continue;
                            }
                            remember(record, event);
                            for (Subscription subscription : subscriptions) {
                                if (subscription.offerLive(record, event)) {
                                    subscriptions.remove(subscription);
                                }
                            }
                        }
                        markCaughtUp();
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
    }
}
