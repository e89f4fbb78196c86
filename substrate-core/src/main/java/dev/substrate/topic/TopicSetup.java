package dev.substrate.topic;

import dev.substrate.SubstrateException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes the cluster ready for Substrate at start: creates missing topics with the right configuration, and
 * refuses, with a clear message, an existing topic whose cleanup policy is wrong or that would refuse records
 * Substrate accepts ({@code max.message.bytes} below {@code max.event.bytes} + 64 KiB). Safe to run from several
 * instances at once.
 */
public final class TopicSetup {

    private static final Logger log = LoggerFactory.getLogger(TopicSetup.class);

    private TopicSetup() {}

    /**
     * Creates each missing topic and checks each existing one.
     *
     * @param partitions partitions of each topic created, unless the topic names its own ({@link Topic#partitions})
     * @param replicationFactor replication factor of each topic created; -1 for the broker's default
     * @return the names of the topics this call created
     * @throws TopicMisconfigured if an existing topic has the wrong cleanup policy or too small a record limit
     */
    public static List<String> ensure(Admin admin, Topics topics, int partitions, short replicationFactor) {
        try {
            Set<String> existing = admin.listTopics().names().get();
            List<NewTopic> missing = new ArrayList<>();
            for (Topic topic : topics.all()) {
                if (!existing.contains(topic.name())) {
                    missing.add(new NewTopic(
                                    topic.name(),
                                    Optional.of(topic.partitions() > 0 ? topic.partitions() : partitions),
                                    replicationFactor < 0 ? Optional.empty() : Optional.of(replicationFactor))
                            .configs(topic.configs()));
                }
            }
            List<String> created = create(admin, missing);
            check(admin, topics.all(), topics.blobs());
            awaitLeaders(admin, created);
            return created;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SetupFailed("Interrupted while setting up topics", e);
        } catch (ExecutionException e) {
            throw new SetupFailed(
                    "Cannot set up Substrate's topics: " + e.getCause().getMessage(), e);
        }
    }

