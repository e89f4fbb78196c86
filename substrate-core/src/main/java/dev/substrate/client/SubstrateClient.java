package dev.substrate.client;

import dev.substrate.config.EventSettings;
import dev.substrate.config.InvalidConfiguration;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.config.TopicSettings;
import dev.substrate.entity.EntityKind;
import dev.substrate.event.EventIds;
import dev.substrate.event.EventValidator;
import dev.substrate.event.InvalidEvent;
import dev.substrate.event.Wire;
import dev.substrate.event.WireCodec;
import dev.substrate.events.artifact.ArtifactDeleted;
import dev.substrate.events.artifact.ArtifactEvent;
import dev.substrate.events.artifact.ArtifactRegistered;
import dev.substrate.events.artifact.ArtifactRevised;
import dev.substrate.events.common.Correlation;
import dev.substrate.events.room.BlockCompleted;
import dev.substrate.events.room.BlockStarted;
import dev.substrate.events.room.BlockUpdated;
import dev.substrate.events.room.ErrorRaised;
import dev.substrate.events.room.LogEmitted;
import dev.substrate.events.room.MemberGranted;
import dev.substrate.events.room.MemberRevoked;
import dev.substrate.events.room.MetadataUpdated;
import dev.substrate.events.room.RoomClosed;
import dev.substrate.events.room.RoomCreated;
import dev.substrate.events.room.RoomDeleted;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.events.room.StatusChanged;
import dev.substrate.events.room.TextDelta;
import dev.substrate.events.room.TurnEnded;
import dev.substrate.events.room.TurnStarted;
import dev.substrate.events.run.RunCancelled;
import dev.substrate.events.run.RunCreated;
import dev.substrate.events.run.RunEvent;
import dev.substrate.events.run.RunFailed;
import dev.substrate.events.run.RunLabelled;
import dev.substrate.events.run.RunResumed;
import dev.substrate.events.run.RunStarted;
import dev.substrate.events.run.RunSucceeded;
import dev.substrate.events.run.RunTimedOut;
import dev.substrate.events.run.RunWaiting;
import dev.substrate.schemas.TrustedEventClasses;
import dev.substrate.topic.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The Java API services append run, room and artifact events with.
 *
 * <p>Every append is validated on the caller's thread (a bad call throws {@link InvalidEvent} naming the field,
 * and writes nothing), encoded ({@link WireCodec}), and handed to Kafka without the caller's thread ever waiting on
 * the broker: by the caller's thread itself when the producer knows the topic and has room (the common case), else by
 * the client's own sender thread. The returned future completes with the event's {@link Position}
 * once Kafka acknowledged it with {@code acks=all} through an idempotent producer, or fails with {@link
 * AppendFailed} or {@link ClientOverloaded}. Appends made from one thread reach the log in the order they were
 * made. The record key is the entity id, so each run, room and artifact is totally ordered.
 *
 * <p>Futures complete on the producer's network thread: dependent stages that do real work should use the
 * {@code *Async} variants.
 *
 * <pre>{@code
 * try (SubstrateClient client = SubstrateClient.builder()
 *         .kafkaProperty("bootstrap.servers", "localhost:9092")
 *         .build()) {
 *     Appended created = client.createRun(null, RunCreated.newBuilder()
 *             .setScope(RunScope.shared).setProject("project:acme/web")
 *             .setActivation(new Activation(ActivationSurface.operator, "alice"))
 *             .build()).join();
 *     client.startRun(created.entityId(), RunStarted.newBuilder().build());
 * }
 * }</pre>
 *
 * Thread-safe; share one client per process.
 */
public final class SubstrateClient implements AutoCloseable {

    static {
        TrustedEventClasses.register();
    }

    /** The record header naming the event type, such as {@code RunStarted}, for consumers that filter by type. */
    public static final String EVENT_TYPE_HEADER = "substrate.event-type";

