package dev.substrate.api.internal;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.substrate.config.KafkaSettings;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.config.WebhookSettings;
import dev.substrate.event.WireCodec;
import dev.substrate.state.RoomState;
import dev.substrate.state.RunState;
import dev.substrate.topic.TopicWriters;
import dev.substrate.topic.Topics;
import dev.substrate.webhook.WebhookSignature;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers the notifications topic ({@link Topics#notifications()}) to the webhook subscriptions that want them, at
 * least once, signed as the Standard Webhooks specification says ({@link WebhookSignature}).
 *
 * <p>Every instance reads the topic in one consumer group, so each notification is delivered by the instance that
 * owns its partition, and by no other while the group is stable. Each subscription has an outbox: its messages go one
 * at a time, in the order read (so in each run's order), and a failed try is tried again after an exponential
 * backoff with full jitter ({@code webhooks.retry.initial.ms} doubling to {@code webhooks.retry.max.ms}), up to
 * {@code webhooks.max.attempts}; then the message is dead-lettered. Its outcome (delivered or dead-lettered) is a
 * record on {@link Topics#webhookDeliveries()}, which every instance reads for each subscription's status ({@link
 * WebhookStatus}). The group's offset of a partition moves past a notification only once every subscription it was
 * for has its outcome (committed every 200 ms), so what an instance that dies had read and not committed is sent
 * again by the one that takes its partitions: its unsettled messages (at most {@code webhooks.max.in.flight} per
 * subscription) and those it delivered since its last commit. A subscription at that bound stops the reading until
 * it drains; a
 * receiver that never answers holds up its own subscription only. A URL that resolves to a private address is refused
 * at each try unless {@code webhooks.allow.private}; a receiver's answer body is never read.
 */
final class WebhookDelivery implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(WebhookDelivery.class);

    private final Topics topics;
    private final WebhookSubscriptions subscriptions;
    private final KafkaConsumer<String, byte[]> consumer;
    private final KafkaProducer<String, byte[]> producer;
    private final HttpClient http;
    private final ScheduledExecutorService scheduler;
    private final Thread reader;
    private final Map<String, Outbox> outboxes = new ConcurrentHashMap<>();
    /** Per partition of the group's: the offsets read whose deliveries are not all settled, with how many are not. */
    private final Map<TopicPartition, TreeMap<Long, Integer>> unsettled = new HashMap<>();
    /** Per partition of the group's: the offset after the last one read. */
    private final Map<TopicPartition, Long> readTo = new HashMap<>();

    private final int maxAttempts;
    private final long retryInitialMs;
    private final long retryMaxMs;
    private final Duration timeout;
    private final int maxInFlight;
    private final boolean allowPrivate;
    private final Map<String, Object> consumerProps;
    private volatile boolean closed;

    WebhookDelivery(SubstrateConfig config, Topics topics, WebhookSubscriptions subscriptions) {
        this.topics = topics;
        this.subscriptions = subscriptions;
        this.maxAttempts = config.get(WebhookSettings.MAX_ATTEMPTS);
        this.retryInitialMs = config.get(WebhookSettings.RETRY_INITIAL).toMillis();
        this.retryMaxMs = config.get(WebhookSettings.RETRY_MAX).toMillis();
        this.timeout = config.get(WebhookSettings.TIMEOUT);
        this.maxInFlight = config.get(WebhookSettings.MAX_IN_FLIGHT);
        this.allowPrivate = config.get(WebhookSettings.ALLOW_PRIVATE);
        this.consumerProps = new HashMap<>(config.kafkaProperties(ConsumerConfig.configNames()));
        consumerProps.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        consumerProps.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        consumerProps.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        consumerProps.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 500);
        Map<String, Object> group = new HashMap<>(consumerProps);
        group.put(ConsumerConfig.GROUP_ID_CONFIG, config.get(KafkaSettings.APPLICATION_ID) + ".webhooks");
        group.put(ConsumerConfig.CLIENT_ID_CONFIG, "substrate-webhooks");
        this.consumer = new KafkaConsumer<>(group, new StringDeserializer(), new ByteArrayDeserializer());
        this.producer = TopicWriters.idempotent(config, "substrate-webhook-deliveries");
        this.http = HttpClient.newBuilder()
                .connectTimeout(timeout)
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
        this.scheduler = Executors.newScheduledThreadPool(2, task -> {
            Thread thread = new Thread(task, "substrate-webhooks-send");
            thread.setDaemon(true);
            return thread;
        });
        this.reader = new Thread(this::read, "substrate-webhooks-read");
        this.reader.setDaemon(true);
        this.reader.start();
    }

    /** One message for one subscription: a notification as the receiver gets it. */
    private record Message(
            String subscriptionId, String id, String type, byte[] body, TopicPartition partition, long offset) {}

    // --- reading the notifications, in the consumer group ---

    private void read() {
        try {
            consumer.subscribe(List.of(topics.notifications().name()), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                    commitSettled();
                    synchronized (unsettled) {
                        partitions.forEach(unsettled::remove);
                        partitions.forEach(readTo::remove);
                    }
                }

                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> partitions) {}
            });
            long lastCommit = System.nanoTime();
            while (!closed) {
                boolean full = outboxes.values().stream().anyMatch(outbox -> outbox.size() >= maxInFlight);
                if (full) {
                    consumer.pause(consumer.assignment());
                } else {
                    consumer.resume(consumer.paused());
                }
                ConsumerRecords<String, byte[]> records = consumer.poll(Duration.ofMillis(100));
                for (ConsumerRecord<String, byte[]> record : records) {
                    take(record);
                }
                if (System.nanoTime() - lastCommit > TimeUnit.MILLISECONDS.toNanos(200)) {
                    commitSettled();
                    lastCommit = System.nanoTime();
                }
            }
        } catch (WakeupException e) {
            // closing
        } catch (RuntimeException e) {
            if (!closed) {
                log.error("Webhook deliveries stopped reading notifications", e);
            }
        } finally {
            try {
                commitSettled();
            } catch (RuntimeException e) {
                log.debug("Last commit of webhook deliveries failed: {}", e.toString());
            }
            consumer.close(CloseOptions.timeout(Duration.ofSeconds(5)));
        }
    }

    /** Hands one notification to the outbox of every subscription that wants it. */
    private void take(ConsumerRecord<String, byte[]> record) {
        TopicPartition partition = new TopicPartition(record.topic(), record.partition());
        List<Message> messages = messages(record, partition, null);
        synchronized (unsettled) {
            readTo.put(partition, record.offset() + 1);
            if (!messages.isEmpty()) {
                unsettled.computeIfAbsent(partition, p -> new TreeMap<>()).put(record.offset(), messages.size());
            }
        }
        messages.forEach(message -> outbox(message.subscriptionId()).offer(message));
    }

    /**
     * The messages {@code record} makes: one for each subscription that wants it ({@code only}: that one alone, for
     * a replay).
     */
    private List<Message> messages(ConsumerRecord<String, byte[]> record, TopicPartition partition, String only) {
        String type = header(record, "substrate.type");
        String entity = header(record, "substrate.entity");
        String eventId = header(record, "substrate.event-id");
        if (type == null || entity == null || eventId == null || record.value() == null) {
            return List.of();
        }
        ObjectNode data = JsonNodeFactory.instance.objectNode();
        String project;
        try {
            if (entity.equals("run")) {
                RunState run = WireCodec.RUN_STATE.decode(record.value());
                project = run.getProject();
                data.put("runId", run.getRunId());
                String interrupt = header(record, "substrate.interrupt");
                if (interrupt != null) {
                    data.put("interruptId", interrupt);
                }
                data.set("run", AvroJson.toJson(run));
            } else {
                RoomState room = WireCodec.ROOM_STATE.decode(record.value());
                project = room.getProject();
                data.put("roomId", room.getRoomId());
                data.set("room", AvroJson.toJson(room));
            }
        } catch (RuntimeException e) {
            log.warn("Skipped notification at {} offset {}: {}", partition, record.offset(), e.toString());
            return List.of();
        }
        data.put("eventId", eventId);
        ObjectNode body = JsonNodeFactory.instance.objectNode();
        body.put("type", type);
        body.put("timestamp", Instant.ofEpochMilli(record.timestamp()).toString());
        body.set("data", data);
        byte[] bytes = body.toString().getBytes(StandardCharsets.UTF_8);
        List<Message> messages = new ArrayList<>();
        for (WebhookSubscriptions.Subscription subscription : subscriptions.all()) {
            if ((only == null || only.equals(subscription.id())) && subscription.wants(type, project)) {
                messages.add(new Message(subscription.id(), eventId, type, bytes, partition, record.offset()));
            }
        }
        return messages;
    }

    private static String header(ConsumerRecord<?, ?> record, String name) {
        Header header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    /** Notes one delivery of {@code message} settled; its notification's offset may then be committed. */
    private void settled(Message message) {
        if (message.partition() == null) {
            return; // a replay: not the group's
        }
        synchronized (unsettled) {
            TreeMap<Long, Integer> offsets = unsettled.get(message.partition());
            if (offsets != null) {
                offsets.computeIfPresent(message.offset(), (offset, left) -> left > 1 ? left - 1 : null);
            }
        }
    }

    /** Commits, for each partition read, the first offset not settled (or the offset after the last read). */
    private void commitSettled() {
        Map<TopicPartition, OffsetAndMetadata> commits = new HashMap<>();
        synchronized (unsettled) {
            readTo.forEach((partition, next) -> {
                TreeMap<Long, Integer> offsets = unsettled.get(partition);
                long first = offsets == null || offsets.isEmpty() ? next : offsets.firstKey();
                commits.put(partition, new OffsetAndMetadata(first));
            });
        }
        if (!commits.isEmpty()) {
            consumer.commitSync(commits, Duration.ofSeconds(5));
        }
    }

    // --- replays ---

    /**
     * Sends subscription {@code subscriptionId} again every notification it wants from {@code from} up to the topic's
     * end as it is now, in the background, each with its own id (so a receiver that keeps ids sees duplicates). Returns
     * how many notifications it will read.
     */
    long replay(String subscriptionId, Instant from) {
        Map<String, Object> props = new HashMap<>(consumerProps);
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, "substrate-webhooks-replay");
        KafkaConsumer<String, byte[]> replay =
                new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
        List<TopicPartition> partitions = new ArrayList<>();
        for (PartitionInfo info : replay.partitionsFor(topics.notifications().name(), Duration.ofSeconds(10))) {
            partitions.add(new TopicPartition(info.topic(), info.partition()));
        }
        replay.assign(partitions);
        Map<TopicPartition, Long> ends = replay.endOffsets(partitions, Duration.ofSeconds(10));
        Map<TopicPartition, Long> query = new HashMap<>();
        partitions.forEach(partition -> query.put(partition, from.toEpochMilli()));
        Map<TopicPartition, OffsetAndTimestamp> starts = replay.offsetsForTimes(query, Duration.ofSeconds(10));
        long total = 0;
        for (TopicPartition partition : partitions) {
            OffsetAndTimestamp start = starts.get(partition);
            long offset = start == null ? ends.get(partition) : start.offset();
            replay.seek(partition, offset);
            total += ends.get(partition) - offset;
        }
        long count = total;
        Thread thread = new Thread(
                () -> {
                    try (replay) {
                        long left = count;
                        while (left > 0 && !closed) {
                            for (ConsumerRecord<String, byte[]> record : replay.poll(Duration.ofMillis(200))) {
                                TopicPartition partition = new TopicPartition(record.topic(), record.partition());
                                if (record.offset() >= ends.get(partition)) {
                                    continue;
                                }
                                left--;
                                for (Message message : messages(record, partition, subscriptionId)) {
                                    outbox(subscriptionId)
                                            .offer(new Message(
                                                    message.subscriptionId(),
                                                    message.id(),
                                                    message.type(),
                                                    message.body(),
                                                    null,
                                                    -1));
                                }
                            }
                        }
                    } catch (RuntimeException e) {
                        log.warn("The replay to webhook {} stopped: {}", subscriptionId, e.toString());
                    }
                },
                "substrate-webhooks-replay");
        thread.setDaemon(true);
        thread.start();
        return count;
    }

    // --- sending, one outbox per subscription ---

    private Outbox outbox(String subscriptionId) {
        return outboxes.computeIfAbsent(subscriptionId, Outbox::new);
    }

    /** How many messages wait or are being tried on this instance, per subscription. */
    Map<String, Integer> inFlight() {
        Map<String, Integer> sizes = new HashMap<>();
        outboxes.forEach((id, outbox) -> sizes.put(id, outbox.size()));
        return sizes;
    }

    /** A subscription's messages, sent one at a time in order; a failed one is tried again before the next. */
    private final class Outbox {
        private final String subscriptionId;
        private final Deque<Message> queue = new ArrayDeque<>();
        private boolean busy;
        private int attempts;

        Outbox(String subscriptionId) {
            this.subscriptionId = subscriptionId;
        }

        synchronized int size() {
            return queue.size();
        }

        synchronized void offer(Message message) {
            queue.addLast(message);
            if (!busy) {
                busy = true;
                scheduler.execute(this::sendHead);
            }
        }

        private void sendHead() {
            Message message;
            synchronized (this) {
                message = queue.peekFirst();
                if (message == null || closed) {
                    busy = false;
                    if (message == null && subscriptions.find(subscriptionId).isEmpty()) {
                        // A deleted subscription's outbox goes once empty (one offered meanwhile makes a new one).
                        outboxes.remove(subscriptionId, this);
                    }
                    return;
                }
            }
            WebhookSubscriptions.Subscription subscription =
                    subscriptions.find(subscriptionId).orElse(null);
            if (subscription == null) {
                // Deleted since: its messages are settled without a try.
                done(message, "deleted", null);
                return;
            }
            attempts++;
            String refusal = WebhookUrls.refusal(subscription.url(), allowPrivate, true);
            if (refusal != null) {
                failed(message, "refused: " + refusal);
                return;
            }
            long now = Instant.now().getEpochSecond();
            HttpRequest request = HttpRequest.newBuilder(URI.create(subscription.url()))
                    .timeout(timeout)
                    .header("Content-Type", "application/json")
                    .header("User-Agent", "Substrate-Webhooks")
                    .header("webhook-id", message.id())
                    .header("webhook-timestamp", Long.toString(now))
                    .header(
                            "webhook-signature",
                            WebhookSignature.sign(subscription.secret(), message.id(), now, message.body()))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(message.body()))
                    .build();
            http.sendAsync(request, HttpResponse.BodyHandlers.ofInputStream()).whenComplete((response, error) -> {
                if (response != null) {
                    try {
                        // The answer's body is never read: closing it drops whatever the receiver sends.
                        response.body().close();
                    } catch (java.io.IOException e) {
                        log.debug("Closing a webhook answer: {}", e.toString());
                    }
                }
                if (error != null) {
                    failed(message, error.getClass().getSimpleName() + ": " + error.getMessage());
                } else if (response.statusCode() / 100 == 2) {
                    done(message, "delivered", null);
                } else {
                    failed(message, "HTTP " + response.statusCode());
                }
            });
        }

        private void failed(Message message, String error) {
            if (attempts >= maxAttempts) {
                done(message, "dead_lettered", error);
                return;
            }
            long ceiling = Math.min(retryMaxMs, retryInitialMs << Math.min(attempts - 1, 30));
            long delay = ThreadLocalRandom.current().nextLong(ceiling / 2, ceiling + 1);
            scheduler.schedule(this::sendHead, delay, TimeUnit.MILLISECONDS);
        }

        private void done(Message message, String outcome, String error) {
            int tries = attempts;
            synchronized (this) {
                queue.pollFirst();
                attempts = 0;
            }
            if (!outcome.equals("deleted")) {
                record(message, outcome, tries, error);
            }
            settled(message);
            scheduler.execute(this::sendHead);
        }

        private void record(Message message, String outcome, int tries, String error) {
            ObjectNode record = JsonNodeFactory.instance.objectNode();
            record.put("webhookId", subscriptionId);
            record.put("messageId", message.id());
            record.put("type", message.type());
            record.put("outcome", outcome);
            record.put("attempts", tries);
            record.put("replay", message.partition() == null);
            if (error != null) {
                record.put("error", error.length() > 500 ? error.substring(0, 500) : error);
            }
            record.put("at", Instant.now().toString());
            if (outcome.equals("dead_lettered")) {
                record.set("body", AvroJson.parsedOrText(new String(message.body(), StandardCharsets.UTF_8)));
            }
            producer.send(
                    new ProducerRecord<>(
                            topics.webhookDeliveries().name(),
                            subscriptionId,
                            record.toString().getBytes(StandardCharsets.UTF_8)),
                    (metadata, e) -> {
                        if (e != null) {
                            log.warn(
                                    "The outcome of webhook message {} was not recorded: {}",
                                    message.id(),
                                    e.toString());
                        }
                    });
        }
    }

    @Override
    public void close() {
        closed = true;
        consumer.wakeup();
        try {
            reader.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        scheduler.shutdownNow();
        producer.close(Duration.ofSeconds(5));
    }
}