    /**
     * Waits, at most {@value #LEADER_WAIT_SECONDS} s, until the brokers know a leader for every partition of {@code
     * names} (topics just created). Producing to a topic before its leader is known makes an idempotent producer
     * retry its first batches; Kafka 4.3's has been seen to resend them from sequence 0 and be refused as out of
     * order until its delivery timeout.
     *
     * @throws SetupFailed if a partition has no leader by then
     */
    public static void awaitLeaders(Admin admin, Collection<String> names) throws InterruptedException {
        if (names.isEmpty()) {
            return;
        }
        long deadline =
                System.nanoTime() + Duration.ofSeconds(LEADER_WAIT_SECONDS).toNanos();
        while (true) {
            try {
                Map<String, org.apache.kafka.clients.admin.TopicDescription> descriptions =
                        admin.describeTopics(names).allTopicNames().get();
                boolean led = descriptions.values().stream()
                        .flatMap(description -> description.partitions().stream())
                        .allMatch(partition -> partition.leader() != null);
                if (led && leadersServe(admin, descriptions)) {
                    return;
                }
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
                    throw new SetupFailed(
                            "Cannot describe " + names + ": " + e.getCause().getMessage(), e);
                }
            }
            if (System.nanoTime() > deadline) {
                throw new SetupFailed(
                        "No leader for every partition of " + names + " after " + LEADER_WAIT_SECONDS + " s", null);
            }
            // A bounded pause between two metadata requests while topics just created get their leaders.
            Thread.sleep(100);
        }
    }

    private static final int LEADER_WAIT_SECONDS = 30;

    /**
     * Whether every partition's leader answers for it: the metadata can name a leader a moment before that broker
     * has taken the partition on, and a produce in that moment is answered NOT_LEADER_OR_FOLLOWER (after which
     * Kafka 4.3's idempotent producer has been seen to resend from sequence 0 until its delivery timeout). A
     * ListOffsets request is served by the leader alone.
     */
    private static boolean leadersServe(
            Admin admin, Map<String, org.apache.kafka.clients.admin.TopicDescription> descriptions)
            throws InterruptedException {
        Map<org.apache.kafka.common.TopicPartition, org.apache.kafka.clients.admin.OffsetSpec> latest =
                new java.util.HashMap<>();
        descriptions.forEach((name, description) -> description
                .partitions()
                .forEach(partition -> latest.put(
                        new org.apache.kafka.common.TopicPartition(name, partition.partition()),
                        org.apache.kafka.clients.admin.OffsetSpec.latest())));
        try {
            admin.listOffsets(latest).all().get();
            return true;
        } catch (ExecutionException e) {
            return false;
        }
    }

    private static List<String> create(Admin admin, List<NewTopic> missing)
            throws InterruptedException, ExecutionException {
        List<String> created = new ArrayList<>();
        for (Map.Entry<String, org.apache.kafka.common.KafkaFuture<Void>> result :
                admin.createTopics(missing).values().entrySet()) {
            try {
                result.getValue().get();
                created.add(result.getKey());
                log.info("Created topic {}", result.getKey());
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw e;
                }
                // Another instance created it first; it is checked below like any existing topic.
            }
        }
        return created;
    }

    /**
     * @param eitherPolicy a topic that may be compacted or not: {@code blobs}, whose keys are each written once, and
     *     which tiered storage (delete policy only) can take off the brokers' disks
     */
    private static void check(Admin admin, Collection<Topic> topics, Topic eitherPolicy)
            throws InterruptedException, ExecutionException {
        List<ConfigResource> resources = topics.stream()
                .map(topic -> new ConfigResource(ConfigResource.Type.TOPIC, topic.name()))
                .toList();
        Map<ConfigResource, Config> configs = describeConfigs(admin, resources);
        for (Topic topic : topics) {
            Config config = configs.get(new ConfigResource(ConfigResource.Type.TOPIC, topic.name()));
            Set<String> policies = Arrays.stream(
                            config.get("cleanup.policy").value().split(","))
                    .map(String::strip)
                    .collect(Collectors.toSet());
            boolean either = topic.equals(eitherPolicy)
                    && (policies.equals(Set.of(Topic.CleanupPolicy.DELETE.config()))
                            || policies.equals(Set.of(Topic.CleanupPolicy.COMPACT.config())));
            if (!either && !policies.equals(Set.of(topic.cleanupPolicy().config()))) {
                throw new TopicMisconfigured(
                        topic.name(),
                        "Topic " + topic.name() + " has cleanup.policy=" + String.join(",", policies)
                                + " but Substrate needs "
                                + topic.cleanupPolicy().config()
                                + (topic.cleanupPolicy() == Topic.CleanupPolicy.DELETE
                                        ? " (a compacted event log would erase history)"
                                        : " (a state topic keeps the latest record per id)")
                                + ". Fix it with: kafka-configs.sh --alter --entity-type topics --entity-name "
                                + topic.name() + " --add-config cleanup.policy="
                                + topic.cleanupPolicy().config());
            }
            String required = topic.configs().get(MAX_MESSAGE_BYTES);
            if (required != null) {
                checkRecordLimit(topic.name(), config, Integer.parseInt(required));
            }
            String retention = config.get("retention.ms").value();
            if ("-1".equals(topic.configs().get("retention.ms")) && !"-1".equals(retention)) {
                log.warn(
                        "Topic {} has retention.ms={}: events older than that will be deleted, and the history "
                                + "and state rebuilt from this log will lose them. Substrate creates its logs "
                                + "with retention.ms=-1.",
                        topic.name(),
                        retention);
            }
        }
    }

    /**
     * Makes each of the existing topics {@code names} accept records of {@code required} bytes: the topics Kafka
     * Streams created for the fold's stores (their changelogs), which the fold writes as much as Substrate's own
     * topics. Kafka Streams never changes a topic it finds, so one created by an older version (with the broker's
     * default limit) is raised here. Topics that do not exist yet are left to be created.
     *
     * @return the names of the topics whose limit was raised
     * @throws TopicMisconfigured naming the topic, its limit and the command that raises it, if raising it failed
     *     (the principal may not alter topic configs)
     */
    public static List<String> raiseRecordLimit(Admin admin, Collection<String> names, int required) {
        try {
            Set<String> existing = admin.listTopics().names().get();
            List<ConfigResource> resources = names.stream()
                    .filter(existing::contains)
                    .map(name -> new ConfigResource(ConfigResource.Type.TOPIC, name))
                    .toList();
            List<String> raised = new ArrayList<>();
            if (resources.isEmpty()) {
                return raised;
            }
            for (Map.Entry<ConfigResource, Config> entry :
                    describeConfigs(admin, resources).entrySet()) {
                String name = entry.getKey().name();
                try {
                    checkRecordLimit(name, entry.getValue(), required);
                } catch (TopicMisconfigured tooSmall) {
                    raise(admin, entry.getKey(), required, tooSmall);
                    raised.add(name);
                }
            }
            return raised;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SetupFailed("Interrupted while checking topics", e);
        } catch (ExecutionException e) {
            throw new SetupFailed(
                    "Cannot check the fold's topics: " + e.getCause().getMessage(), e);
        }
    }

    /**
     * The partition counts of those of {@code names} that exist (a topic not created yet is left out), as the
     * brokers tell them now.
     */
    public static Map<String, Integer> partitionCounts(Admin admin, Collection<String> names) {
        try {
            Set<String> existing = admin.listTopics().names().get();
            List<String> present = names.stream().filter(existing::contains).toList();
            Map<String, Integer> counts = new java.util.HashMap<>();
            if (!present.isEmpty()) {
                admin.describeTopics(present)
                        .allTopicNames()
                        .get()
                        .forEach((name, description) ->
                                counts.put(name, description.partitions().size()));
            }
            return counts;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SetupFailed("Interrupted while describing topics", e);
        } catch (ExecutionException e) {
            throw new SetupFailed("Cannot describe the logs: " + e.getCause().getMessage(), e);
        }
    }

    private static void raise(Admin admin, ConfigResource topic, int required, TopicMisconfigured tooSmall)
            throws InterruptedException {
        AlterConfigOp set = new AlterConfigOp(
                new org.apache.kafka.clients.admin.ConfigEntry(MAX_MESSAGE_BYTES, Integer.toString(required)),
                AlterConfigOp.OpType.SET);
        try {
            admin.incrementalAlterConfigs(Map.of(topic, List.of(set))).all().get();
            log.info(
                    "Raised max.message.bytes of {} to {}: the fold writes records that large", topic.name(), required);
        } catch (ExecutionException e) {
            TopicMisconfigured refused = new TopicMisconfigured(
                    topic.name(),
                    tooSmall.getMessage() + " (Substrate tried and was refused: "
                            + e.getCause().getMessage() + ")");
            refused.addSuppressed(e);
            throw refused;
        }
    }

    private static void checkRecordLimit(String name, Config config, int required) {
        org.apache.kafka.clients.admin.ConfigEntry entry = config.get(MAX_MESSAGE_BYTES);
        if (entry == null || entry.value() == null) {
            return;
        }
        long accepted = Long.parseLong(entry.value());
        if (accepted < required) {
            throw new TopicMisconfigured(
                    name,
                    "Topic " + name + " accepts records of at most " + accepted + " bytes (max.message.bytes"
                            + (entry.source()
                                            == org.apache.kafka.clients.admin.ConfigEntry.ConfigSource
                                                    .DYNAMIC_TOPIC_CONFIG
                                    ? ""
                                    : ", from the broker's message.max.bytes")
                            + ") but Substrate writes records of up to " + required
                            + " bytes there (max.event.bytes + 64 KiB). Raise the topic's limit with: "
                            + "kafka-configs.sh --alter --entity-type topics --entity-name " + name
                            + " --add-config max.message.bytes=" + required
                            + ", or lower max.event.bytes to at most " + (accepted - Topics.recordLimit(0)));
        }
    }

    private static final String MAX_MESSAGE_BYTES = "max.message.bytes";

    /**
     * The configs of the topics, retried briefly while a topic just created is not yet known to the broker that
     * answers (its metadata reaches the brokers a moment after creation).
     */
    private static Map<ConfigResource, Config> describeConfigs(Admin admin, List<ConfigResource> resources)
            throws InterruptedException, ExecutionException {
        long deadline = System.nanoTime() + METADATA_WAIT.toNanos();
        while (true) {
            try {
                return admin.describeConfigs(resources).all().get();
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof UnknownTopicOrPartitionException) || System.nanoTime() > deadline) {
                    throw e;
                }
                // A bounded back-off between two admin requests, not a wait for a test condition.
                Thread.sleep(100);
            }
        }
    }

    private static final Duration METADATA_WAIT = Duration.ofSeconds(30);

    /** The topics could not be listed, created or described. Retriable: the cluster may be starting. */
    public static final class SetupFailed extends SubstrateException {
        private static final long serialVersionUID = 1L;

        SetupFailed(String message, Throwable cause) {
            super(message, cause);
        }

        @Override
        public boolean isRetriable() {
            return true;
        }
    }
}