    private final KafkaProducer<String, byte[]> producer;
    private final Topics topics;
    private final EventValidator validator;
    private final Clock clock;
    private final EventIds ids;
    private final ExecutorService sender;
    private final HandOff handOff;
    private final Semaphore pending;
    private final int maxPendingAppends;
    private final Wire wire;

    private SubstrateClient(Builder builder) {
        this.wire = builder.wire;
        this.clock = builder.clock;
        this.ids = new EventIds(builder.clock);
        this.validator = new EventValidator(builder.maxEventBytes, builder.clock);
        this.topics = new Topics(builder.topicPrefix, builder.maxEventBytes);
        this.maxPendingAppends = builder.maxPendingAppends;
        this.pending = new Semaphore(builder.maxPendingAppends);
        Map<String, Object> producerConfig = producerConfig(builder.kafkaProperties, builder.maxEventBytes);
        this.producer = new KafkaProducer<>(producerConfig, new StringSerializer(), new ByteArraySerializer());
        this.handOff = HandOff.of(producerConfig);
        this.sender = Executors.newSingleThreadExecutor(runnable -> {
            Thread thread = new Thread(runnable, "substrate-client-sender");
            thread.setDaemon(true);
            return thread;
        });
    }

    /** Starts configuring a client. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * A client configured like the Substrate process: its producer settings (Streams-only keys such as {@code
     * application.id} are left out), topic prefix, event size limit and wire format (in the {@code confluent}
     * format, this registers the subjects first).
     *
     * @throws dev.substrate.registry.SchemaRegistryFailed if the configured registry cannot be reached or refuses
     *     a schema
     */
    public static SubstrateClient create(SubstrateConfig config) {
        return create(config, Wire.start(config));
    }

    /**
     * A client configured like the Substrate process, writing with {@code wire}: the one its process started (and
     * passes to its fold as well), so that the subjects are registered once per process.
     */
    public static SubstrateClient create(SubstrateConfig config, Wire wire) {
        return builder()
                .kafkaProperties(config.kafkaProperties(ProducerConfig.configNames()))
                .topicPrefix(config.get(TopicSettings.PREFIX))
                .maxEventBytes(config.get(EventSettings.MAX_EVENT_BYTES))
                .wire(wire)
                .build();
    }

