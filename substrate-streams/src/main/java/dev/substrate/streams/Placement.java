package dev.substrate.streams;

import dev.substrate.entity.EntityKind;
import dev.substrate.state.EventOutcome;
import dev.substrate.streams.StateQueries.Location;
import dev.substrate.streams.StateQueries.PositionWait;
import dev.substrate.streams.internal.StoreNames;
import dev.substrate.topic.Topics;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyQueryMetadata;
import org.apache.kafka.streams.LagInfo;
import org.apache.kafka.streams.StreamsMetadata;
import org.apache.kafka.streams.TaskMetadata;
import org.apache.kafka.streams.ThreadMetadata;
import org.apache.kafka.streams.errors.StreamsException;
import org.apache.kafka.streams.query.KeyQuery;
import org.apache.kafka.streams.query.Position;
import org.apache.kafka.streams.query.PositionBound;
import org.apache.kafka.streams.query.QueryResult;
import org.apache.kafka.streams.query.StateQueryRequest;
import org.apache.kafka.streams.state.HostInfo;

/**
 * Where the fold's state is: which partition a key belongs to, which instance holds it, which keep standby
 * replicas, and whether this instance's state has reached a position of a log. Everything here asks Kafka Streams'
 * metadata, never a store's contents (but for the position bound, an empty key lookup).
 */
final class Placement {

    private static final StringSerializer KEYS = new StringSerializer();

    private final KafkaStreams streams;
    private final Topics topics;

    Placement(KafkaStreams streams, Topics topics) {
        this.streams = streams;
        this.topics = topics;
    }

    /** Whether the fold is running: every task assigned and restored. */
    boolean ready() {
        return streams.state() == KafkaStreams.State.RUNNING;
    }

    /**
     * Where {@code kind}'s state for {@code key} is now, asked of Kafka Streams once.
     *
     * @throws StateUnavailable while not even the key's partition is known (the fold is starting)
     */
    Location locate(EntityKind<?, ?> kind, String key) {
        KeyQueryMetadata metadata = metadataOf(kind, key);
        HostInfo active = metadata.activeHost();
        Instance owner = active == null || active.equals(HostInfo.unavailable())
                ? null
                : new Instance(active.host(), active.port());
        List<Instance> standbys = metadata.standbyHosts() == null
                ? List.of()
                : metadata.standbyHosts().stream()
                        .map(host -> new Instance(host.host(), host.port()))
                        .toList();
        return new Location(metadata.partition(), owner, standbys);
    }

    /**
     * How far behind the standby replica of {@code entity}'s {@code partition} kept on this instance is, in records
     * of its changelog; empty when this instance keeps none, or holds the active state itself.
     */
    OptionalLong standbyLag(EntityKind<?, ?> entity, int partition) {
        if (localActivePartitions(entity).contains(partition)) {
            return OptionalLong.empty();
        }
        Map<Integer, LagInfo> lags;
        try {
            lags = streams.allLocalStorePartitionLags().get(StoreNames.stateStore(entity));
        } catch (StreamsException | IllegalStateException e) {
            return OptionalLong.empty();
        }
        if (lags == null || !lags.containsKey(partition)) {
            return OptionalLong.empty();
        }
        return OptionalLong.of(lags.get(partition).offsetLag());
    }

    /**
     * Which instance holds which partitions of {@code entity}'s log: every partition appears exactly once.
     *
     * @throws StateUnavailable while a partition has no instance (starting or rebalancing)
     */
    Map<Instance, Set<Integer>> placement(EntityKind<?, ?> entity) {
        if (!ready()) {
            throw new StateUnavailable("The fold is starting or rebalancing", null);
        }
        String log = entity.log(topics).name();
        Map<Instance, Set<Integer>> placement = new LinkedHashMap<>();
        for (StreamsMetadata client : streams.metadataForAllStreamsClients()) {
            Set<Integer> partitions = new HashSet<>();
            client.topicPartitions().stream()
                    .filter(partition -> partition.topic().equals(log))
                    .forEach(partition -> partitions.add(partition.partition()));
            if (!partitions.isEmpty()) {
                placement.put(
                        new Instance(client.hostInfo().host(), client.hostInfo().port()), partitions);
            }
        }
        if (placement.isEmpty()) {
            throw new StateUnavailable("No instance holds the " + log + " partitions yet", null);
        }
        return placement;
    }

    /**
     * Whether this instance's state of {@code entity} includes the record at {@code offset} of its log's {@code
     * partition} now: an interactive-query position bound on the outcome store, which the fold writes for every
     * record it reads, after every other store. Never waits.
     */
    PositionWait positionNow(EntityKind<?, ?> entity, int partition, long offset) {
        // While starting or rebalancing, which instance holds the partition is not known yet.
        if (!ready()) {
            return PositionWait.PENDING;
        }
        if (!localActivePartitions(entity).contains(partition)) {
            return PositionWait.NOT_HELD;
        }
        Position position =
                Position.emptyPosition().withComponent(entity.log(topics).name(), partition, offset);
        StateQueryRequest<EventOutcome> request = StateQueryRequest.inStore(StoreNames.outcomeStore(entity))
                .withQuery(KeyQuery.<String, EventOutcome>withKey(""))
                .withPartitions(Set.of(partition))
                .withPositionBound(PositionBound.at(position));
        try {
            QueryResult<EventOutcome> result =
                    streams.query(request).getPartitionResults().get(partition);
            return result != null && result.isSuccess() ? PositionWait.REACHED : PositionWait.PENDING;
        } catch (StreamsException e) {
            // The task is moving.
            return PositionWait.PENDING;
        }
    }

    /**
     * The partition of {@code entity}'s log that {@code key} belongs to.
     *
     * @throws StateUnavailable while it is not known (the fold is starting)
     */
    int partitionOf(EntityKind<?, ?> entity, String key) {
        return metadataOf(entity, key).partition();
    }

    /** The partitions of {@code entity}'s log whose active task runs on this instance. */
    Set<Integer> localActivePartitions(EntityKind<?, ?> entity) {
        String log = entity.log(topics).name();
        Set<Integer> partitions = new HashSet<>();
        for (ThreadMetadata thread : streams.metadataForLocalThreads()) {
            for (TaskMetadata task : thread.activeTasks()) {
                task.topicPartitions().stream()
                        .filter(partition -> partition.topic().equals(log))
                        .forEach(partition -> partitions.add(partition.partition()));
            }
        }
        return partitions;
    }

    /** Where {@code key}'s state is, as Kafka Streams knows it now, with at least its partition known. */
    private KeyQueryMetadata metadataOf(EntityKind<?, ?> entity, String key) {
        KeyQueryMetadata metadata;
        try {
            metadata = streams.queryMetadataForKey(StoreNames.stateStore(entity), key, KEYS);
        } catch (StreamsException | IllegalStateException e) {
            throw new StateUnavailable("The fold is starting or rebalancing", e);
        }
        if (metadata == null || metadata.partition() < 0) {
            throw new StateUnavailable("The fold is starting: no partition is known for " + key, null);
        }
        return metadata;
    }
}
