package dev.substrate.streams;

import dev.substrate.config.EventSettings;
import dev.substrate.config.InvalidConfiguration;
import dev.substrate.config.KafkaSettings;
import dev.substrate.config.QuerySettings;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.config.TopicSettings;
import dev.substrate.event.Wire;
import dev.substrate.retention.RetentionPolicies;
import dev.substrate.retention.RetentionPolicyFollower;
import dev.substrate.streams.internal.DecisionSignal;
import dev.substrate.streams.internal.FoldReadErrors;
import dev.substrate.streams.internal.FoldTopology;
import dev.substrate.streams.internal.FoldWriteErrors;
import dev.substrate.streams.internal.RoomMemberships;
import dev.substrate.streams.internal.StoreNames;
import dev.substrate.streams.internal.UnfinishedStores;
import dev.substrate.topic.TopicSetup;
import dev.substrate.topic.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.LogAndContinueProcessingExceptionHandler;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fold: one Kafka Streams application that turns the run, room and artifact logs into validated,
 * queryable state, exactly once. It is the only place state is decided.
 *
 * <p>Unreadable records (garbage bytes, an unknown schema) go to {@code substrate.dead-letters} through Kafka
 * Streams' own deserialization handler and dead-letter-queue support, with the error in the record headers;
 * events the rules refuse go to {@code substrate.rejections} with a reason code; processing goes on after both.
 */