    private static Map<String, Object> producerConfig(Map<String, Object> user, int maxEventBytes) {
        Map<String, Object> config = new HashMap<>(user);
        Object acks = config.getOrDefault(ProducerConfig.ACKS_CONFIG, "all");
        if (!"all".equals(String.valueOf(acks)) && !"-1".equals(String.valueOf(acks))) {
            throw new InvalidConfiguration(
                    ProducerConfig.ACKS_CONFIG, "Substrate appends need acks=all, not acks=" + acks, null);
        }
        if ("false".equalsIgnoreCase(String.valueOf(config.get(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG)))) {
            throw new InvalidConfiguration(
                    ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "Substrate appends need an idempotent producer", null);
        }
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        config.putIfAbsent(ProducerConfig.CLIENT_ID_CONFIG, "substrate-client");
        // Kafka 4 producers wait up to 5 ms to fill a batch. Observers of a room feel that on every event, and
        // under load batches fill anyway while requests are in flight: send at once unless told otherwise.
        config.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, 0);
        int recordLimit = Topics.recordLimit(maxEventBytes);
        Object maxRequest = config.get(ProducerConfig.MAX_REQUEST_SIZE_CONFIG);
        if (maxRequest == null || Integer.parseInt(String.valueOf(maxRequest)) < recordLimit) {
            config.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, recordLimit);
        }
        return config;
    }

    // ---- runs -------------------------------------------------------------------------------------------------

    /** Creates a run, queued; a null {@code runId} gets a new time-ordered id, returned in {@link Appended}. */
    public CompletableFuture<Appended> createRun(String runId, RunCreated event) {
        return createRun(runId, event, AppendOptions.none());
    }

    /** As {@link #createRun(String, RunCreated)}, with options. */
    public CompletableFuture<Appended> createRun(String runId, RunCreated event, AppendOptions options) {
        return append(EntityKind.RUN, runId == null ? newEntityId(EntityKind.RUN) : runId, event, options);
    }

    /** Marks a queued run running. */
    public CompletableFuture<Appended> startRun(String runId, RunStarted event) {
        return startRun(runId, event, AppendOptions.none());
    }

    /** As {@link #startRun(String, RunStarted)}, with options. */
    public CompletableFuture<Appended> startRun(String runId, RunStarted event, AppendOptions options) {
        return append(EntityKind.RUN, runId, event, options);
    }

    /** Marks a running run waiting, saying on what. */
    public CompletableFuture<Appended> waitRun(String runId, RunWaiting event) {
        return waitRun(runId, event, AppendOptions.none());
    }

    /** As {@link #waitRun(String, RunWaiting)}, with options. */
    public CompletableFuture<Appended> waitRun(String runId, RunWaiting event, AppendOptions options) {
        return append(EntityKind.RUN, runId, event, options);
    }

    /** Marks a waiting run running again. */
    public CompletableFuture<Appended> resumeRun(String runId, RunResumed event) {
        return resumeRun(runId, event, AppendOptions.none());
    }

    /** As {@link #resumeRun(String, RunResumed)}, with options. */
    public CompletableFuture<Appended> resumeRun(String runId, RunResumed event, AppendOptions options) {
        return append(EntityKind.RUN, runId, event, options);
    }

    /** Finishes a run successfully. */
    public CompletableFuture<Appended> succeedRun(String runId, RunSucceeded event) {
        return succeedRun(runId, event, AppendOptions.none());
    }

    /** As {@link #succeedRun(String, RunSucceeded)}, with options. */
    public CompletableFuture<Appended> succeedRun(String runId, RunSucceeded event, AppendOptions options) {
        return append(EntityKind.RUN, runId, event, options);
    }

    /** Finishes a run with a failure. */
    public CompletableFuture<Appended> failRun(String runId, RunFailed event) {
        return failRun(runId, event, AppendOptions.none());
    }

    /** As {@link #failRun(String, RunFailed)}, with options. */
    public CompletableFuture<Appended> failRun(String runId, RunFailed event, AppendOptions options) {
        return append(EntityKind.RUN, runId, event, options);
    }

    /** Cancels a run that has not finished. */
    public CompletableFuture<Appended> cancelRun(String runId, RunCancelled event) {
        return cancelRun(runId, event, AppendOptions.none());
    }

    /** As {@link #cancelRun(String, RunCancelled)}, with options. */
    public CompletableFuture<Appended> cancelRun(String runId, RunCancelled event, AppendOptions options) {
        return append(EntityKind.RUN, runId, event, options);
    }

    /** Finishes a run that ran out of time. */
    public CompletableFuture<Appended> timeOutRun(String runId, RunTimedOut event) {
        return timeOutRun(runId, event, AppendOptions.none());
    }

    /** As {@link #timeOutRun(String, RunTimedOut)}, with options. */
    public CompletableFuture<Appended> timeOutRun(String runId, RunTimedOut event, AppendOptions options) {
        return append(EntityKind.RUN, runId, event, options);
    }

    /** Sets and removes labels of a run. */
    public CompletableFuture<Appended> labelRun(String runId, RunLabelled event) {
        return labelRun(runId, event, AppendOptions.none());
    }

    /** As {@link #labelRun(String, RunLabelled)}, with options. */
    public CompletableFuture<Appended> labelRun(String runId, RunLabelled event, AppendOptions options) {
        return append(EntityKind.RUN, runId, event, options);
    }

    // ---- rooms ------------------------------------------------------------------------------------------------

    /** Creates a room, open; a null {@code roomId} gets a new time-ordered id, returned in {@link Appended}. */
    public CompletableFuture<Appended> createRoom(String roomId, RoomCreated event) {
        return createRoom(roomId, event, AppendOptions.none());
    }

    /** As {@link #createRoom(String, RoomCreated)}, with options. */
    public CompletableFuture<Appended> createRoom(String roomId, RoomCreated event, AppendOptions options) {
        return append(EntityKind.ROOM, roomId == null ? newEntityId(EntityKind.ROOM) : roomId, event, options);
    }

    /** Gives a principal a role in a room. */
    public CompletableFuture<Appended> grant(String roomId, MemberGranted event) {
        return grant(roomId, event, AppendOptions.none());
    }

    /** As {@link #grant(String, MemberGranted)}, with options. */
    public CompletableFuture<Appended> grant(String roomId, MemberGranted event, AppendOptions options) {
        return append(EntityKind.ROOM, roomId, event, options);
    }

    /** Removes a principal from a room. */
    public CompletableFuture<Appended> revoke(String roomId, MemberRevoked event) {
        return revoke(roomId, event, AppendOptions.none());
    }

    /** As {@link #revoke(String, MemberRevoked)}, with options. */
    public CompletableFuture<Appended> revoke(String roomId, MemberRevoked event, AppendOptions options) {
        return append(EntityKind.ROOM, roomId, event, options);
    }

    /** Closes a room to further appends. */
    public CompletableFuture<Appended> closeRoom(String roomId, RoomClosed event) {
        return closeRoom(roomId, event, AppendOptions.none());
    }

    /** As {@link #closeRoom(String, RoomClosed)}, with options. */
    public CompletableFuture<Appended> closeRoom(String roomId, RoomClosed event, AppendOptions options) {
        return append(EntityKind.ROOM, roomId, event, options);
    }

    /** Deletes a room's state. */
    public CompletableFuture<Appended> deleteRoom(String roomId, RoomDeleted event) {
        return deleteRoom(roomId, event, AppendOptions.none());
    }

    /** As {@link #deleteRoom(String, RoomDeleted)}, with options. */
    public CompletableFuture<Appended> deleteRoom(String roomId, RoomDeleted event, AppendOptions options) {
        return append(EntityKind.ROOM, roomId, event, options);
    }

    /** Starts a turn in a room's stream. */
    public CompletableFuture<Appended> startTurn(String roomId, TurnStarted event) {
        return startTurn(roomId, event, AppendOptions.none());
    }

    /** As {@link #startTurn(String, TurnStarted)}, with options. */
    public CompletableFuture<Appended> startTurn(String roomId, TurnStarted event, AppendOptions options) {
        return append(EntityKind.ROOM, roomId, event, options);
    }

    /** Ends a turn. */
    public CompletableFuture<Appended> endTurn(String roomId, TurnEnded event) {
        return endTurn(roomId, event, AppendOptions.none());
    }

    /** As {@link #endTurn(String, TurnEnded)}, with options. */
    public CompletableFuture<Appended> endTurn(String roomId, TurnEnded event, AppendOptions options) {
        return append(EntityKind.ROOM, roomId, event, options);
    }

    /** Starts a block of content. */
    public CompletableFuture<Appended> startBlock(String roomId, BlockStarted event) {
        return startBlock(roomId, event, AppendOptions.none());
    }

    /** As {@link #startBlock(String, BlockStarted)}, with options. */
    public CompletableFuture<Appended> startBlock(String roomId, BlockStarted event, AppendOptions options) {
        return append(EntityKind.ROOM, roomId, event, options);
    }

    /** Appends text to an open block. */
    public CompletableFuture<Appended> appendText(String roomId, TextDelta event) {
        return appendText(roomId, event, AppendOptions.none());
    }

    /** As {@link #appendText(String, TextDelta)}, with options. */
    public CompletableFuture<Appended> appendText(String roomId, TextDelta event, AppendOptions options) {
        return append(EntityKind.ROOM, roomId, event, options);
    }

    /** Updates an open block's attributes. */
    public CompletableFuture<Appended> updateBlock(String roomId, BlockUpdated event) {
        return updateBlock(roomId, event, AppendOptions.none());
    }

    /** As {@link #updateBlock(String, BlockUpdated)}, with options. */
    public CompletableFuture<Appended> updateBlock(String roomId, BlockUpdated event, AppendOptions options) {
        return append(EntityKind.ROOM, roomId, event, options);
    }

    /** Completes a block. */
    public CompletableFuture<Appended> completeBlock(String roomId, BlockCompleted event) {
        return completeBlock(roomId, event, AppendOptions.none());
    }

    /** As {@link #completeBlock(String, BlockCompleted)}, with options. */
    public CompletableFuture<Appended> completeBlock(String roomId, BlockCompleted event, AppendOptions options) {
        return append(EntityKind.ROOM, roomId, event, options);
    }

    /** Updates the room's own attributes. */
    public CompletableFuture<Appended> updateMetadata(String roomId, MetadataUpdated event) {
        return updateMetadata(roomId, event, AppendOptions.none());
    }

    /** As {@link #updateMetadata(String, MetadataUpdated)}, with options. */
    public CompletableFuture<Appended> updateMetadata(String roomId, MetadataUpdated event, AppendOptions options) {
        return append(EntityKind.ROOM, roomId, event, options);
    }

    /** Records a change of the room's execution environment. */
    public CompletableFuture<Appended> changeStatus(String roomId, StatusChanged event) {
        return changeStatus(roomId, event, AppendOptions.none());
    }

    /** As {@link #changeStatus(String, StatusChanged)}, with options. */
    public CompletableFuture<Appended> changeStatus(String roomId, StatusChanged event, AppendOptions options) {
        return append(EntityKind.ROOM, roomId, event, options);
    }

    /** Records a log line of the execution environment. */
    public CompletableFuture<Appended> emitLog(String roomId, LogEmitted event) {
        return emitLog(roomId, event, AppendOptions.none());
    }

    /** As {@link #emitLog(String, LogEmitted)}, with options. */
    public CompletableFuture<Appended> emitLog(String roomId, LogEmitted event, AppendOptions options) {
        return append(EntityKind.ROOM, roomId, event, options);
    }

    /** Records an error of the execution environment. */
    public CompletableFuture<Appended> raiseError(String roomId, ErrorRaised event) {
        return raiseError(roomId, event, AppendOptions.none());
    }

    /** As {@link #raiseError(String, ErrorRaised)}, with options. */
    public CompletableFuture<Appended> raiseError(String roomId, ErrorRaised event, AppendOptions options) {
        return append(EntityKind.ROOM, roomId, event, options);
    }

    // ---- artifacts --------------------------------------------------------------------------------------------

    /** Registers an artifact; a null {@code artifactId} gets a new time-ordered id, returned in {@link Appended}. */
    public CompletableFuture<Appended> registerArtifact(String artifactId, ArtifactRegistered event) {
        return registerArtifact(artifactId, event, AppendOptions.none());
    }

    /** As {@link #registerArtifact(String, ArtifactRegistered)}, with options. */
    public CompletableFuture<Appended> registerArtifact(
            String artifactId, ArtifactRegistered event, AppendOptions options) {
        return append(
                EntityKind.ARTIFACT,
                artifactId == null ? newEntityId(EntityKind.ARTIFACT) : artifactId,
                event,
                options);
    }

    /** Records a new revision of an artifact. */
    public CompletableFuture<Appended> reviseArtifact(String artifactId, ArtifactRevised event) {
        return reviseArtifact(artifactId, event, AppendOptions.none());
    }

    /** As {@link #reviseArtifact(String, ArtifactRevised)}, with options. */
    public CompletableFuture<Appended> reviseArtifact(String artifactId, ArtifactRevised event, AppendOptions options) {
        return append(EntityKind.ARTIFACT, artifactId, event, options);
    }

    /** Deletes an artifact. */
    public CompletableFuture<Appended> deleteArtifact(String artifactId, ArtifactDeleted event) {
        return deleteArtifact(artifactId, event, AppendOptions.none());
    }

    /** As {@link #deleteArtifact(String, ArtifactDeleted)}, with options. */
    public CompletableFuture<Appended> deleteArtifact(String artifactId, ArtifactDeleted event, AppendOptions options) {
        return append(EntityKind.ARTIFACT, artifactId, event, options);
    }

    // ---- whole envelopes --------------------------------------------------------------------------------------

    /** The producer's metrics (Kafka's own), for monitoring such as {@code GET /metrics}. */
    public Map<MetricName, ? extends Metric> metrics() {
        return producer.metrics();
    }

    /**
     * Appends a complete run event as given, keeping its event id and timestamp (as when importing a history).
     */
    public CompletableFuture<Appended> append(RunEvent event) {
        return append(EntityKind.RUN, event);
    }

    /** Appends a complete room event as given, keeping its event id and timestamp. */
    public CompletableFuture<Appended> append(RoomEvent event) {
        return append(EntityKind.ROOM, event);
    }

    /** Appends a complete artifact event as given, keeping its event id and timestamp. */
    public CompletableFuture<Appended> append(ArtifactEvent event) {
        return append(EntityKind.ARTIFACT, event);
    }

    /** Appends a complete event of {@code kind} as given, keeping its event id and timestamp. */
    public <E extends SpecificRecord> CompletableFuture<Appended> append(EntityKind<E, ?> kind, E event) {
        kind.validate(validator, event, clock.instant());
        return send(
                kind.log(topics).name(),
                kind.entityId(event),
                kind.eventId(event),
                kind.payload(event),
                wire.encode(kind.log(topics).name(), kind.eventCodec(), event));
    }

    private <E extends SpecificRecord> CompletableFuture<Appended> append(
            EntityKind<E, ?> kind, String entityId, Object payload, AppendOptions options) {
        EventValidator.id(kind.idField(), entityId);
        return append(
                kind,
                kind.event(
                        eventId(options),
                        entityId,
                        occurredAt(options),
                        options.actor(),
                        correlation(options),
                        options.expectedVersion(),
                        required(payload)));
    }

    private static Object required(Object payload) {
        if (payload == null) {
            throw new InvalidEvent("payload", "is required");
        }
        return payload;
    }

    private String eventId(AppendOptions options) {
        if (options.eventId() == null) {
            return ids.nextId();
        }
        EventValidator.id("eventId", options.eventId());
        return options.eventId();
    }

    private Instant occurredAt(AppendOptions options) {
        Instant at = options.occurredAt() == null ? clock.instant() : options.occurredAt();
        return at.truncatedTo(ChronoUnit.MILLIS);
    }

    private static Correlation correlation(AppendOptions options) {
        return new Correlation(options.correlationId(), options.causationId(), options.traceparent());
    }

    private String newEntityId(EntityKind<?, ?> kind) {
        return kind.name() + "-" + ids.nextId();
    }

    private CompletableFuture<Appended> send(String topic, String key, String eventId, Object payload, byte[] value) {
        validator.checkSize(value.length);
        if (!pending.tryAcquire()) {
            return CompletableFuture.failedFuture(new ClientOverloaded(maxPendingAppends));
        }
        RecordHeaders headers = new RecordHeaders();
        headers.add(EVENT_TYPE_HEADER, payload.getClass().getSimpleName().getBytes(StandardCharsets.UTF_8));
        ProducerRecord<String, byte[]> record = new ProducerRecord<>(topic, null, key, value, headers);
        CompletableFuture<Appended> result = new CompletableFuture<>();
        long bytes = value.length + key.length() * 3L + RECORD_OVERHEAD_BYTES;
        if (sender.isShutdown()) {
            pending.release();
            throw new ClientClosed(new RejectedExecutionException("the client is closed"));
        }
        if (handOff.sendsHere(topic, bytes)) {
            // Nothing of this client waits at the sender thread (no earlier append of this thread is overtaken), the
            // producer knows the topic and has room: sent on the caller's thread, which this cannot block.
            sendNow(record, eventId, bytes, result);
            return result;
        }
        try {
            sender.execute(() -> {
                try {
                    sendNow(record, eventId, bytes, result);
                } finally {
                    handOff.sent();
                }
            });
        } catch (RejectedExecutionException e) {
            handOff.sent();
            pending.release();
            throw new ClientClosed(e);
        }
        return result;
    }

    /** Hands {@code record} to the producer; {@code result} completes when Kafka acknowledged it, or failed. */
    private void sendNow(
            ProducerRecord<String, byte[]> record, String eventId, long bytes, CompletableFuture<Appended> result) {
        String topic = record.topic();
        handOff.buffered(bytes);
        try {
            producer.send(record, (metadata, error) -> {
                handOff.acknowledged(bytes);
                pending.release();
                if (error != null) {
                    result.completeExceptionally(new AppendFailed(
                            "Kafka did not acknowledge event " + eventId + " on " + topic + ": " + error, error));
                } else {
                    handOff.acknowledgedOn(topic);
                    result.complete(new Appended(
                            record.key(), eventId, new Position(topic, metadata.partition(), metadata.offset())));
                }
            });
        } catch (RuntimeException e) {
            handOff.acknowledged(bytes);
            pending.release();
            result.completeExceptionally(new AppendFailed("Cannot send event " + eventId + " to " + topic, e));
        }
    }

    /** Waits until every append made so far is acknowledged or failed. */
    public void flush() {
        CompletableFuture<Void> handedOver = CompletableFuture.runAsync(() -> {}, sender);
        handedOver.join();
        producer.flush();
    }

    /** Sends what is pending, waits up to 30 seconds for acknowledgements, and releases the connections. */
    @Override
    public void close() {
        sender.shutdown();
        try {
            if (!sender.awaitTermination(30, TimeUnit.SECONDS)) {
                sender.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            sender.shutdownNow();
        }
        producer.close(Duration.ofSeconds(30));
    }

    /** Configures a {@link SubstrateClient}. */
    public static final class Builder {
        private final Map<String, Object> kafkaProperties = new HashMap<>();
        private String topicPrefix = "substrate.";
        private int maxEventBytes = EventValidator.DEFAULT_MAX_EVENT_BYTES;
        private int maxPendingAppends = 100_000;
        private Clock clock = Clock.systemUTC();
        private Wire wire = Wire.singleObject();

        private Builder() {}

        /**
         * Kafka producer settings, passed through unchanged ({@code bootstrap.servers}, security, batching...).
         * {@code acks} is always {@code all} and idempotence always on: setting them otherwise is refused.
         */
        public Builder kafkaProperties(Map<String, ?> properties) {
            kafkaProperties.putAll(properties);
            return this;
        }

        /** One Kafka producer setting, passed through unchanged. */
        public Builder kafkaProperty(String key, Object value) {
            kafkaProperties.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
            return this;
        }

        /** The prefix of the topic names; {@code substrate.} by default. */
        public Builder topicPrefix(String topicPrefix) {
            this.topicPrefix = Objects.requireNonNull(topicPrefix, "topicPrefix");
            return this;
        }

        /** The largest encoded event accepted; 1 MiB by default. */
        public Builder maxEventBytes(int maxEventBytes) {
            this.maxEventBytes = maxEventBytes;
            return this;
        }

        /** How many appends may wait for Kafka at once before more are refused; 100,000 by default. */
        public Builder maxPendingAppends(int maxPendingAppends) {
            if (maxPendingAppends < 1) {
                throw new IllegalArgumentException("maxPendingAppends must be positive");
            }
            this.maxPendingAppends = maxPendingAppends;
            return this;
        }

        /** The clock that stamps events without an explicit time; the system clock by default. */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * How events are written: {@link Wire#singleObject()} by default; {@link Wire#start} for the Confluent
         * format (its topics must be this client's).
         */
        public Builder wire(Wire wire) {
            this.wire = Objects.requireNonNull(wire, "wire");
            return this;
        }

        /** Creates the client and its producer. */
        public SubstrateClient build() {
            if (!kafkaProperties.containsKey(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG)) {
                throw new InvalidConfiguration(
                        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "the client needs bootstrap.servers", null);
            }
            return new SubstrateClient(this);
        }
    }

    /** What a record takes in the producer's buffer beyond its key and value, at most: headers and batch framing. */
    private static final long RECORD_OVERHEAD_BYTES = 128;

    /**
     * Where an append is handed to the producer. The sender thread exists so that a caller never waits on the broker:
     * {@code KafkaProducer.send} blocks while it has no metadata for the topic or no room in its buffer. When neither
     * can happen and nothing waits at the sender, the caller's thread sends itself, saving a hop between threads (a
     * wake-up of the sender, then of the producer's own thread) on every append. Thread-safe.
     */
    private static final class HandOff {
        /** Appends handed to the sender thread and not yet handed by it to the producer. */
        private final AtomicInteger queued = new AtomicInteger();
        /** Bytes handed to the producer and not yet acknowledged (or failed). */
        private final AtomicLong buffered = new AtomicLong();

        private final long bufferLimit;
        private final long knownForNanos;
        /** When an append to each topic was last acknowledged: the producer had its metadata then. */
        private final Map<String, Long> lastAcknowledged = new ConcurrentHashMap<>();

        private HandOff(long bufferLimit, long knownForNanos) {
            this.bufferLimit = bufferLimit;
            this.knownForNanos = knownForNanos;
        }

        /**
         * Half of the producer's buffer ({@code buffer.memory}) is left to the caller's thread, and a topic counts as
         * known for a minute after an acknowledgement (or half of {@code metadata.max.idle.ms}, after which the
         * producer forgets an idle topic's metadata, if that is shorter).
         */
        static HandOff of(Map<String, Object> producerConfig) {
            long idle = setting(producerConfig, ProducerConfig.METADATA_MAX_IDLE_CONFIG, 5 * 60_000L);
            return new HandOff(
                    setting(producerConfig, ProducerConfig.BUFFER_MEMORY_CONFIG, 32L * 1024 * 1024) / 2,
                    TimeUnit.MILLISECONDS.toNanos(Math.min(60_000, idle / 2)));
        }

        /** A producer setting given as a number or its text, else Kafka's default. */
        private static long setting(Map<String, Object> config, String key, long kafkaDefault) {
            Object value = config.get(key);
            return value == null
                    ? kafkaDefault
                    : Long.parseLong(String.valueOf(value).trim());
        }

        /** Whether the caller's thread sends an append of {@code bytes} to {@code topic}; if not, it is queued. */
        boolean sendsHere(String topic, long bytes) {
            if (queued.get() == 0 && recentlyAcknowledged(topic) && buffered.get() + bytes <= bufferLimit) {
                return true;
            }
            queued.incrementAndGet();
            return false;
        }

        /** The sender thread handed a queued append to the producer (or failed to). */
        void sent() {
            queued.decrementAndGet();
        }

        void buffered(long bytes) {
            buffered.addAndGet(bytes);
        }

        void acknowledged(long bytes) {
            buffered.addAndGet(-bytes);
        }

        void acknowledgedOn(String topic) {
            lastAcknowledged.put(topic, System.nanoTime());
        }

        private boolean recentlyAcknowledged(String topic) {
            Long at = lastAcknowledged.get(topic);
            return at != null && System.nanoTime() - at < knownForNanos;
        }
    }
}