public final class SubstrateFold implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(SubstrateFold.class);

    private final KafkaStreams streams;
    private final Properties properties;
    private final FoldSettings settings;
    private final int scanBudget;
    /** The memberships of the rooms this instance holds, kept by the room fold for the append door. */
    private final RoomMemberships memberships;
    /** Told of every event the fold decides here, for reads waiting for a position. */
    private final DecisionSignal decisions;

    private final FoldHealth health;
    /** The tokens this instance folded since it started, for {@code /metrics}. */
    private final UsageMeter usage;
    /** The retention policies this fold applies; null for a rebuild, which applies none. */
    private final RetentionPolicyFollower retention;

    /** The property of the fold's Kafka Streams configuration that carries how often retention is checked. */
    public static final String RETENTION_CHECK_INTERVAL = "substrate.retention.check.interval";

    /** The fold's record cache, unless {@code statestore.cache.max.bytes} is set: 64 MiB. */
    public static final long CACHE_MAX_BYTES = 64L * 1024 * 1024;

    /** How long the fold's producers hold a batch, unless {@code linger.ms} is set: 5 ms, not Kafka Streams' 100. */
    public static final int FOLD_LINGER_MS = 5;

    private SubstrateFold(
            KafkaStreams streams,
            Properties properties,
            FoldSettings settings,
            FoldHealth health,
            UsageMeter usage,
            RetentionPolicyFollower retention,
            int scanBudget,
            RoomMemberships memberships,
            DecisionSignal decisions) {
        this.usage = usage;
        this.retention = retention;
        this.scanBudget = scanBudget;
        this.memberships = memberships;
        this.decisions = decisions;
        this.streams = streams;
        this.properties = properties;
        this.settings = settings;
        this.health = health;
    }

    /** The fold's topology: a pure function of its settings. */
    public static Topology buildTopology(FoldSettings settings) {
        return FoldTopology.build(settings, new RoomMemberships(), new DecisionSignal());
    }

    /**
     * The Kafka Streams configuration: every Kafka setting of {@code config} passed through unchanged, with
     * Substrate's defaults where it sets none: the {@linkplain SubstrateConfig#applicationId() application id}, a
     * record cache of {@value #CACHE_MAX_BYTES} bytes, {@code exactly_once_v2}, no task idling (each task reads one
     * partition), a {@value #FOLD_LINGER_MS} ms linger for its producers, a 100 ms fetch wait for the restore
     * consumer, state under {@code <data.dir>/streams}, and the
     * dead-letter handlers.
     */
    public static Properties streamsProperties(SubstrateConfig config) {
        Map<String, Object> props = new HashMap<>(config.kafkaProperties());
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, config.get(KafkaSettings.APPLICATION_ID));
        props.putIfAbsent(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        // The record cache holds each entity's latest state (and its history entries) until the commit writes it
        // once; at Kafka's 10 MiB, streaming rooms (whose state carries their open blocks' text) evict entities
        // before their commit and each eviction writes them again. 64 MiB measured: 1.99 records per event
        // against 3.1, the fold 0.37x the raw count against 0.25x; 128 MiB gave no more (docs/benchmarks.md).
        props.putIfAbsent(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, CACHE_MAX_BYTES);
        // Each of the fold's tasks reads one partition of one log, so there is nothing to align across partitions
        // and idling can only delay; with it disabled, Kafka Streams also skips the check (and its formatted log
        // text) it makes for every task with an empty buffer at every loop: 6-10% of the stream thread's samples.
        props.putIfAbsent(StreamsConfig.MAX_TASK_IDLE_MS_CONFIG, StreamsConfig.MAX_TASK_IDLE_MS_DISABLED);
        // A task is RUNNING once its changelogs are read to their end; the restore consumer learns that from a fetch
        // that waits up to fetch.max.wait.ms (500 ms) for data that never comes when a changelog is read (or empty),
        // and tasks finish restoring in rounds of that wait. 100 ms: a fresh start of the fold's 18 tasks ~1 s sooner.
        props.putIfAbsent(StreamsConfig.restoreConsumerPrefix(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG), 100);
        // Kafka Streams' producers linger 100 ms unless told otherwise; under exactly-once the commit (every 100
        // ms) then finds the whole interval's changelog records still unsent, and the stream thread waits while
        // they go. At 5 ms (Kafka's own producer default) they leave as the fold writes them and the commit waits
        // for the last few: the fold 17,569 events/s against 15,658 at 100 ms, full bench runs (docs/benchmarks.md).
        if (!props.containsKey(ProducerConfig.LINGER_MS_CONFIG)) {
            props.putIfAbsent(StreamsConfig.producerPrefix(ProducerConfig.LINGER_MS_CONFIG), FOLD_LINGER_MS);
        }
        props.putIfAbsent(
                StreamsConfig.STATE_DIR_CONFIG,
                config.get(KafkaSettings.DATA_DIR)
                        .resolve("streams")
                        .toAbsolutePath()
                        .toString());
        props.putIfAbsent(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, FoldReadErrors.class);
        props.putIfAbsent(
                StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG,
                LogAndContinueProcessingExceptionHandler.class);
        // The fold has no global stores; enabling the handler for them is the forward-compatible choice.
        props.putIfAbsent("processing.exception.handler.global.enabled", true);
        props.putIfAbsent(
                StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG,
                FoldSettings.from(config).topics().deadLetters().name());
        // Every record the fold writes fits its producer's requests and its topics, changelogs included: the same
        // limit as the topics Substrate creates (FoldLimits keeps each record below it).
        int recordLimit = Topics.recordLimit(config.get(EventSettings.MAX_EVENT_BYTES));
        String maxRequest = StreamsConfig.producerPrefix(ProducerConfig.MAX_REQUEST_SIZE_CONFIG);
        Object explicit = props.getOrDefault(maxRequest, props.get(ProducerConfig.MAX_REQUEST_SIZE_CONFIG));
        if (explicit != null && Long.parseLong(explicit.toString().strip()) < recordLimit) {
            throw new InvalidConfiguration(
                    ProducerConfig.MAX_REQUEST_SIZE_CONFIG,
                    "max.request.size is " + explicit + " but the fold writes records of up to " + recordLimit
                            + " bytes (max.event.bytes + 64 KiB); raise it or lower max.event.bytes",
                    null);
        }
        props.putIfAbsent(maxRequest, recordLimit);
        props.putIfAbsent(
                StreamsConfig.topicPrefix(TopicConfig.MAX_MESSAGE_BYTES_CONFIG), Integer.toString(recordLimit));
        // A deleted entity's tombstone removes its earlier values from the changelogs within erasure.bound.ms, as on
        // the compacted topics Substrate creates (Kafka Streams applies these to the changelogs it creates).
        Topics.compactionWithin(config.get(TopicSettings.ERASURE_BOUND))
                .forEach((key, value) -> props.putIfAbsent(StreamsConfig.topicPrefix(key), value));
        props.putIfAbsent(StreamsConfig.PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG, FoldWriteErrors.class);
        // Changelog records carry the position they were written at, so that a store restored on another
        // instance still answers read-your-writes position bounds (Kafka Streams' own switch for this).
        props.putIfAbsent(FoldTopology.CONSISTENCY_OFFSET_VECTOR, true);
        Properties properties = new Properties();
        properties.putAll(props);
        return properties;
    }

    /** Builds and starts the fold; it runs until {@link #close()}. */
    public static SubstrateFold start(SubstrateConfig config) {
        return start(config, FoldSettings.from(config));
    }

    /**
     * Builds and starts the fold as one instance of a scaled-out application: {@code self} is where the other
     * instances reach this one's HTTP API (Kafka Streams' {@code application.server}).
     */
    public static SubstrateFold start(SubstrateConfig config, Instance self) {
        FoldSettings settings = FoldSettings.from(config);
        return start(config, settings, Wire.start(config, settings.topics()), self);
    }

    /**
     * As {@link #start(SubstrateConfig, Instance)}, reading and writing with {@code wire}: the one its process
     * started for {@code config}'s topics (and gives its client as well).
     *
     * @param self where other instances reach this one's HTTP API, or null for a fold that no API serves
     */
    public static SubstrateFold start(SubstrateConfig config, Wire wire, Instance self) {
        return start(config, FoldSettings.from(config), wire, self);
    }

    /**
     * Builds and starts the fold with explicit settings (such as other output topics, for a rebuild). The settings'
     * wire and log partition counts are replaced by what {@code config} and the brokers say at start (in the
     * {@code confluent} format, the settings' topics are registered first).
     */
    public static SubstrateFold start(SubstrateConfig config, FoldSettings settings) {
        return start(config, settings, Wire.start(config, settings.topics()), null);
    }

    private static SubstrateFold start(SubstrateConfig config, FoldSettings settings, Wire wire, Instance self) {
        Properties properties = streamsProperties(config);
        Map<String, Integer> logPartitions = checkTopics(config, properties, settings.topics());
        settings = settings.withWire(wire).withLogPartitions(logPartitions);
        FoldHealth health = new FoldHealth();
        properties.put(FoldWriteErrors.ON_DEAD_LETTER, (Runnable) health::recordDeadLettered);
        UsageMeter usage = new UsageMeter();
        properties.put(UsageMeter.CONFIG, usage);
        // The fold of the logs applies the retention policies; a rebuild reads their deletions from the logs.
        RetentionPolicyFollower retention =
                settings.topics().rebuild() ? null : RetentionPolicyFollower.start(config, settings.topics());
        if (retention != null) {
            properties.put(RetentionPolicies.CONFIG, retention);
            properties.put(RETENTION_CHECK_INTERVAL, config.get(EventSettings.RETENTION_CHECK_INTERVAL));
        }
        if (self != null) {
            properties.put(StreamsConfig.APPLICATION_SERVER_CONFIG, self.toString());
        }
        properties.put(
                StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG,
                settings.topics().deadLetters().name());
        RoomMemberships memberships = new RoomMemberships();
        DecisionSignal decisions = new DecisionSignal();
        // Kafka Streams opens the stores it finds as it is constructed: one a kill left half created stops the start.
        UnfinishedStores.sweep(Path.of(properties.getProperty(StreamsConfig.STATE_DIR_CONFIG)));
        KafkaStreams streams = new KafkaStreams(FoldTopology.build(settings, memberships, decisions), properties);
        streams.setStateListener((newState, oldState) -> health.stateChanged(newState));
        streams.setUncaughtExceptionHandler(e -> {
            health.threadFailed(e);
            log.error(
                    "A stream thread of the fold failed; it is replaced, and /ready answers 503 until the fold has "
                            + "run {} s without a failure (failures so far: {})",
                    FoldHealth.RECOVERY.toSeconds(),
                    health.threadFailures(),
                    e);
            return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
        });
        streams.start();
        return new SubstrateFold(
                streams,
                properties,
                settings,
                health,
                usage,
                retention,
                config.get(QuerySettings.SCAN_BUDGET),
                memberships,
                decisions);
    }

    /**
     * Raises the record limit of changelogs that exist already with a limit below what the fold writes (Kafka
     * Streams creates missing ones with the limit set here, but never changes existing ones); refuses to start when
     * it may not. Returns the logs' partition counts, for the fold's check that each event is on its key's
     * partition.
     */
    private static Map<String, Integer> checkTopics(SubstrateConfig config, Properties properties, Topics topics) {
        String applicationId = properties.getProperty(StreamsConfig.APPLICATION_ID_CONFIG);
        List<String> changelogs = StoreNames.LOGGED.stream()
                .map(store -> applicationId + "-" + store + "-changelog")
                .toList();
        try (Admin admin =
                Admin.create(new HashMap<String, Object>(config.kafkaProperties(AdminClientConfig.configNames())))) {
            TopicSetup.raiseRecordLimit(
                    admin, changelogs, Topics.recordLimit(config.get(EventSettings.MAX_EVENT_BYTES)));
            return TopicSetup.partitionCounts(
                    admin,
                    List.of(
                            topics.runEvents().name(),
                            topics.roomEvents().name(),
                            topics.artifactEvents().name()));
        }
    }

    /** Whether the fold is deciding events, and why not when it is not. */
    public FoldHealth health() {
        return health;
    }

    /** Reads of this fold's state, reporting its health. */
    public StateQueries queries() {
        return new StateQueries(streams, settings.topics(), health, usage, scanBudget, memberships, decisions);
    }

    /** The fold's Kafka Streams metrics, for {@code /metrics}. */
    public Map<MetricName, ? extends Metric> metrics() {
        return streams.metrics();
    }

    /** Where the fold is: starting, running or stopped. */
    public Phase phase() {
        return Phase.of(streams.state());
    }

    /** The running Kafka Streams instance, for interactive queries. */
    public KafkaStreams streams() {
        return streams;
    }

    /** The Kafka Streams application id. */
    public String applicationId() {
        return properties.getProperty(StreamsConfig.APPLICATION_ID_CONFIG);
    }

    /** Where the fold keeps its RocksDB stores. */
    public String stateDir() {
        return properties.getProperty(StreamsConfig.STATE_DIR_CONFIG);
    }

    /** Whether the fold is running (all its tasks assigned and restored). */
    public boolean isRunning() {
        return streams.state() == KafkaStreams.State.RUNNING;
    }

    /** Stops the fold, committing what it has processed. */
    @Override
    public void close() {
        // Leave the group on the way out: the others take over the partitions at once instead of after the
        // session timeout (45 s), and a restarted instance is not kept waiting behind its own old member.
        streams.close(CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
                .withTimeout(Duration.ofSeconds(30)));
        if (retention != null) {
            retention.close();
        }
    }
}
