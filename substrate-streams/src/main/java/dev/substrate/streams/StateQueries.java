package dev.substrate.streams;

import dev.substrate.entity.EntityKind;
import dev.substrate.events.run.RunEvent;
import dev.substrate.state.ArtifactState;
import dev.substrate.state.EventOutcome;
import dev.substrate.state.RoomState;
import dev.substrate.state.RunState;
import dev.substrate.state.TranscriptEntry;
import dev.substrate.streams.internal.Index;
import dev.substrate.streams.internal.IndexView;
import dev.substrate.streams.internal.StoreNames;
import dev.substrate.topic.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyQueryMetadata;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.LagInfo;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsMetadata;
import org.apache.kafka.streams.TaskMetadata;
import org.apache.kafka.streams.ThreadMetadata;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.errors.InvalidStateStorePartitionException;
import org.apache.kafka.streams.errors.StreamsException;
import org.apache.kafka.streams.query.KeyQuery;
import org.apache.kafka.streams.query.Position;
import org.apache.kafka.streams.query.PositionBound;
import org.apache.kafka.streams.query.QueryResult;
import org.apache.kafka.streams.query.StateQueryRequest;
import org.apache.kafka.streams.state.HostInfo;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * Reads the fold's state on this instance: the one place outside the topology that touches its stores, so
 * that the HTTP layer needs no Kafka Streams types. Answers for the partitions this instance holds, and says
 * which instance holds the others ({@link #ownerOf}, {@link #placement}).
 *
 * <p>Key lookups and position bounds use interactive queries v2 ({@code KafkaStreams#query}), active tasks
 * only. Range scans (lists, history, transcript) use the v1 store API: in Kafka 4.3 a v2 {@code RangeQuery}
 * bypasses the record cache, so it would miss what the fold wrote since its last commit.
 */
public final class StateQueries {

    private static final StringSerializer KEYS = new StringSerializer();
    private static final Duration POSITION_POLL = Duration.ofMillis(10);

    private final KafkaStreams streams;
    private final Topics topics;
    private final boolean activeOnly;
    private final FoldHealth health;
    private final int scanBudget;

    /**
     * Queries over a running fold, whose health is judged from its state alone ({@link SubstrateFold#queries()}
     * also knows of failed stream threads).
     *
     * @param topics the topics the fold reads, to name the log a position belongs to
     */
    public StateQueries(KafkaStreams streams, Topics topics) {
        this(streams, topics, true, null, SCAN_BUDGET);
    }

    /**
     * Queries over a running fold whose health {@code health} tracks; a list looks at {@code scanBudget} entries
     * per partition at most.
     */
    StateQueries(KafkaStreams streams, Topics topics, FoldHealth health, int scanBudget) {
        this(streams, topics, true, health, scanBudget);
    }

    private StateQueries(KafkaStreams streams, Topics topics, boolean activeOnly, FoldHealth health, int scanBudget) {
        this.streams = streams;
        this.topics = topics;
        this.activeOnly = activeOnly;
        this.health = health;
        this.scanBudget = scanBudget;
    }

    /**
     * A standby replica of a key's state kept on this instance (Kafka Streams' {@code num.standby.replicas}).
     *
     * @param lag how many records of its changelog the replica has not applied yet
     * @param queries key lookups that read the replica ({@link #run}, {@link #room}, {@link #artifact})
     */
    public record Standby(long lag, StateQueries queries) {}

    /** What {@link #awaitPosition} found. */
    public enum PositionWait {
        /** This instance's state includes the record at the position. */
        REACHED,
        /** This instance does not hold the position's partition; another instance answers for it. */
        NOT_HELD,
        /** Not yet: the state has not reached the position (or the fold is starting or rebalancing). */
        PENDING,
        /** The state did not reach the position in time. */
        TIMED_OUT
    }

    /**
     * Where {@code kind}'s state for {@code key} is, asked of Kafka Streams once: the partition, the instance
     * holding its active state, and the instances keeping standby replicas.
     *
     * @param partition the partition of the kind's log the key belongs to
     * @param owner the instance holding the active state; null while none does (starting or rebalancing)
     * @param standbys the instances keeping a standby replica
     */
    public record Location(int partition, Instance owner, List<Instance> standbys) {
        public Location {
            standbys = List.copyOf(standbys);
        }
    }

    /**
     * Where {@code kind}'s state for {@code key} is now.
     *
     * @throws StateUnavailable while not even the key's partition is known (the fold is starting)
     */
    public Location locate(EntityKind<?, ?> kind, String key) {
        KeyQueryMetadata metadata = metadataOf(kind, key);
        if (metadata == null || metadata.partition() < 0) {
            throw new StateUnavailable("The fold is starting: no partition is known for " + key, null);
        }
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
     * The instance holding {@code entity}'s state for {@code key} now.
     *
     * @throws StateUnavailable while no instance does (starting or rebalancing)
     */
    public Instance ownerOf(EntityKind<?, ?> entity, String key) {
        Instance owner = locate(entity, key).owner();
        if (owner == null) {
            throw new StateUnavailable("No instance holds " + entity.name() + " " + key + " now (rebalancing)", null);
        }
        return owner;
    }

    /**
     * The standby replica of {@code entity}'s state at {@code location} on this instance, if it keeps one and not
     * the active state itself: what answers a lookup while the instance holding the active state is gone or moving.
     */
    public Optional<Standby> standbyOf(EntityKind<?, ?> entity, Location location) {
        int partition = location.partition();
        if (localActivePartitions(entity).contains(partition)) {
            return Optional.empty();
        }
        Map<Integer, LagInfo> lags;
        try {
            lags = streams.allLocalStorePartitionLags().get(StoreNames.stateStore(entity));
        } catch (StreamsException | IllegalStateException e) {
            return Optional.empty();
        }
        if (lags == null || !lags.containsKey(partition)) {
            return Optional.empty();
        }
        return Optional.of(new Standby(
                lags.get(partition).offsetLag(), new StateQueries(streams, topics, false, health, scanBudget)));
    }

    /**
     * Which instance holds which partitions of {@code entity}'s log: every partition appears exactly once.
     *
     * @throws StateUnavailable while a partition has no instance (starting or rebalancing)
     */
    public Map<Instance, Set<Integer>> placement(EntityKind<?, ?> entity) {
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
     * Waits, up to {@code timeout}, until this instance's state of {@code entity} includes the record at
     * {@code offset} of its log's {@code partition} (an interactive-query position bound on the outcome store,
     * which the fold writes for every record it reads, after every other store).
     */
    public PositionWait awaitPosition(EntityKind<?, ?> entity, int partition, long offset, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            PositionWait now = positionNow(entity, partition, offset);
            if (now != PositionWait.PENDING) {
                return now;
            }
            if (System.nanoTime() - deadline > 0) {
                return PositionWait.TIMED_OUT;
            }
            try {
                // Interactive queries have no way to be told when a store moves: poll, briefly.
                Thread.sleep(POSITION_POLL.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return PositionWait.TIMED_OUT;
            }
        }
    }

    /**
     * Whether this instance's state of {@code entity} includes the record at {@code offset} of its log's {@code
     * partition} now: {@link PositionWait#REACHED}, {@link PositionWait#NOT_HELD} or {@link PositionWait#PENDING}
     * (not yet, or not known while the fold starts or rebalances). Never waits: for callers that poll many
     * positions on one thread.
     */
    public PositionWait positionNow(EntityKind<?, ?> entity, int partition, long offset) {
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

    /** Whether the fold is running: every task assigned and restored. */
    public boolean ready() {
        return streams.state() == KafkaStreams.State.RUNNING;
    }

    /**
     * Why this instance should not be sent reads and appends now ({@code GET /ready} answers 503), or empty when it
     * can: see {@link FoldHealth#notReady()}. Without a tracked health, the fold is ready while running.
     */
    public Optional<String> notReady() {
        if (health != null) {
            return health.notReady();
        }
        return ready() ? Optional.empty() : Optional.of("the fold is starting or rebalancing");
    }

    /** Why this process cannot recover by itself ({@code GET /health} answers 503), or empty. */
    public Optional<String> notLive() {
        return health == null ? Optional.empty() : health.notLive();
    }

    /** The fold's health, when tracked ({@link SubstrateFold#queries()}). */
    public Optional<FoldHealth> health() {
        return Optional.ofNullable(health);
    }

    /** The state of {@code kind}'s entity {@code id}, if this instance holds it (and it is not deleted). */
    public <S extends SpecificRecord> Optional<S> state(EntityKind<?, S> kind, String id) {
        return Optional.ofNullable(get(kind, StoreNames.stateStore(kind), id, id));
    }

    /** The run, if this instance holds it. */
    public Optional<RunState> run(String runId) {
        return state(EntityKind.RUN, runId);
    }

    /**
     * One applied event of a run's history.
     *
     * @param version the run's version once it was applied: 1 for its creation, then one more per event
     * @param event the event
     */
    public record HistoryEntry(long version, RunEvent event) {}

    /**
     * A page of a run's history: up to {@code limit} applied events after {@code afterVersion} (0 for the first
     * page), oldest first; {@code more} says whether others follow.
     */
    public record HistoryPage(List<HistoryEntry> entries, boolean more) {}

    /** The run's applied events after {@code afterVersion}, oldest first, {@code limit} at most. */
    public HistoryPage runHistory(String runId, long afterVersion, int limit) {
        List<HistoryEntry> entries = new ArrayList<>();
        boolean more = false;
        String from = StoreNames.sequenceKey(runId, Math.max(0, afterVersion) + 1);
        String to = StoreNames.sequenceKey(runId, Long.MAX_VALUE);
        try (KeyValueIterator<String, RunEvent> range =
                this.<RunEvent>store(StoreNames.RUN_HISTORY).range(from, to)) {
            while (range.hasNext()) {
                var entry = range.next();
                if (entries.size() == limit) {
                    more = true;
                    break;
                }
                long version = Long.parseLong(entry.key.substring(entry.key.lastIndexOf('/') + 1));
                entries.add(new HistoryEntry(version, entry.value));
            }
        } catch (InvalidStateStoreException e) {
            throw unavailable(StoreNames.RUN_HISTORY, e);
        }
        return new HistoryPage(entries, more);
    }

    /** The room, if this instance holds it. */
    public Optional<RoomState> room(String roomId) {
        return state(EntityKind.ROOM, roomId);
    }

    /** The most block text one transcript page carries (at least one entry is always returned): 16 MiB. */
    public static final int TRANSCRIPT_PAGE_CHARS = 16 * 1024 * 1024;

    /**
     * A page of a room's transcript.
     *
     * @param entries the entries, oldest first; a block stored in parts is joined into one entry whose text is the
     *     whole text (and whose {@code parts} still says how it is stored)
     * @param more whether entries follow the last one
     */
    public record TranscriptPage(List<TranscriptEntry> entries, boolean more) {}

    /**
     * Up to {@code limit} transcript entries of the room after offset {@code after} (-1 for the start), fewer when
     * their text passes {@link #TRANSCRIPT_PAGE_CHARS}.
     */
    public TranscriptPage transcript(String roomId, long after, int limit) {
        ReadOnlyKeyValueStore<String, TranscriptEntry> store = store(StoreNames.ROOM_TRANSCRIPT);
        List<TranscriptEntry> entries = new ArrayList<>();
        String from = StoreNames.sequenceKey(roomId, after + 1);
        String to = StoreNames.sequenceKey(roomId, Long.MAX_VALUE);
        long chars = 0;
        try (KeyValueIterator<String, TranscriptEntry> range = store.range(from, to)) {
            while (range.hasNext() && entries.size() < limit && chars < TRANSCRIPT_PAGE_CHARS) {
                TranscriptEntry entry = whole(range.next().value);
                chars += entry.getText() == null ? 0 : entry.getText().length();
                entries.add(entry);
            }
            return new TranscriptPage(entries, range.hasNext());
        } catch (InvalidStateStoreException e) {
            throw unavailable(StoreNames.ROOM_TRANSCRIPT, e);
        }
    }

    /** {@code entry} with the parts of its text joined in front of its own text. */
    private TranscriptEntry whole(TranscriptEntry entry) {
        if (entry.getParts() == 0) {
            return entry;
        }
        ReadOnlyKeyValueStore<String, String> parts = store(StoreNames.ROOM_BLOCK_PARTS);
        StringBuilder text = new StringBuilder();
        String roomId = entry.getRoomId();
        long offset = entry.getOffset();
        try (KeyValueIterator<String, String> range = parts.range(
                StoreNames.partKey(roomId, offset, 0), StoreNames.partKey(roomId, offset, entry.getParts() - 1))) {
            int found = 0;
            while (range.hasNext()) {
                text.append(range.next().value);
                found++;
            }
            if (found != entry.getParts()) {
                throw new StateUnavailable(
                        "block " + entry.getRefId() + " of room " + roomId + " has " + found + " of its "
                                + entry.getParts() + " parts here; try again",
                        null);
            }
        } catch (InvalidStateStoreException e) {
            throw unavailable(StoreNames.ROOM_BLOCK_PARTS, e);
        }
        if (entry.getText() != null) {
            text.append(entry.getText());
        }
        return TranscriptEntry.newBuilder(entry).setText(text.toString()).build();
    }

    /** The artifact, if this instance holds it (and it is not deleted). */
    public Optional<ArtifactState> artifact(String artifactId) {
        return state(EntityKind.ARTIFACT, artifactId);
    }

    /**
     * Which index a list reads, asked as a question ({@code runsByStatus(waiting)}): the store behind it stays
     * inside the fold. {@link #all()} reads every entity in id order.
     */
    public static final class Filter {
        private static final Filter ALL = new Filter(null, null);

        private final String index;
        private final String value;

        private Filter(String index, String value) {
            this.index = index;
            this.value = value;
        }

        /** Every entity of the kind. */
        public static Filter all() {
            return ALL;
        }

        /** Rooms of {@code kind}. */
        public static Filter roomsByKind(String kind) {
            return new Filter(StoreNames.ROOMS_BY_KIND, kind);
        }

        /** The rooms of run {@code runId}. */
        public static Filter roomsByRun(String runId) {
            return new Filter(StoreNames.ROOMS_BY_RUN, runId);
        }

        /** The child rooms of {@code parentRoomId}. */
        public static Filter roomsByParent(String parentRoomId) {
            return new Filter(StoreNames.ROOMS_BY_PARENT, parentRoomId);
        }

        /** The artifacts owned by {@code parentId}. */
        public static Filter artifactsByParent(String parentId) {
            return new Filter(StoreNames.ARTIFACTS_BY_PARENT, parentId);
        }

        /** The artifacts run {@code runId} produced. */
        public static Filter artifactsByRun(String runId) {
            return new Filter(StoreNames.ARTIFACTS_BY_RUN, runId);
        }

        /** The artifacts room {@code roomId} produced. */
        public static Filter artifactsByRoom(String roomId) {
            return new Filter(StoreNames.ARTIFACTS_BY_ROOM, roomId);
        }
    }

    /**
     * Runs that {@code index} yields, each also passing {@code also}, in the index's order (newest first); each
     * page key is {@code <millis, 13 digits>\0<runId>}.
     *
     * @param cursor the key of the last run of the previous page (or where its scan stopped), or null for the first
     * @throws IllegalArgumentException when {@code cursor} is not such a key
     */
    public Page<RunState> runs(RunIndex index, Predicate<RunState> also, String cursor, int limit) {
        if (cursor != null && !TIME_KEY.matcher(cursor).matches()) {
            throw new IllegalArgumentException("the cursor belongs to another query");
        }
        List<Map.Entry<String, RunState>> candidates = new ArrayList<>();
        Scan scan = new Scan(true, scanBudget);
        Map<Integer, ReadOnlyKeyValueStore<String, String>> partitions =
                indexPartitions(EntityKind.RUN, index.indexName());
        for (ReadOnlyKeyValueStore<String, String> partition : partitions.values()) {
            try (IndexMerge range = new IndexMerge(partition, index, cursor)) {
                take(range, cursor, limit, also, id -> run(id).orElse(null), candidates, scan);
            } catch (InvalidStateStoreException e) {
                throw unavailable(index.indexName(), e);
            }
        }
        return page(candidates, true, limit, scan, partitions.keySet());
    }

    /**
     * How many runs of this instance's partitions {@code index} yields that pass {@code also}, by {@code groupBy}'s
     * value for each (a run whose value is null counts under {@code "none"}).
     *
     * @param budget the most index entries looked at, over all partitions
     * @throws TooMuchToCount when there are more
     */
    public Counts countRuns(RunIndex index, Predicate<RunState> also, Function<RunState, String> groupBy, long budget) {
        Map<String, Long> counts = new TreeMap<>();
        long scanned = 0;
        Map<Integer, ReadOnlyKeyValueStore<String, String>> partitions =
                indexPartitions(EntityKind.RUN, index.indexName());
        for (ReadOnlyKeyValueStore<String, String> partition : partitions.values()) {
            try (IndexMerge range = new IndexMerge(partition, index, null)) {
                while (range.hasNext()) {
                    String runId = range.next().value;
                    if (++scanned > budget) {
                        throw new TooMuchToCount(budget);
                    }
                    RunState run = runId == null ? null : run(runId).orElse(null);
                    if (run != null && also.test(run)) {
                        String group = groupBy.apply(run);
                        counts.merge(group == null ? "none" : group, 1L, Long::sum);
                    }
                }
            } catch (InvalidStateStoreException e) {
                throw unavailable(index.indexName(), e);
            }
        }
        return new Counts(counts, scanned, partitions.keySet());
    }

    /**
     * One instance's counts.
     *
     * @param counts how many entities have each value
     * @param scanned how many index entries were looked at
     * @param partitions the partitions counted
     */
    public record Counts(Map<String, Long> counts, long scanned, Set<Integer> partitions) {
        public Counts {
            counts = Map.copyOf(counts);
            partitions = Set.copyOf(partitions);
        }
    }

    /** A count that would look at more entries than its budget allows: narrow it with filters. */
    public static final class TooMuchToCount extends RuntimeException {
        private static final long serialVersionUID = 1L;

        TooMuchToCount(long budget) {
            super("the count would look at more than " + budget + " runs (query.count.budget); narrow it with filters");
        }
    }

    private static final Pattern TIME_KEY = Pattern.compile("[0-9]{13}\u0000.+");

    /**
     * The entries of one partition's run index, newest first, keyed by their page key: the parts of every value the
     * index reads, merged; each part starting below {@code cursor}.
     */
    private static final class IndexMerge implements KeyValueIterator<String, String> {
        private final List<KeyValueIterator<String, String>> parts = new ArrayList<>();
        private final List<Integer> prefixLengths = new ArrayList<>();
        private final PriorityQueue<Head> heads = new PriorityQueue<>(
                Comparator.comparing((Head head) -> head.key).reversed());

        private record Head(String key, String value, int part) {}

        IndexMerge(ReadOnlyKeyValueStore<String, String> store, RunIndex index, String cursor) {
            try {
                String upper = cursor == null
                        ? index.highest()
                        : index.highest() == null || cursor.compareTo(index.highest()) < 0 ? cursor : index.highest();
                if (index.values().isEmpty()) {
                    // Keys are page keys, all of them starting with a digit.
                    parts.add(store.reverseRange(index.lowest() == null ? "0" : index.lowest(), upper));
                    prefixLengths.add(0);
                } else {
                    for (String value : index.values()) {
                        String prefix = StoreNames.indexPrefix(value);
                        String from = index.lowest() == null ? prefix : prefix + index.lowest();
                        String to = upper == null ? value + (char) (StoreNames.SEPARATOR + 1) : prefix + upper;
                        parts.add(store.reverseRange(from, to));
                        prefixLengths.add(prefix.length());
                    }
                }
                for (int i = 0; i < parts.size(); i++) {
                    advance(i);
                }
            } catch (RuntimeException e) {
                close();
                throw e;
            }
        }

        private void advance(int part) {
            KeyValueIterator<String, String> range = parts.get(part);
            while (range.hasNext()) {
                var entry = range.next();
                // A null value is an entry the fold removed and has not flushed yet (still in the record cache,
                // where a reverse range over the cached store can find it): its run moved to another key.
                if (entry.value != null) {
                    heads.add(new Head(entry.key.substring(prefixLengths.get(part)), entry.value, part));
                    return;
                }
            }
        }

        @Override
        public boolean hasNext() {
            return !heads.isEmpty();
        }

        @Override
        public KeyValue<String, String> next() {
            Head head = heads.poll();
            if (head == null) {
                throw new NoSuchElementException();
            }
            advance(head.part);
            return KeyValue.pair(head.key, head.value);
        }

        @Override
        public String peekNextKey() {
            Head head = heads.peek();
            if (head == null) {
                throw new NoSuchElementException();
            }
            return head.key;
        }

        @Override
        public void close() {
            parts.forEach(KeyValueIterator::close);
        }
    }

    /** Rooms that {@code filter} selects, by id, each also passing {@code also}; paged as {@link #runs}. */
    public Page<RoomState> rooms(Filter filter, Predicate<RoomState> also, String cursor, int limit) {
        if (filter.index == null) {
            return scanAll(EntityKind.ROOM, StoreNames.ROOMS, false, cursor, limit, also);
        }
        return scanIndex(
                EntityKind.ROOM, filter.index, filter.value, false, cursor, limit, id -> room(id).orElse(null), also);
    }

    /** Artifacts that {@code filter} selects, by id, each also passing {@code also}; paged as {@link #runs}. */
    public Page<ArtifactState> artifacts(Filter filter, Predicate<ArtifactState> also, String cursor, int limit) {
        if (filter.index == null) {
            return scanAll(EntityKind.ARTIFACT, StoreNames.ARTIFACTS, false, cursor, limit, also);
        }
        return scanIndex(
                EntityKind.ARTIFACT,
                filter.index,
                filter.value,
                false,
                cursor,
                limit,
                id -> artifact(id).orElse(null),
                also);
    }

    private <V> Page<V> scanAll(
            EntityKind<?, ?> entity,
            String storeName,
            boolean descending,
            String cursor,
            int limit,
            Predicate<V> also) {
        List<Map.Entry<String, V>> candidates = new ArrayList<>();
        Scan scan = new Scan(descending, scanBudget);
        Map<Integer, ReadOnlyKeyValueStore<String, V>> partitions = this.partitions(entity, storeName);
        for (ReadOnlyKeyValueStore<String, V> partition : partitions.values()) {
            try (KeyValueIterator<String, V> range = descending
                    ? (cursor == null ? partition.reverseAll() : partition.reverseRange(null, cursor))
                    : (cursor == null ? partition.all() : partition.range(cursor + "\0", null))) {
                take(range, descending ? cursor : null, limit, also, Function.identity(), candidates, scan);
            } catch (InvalidStateStoreException e) {
                throw unavailable(storeName, e);
            }
        }
        return page(candidates, descending, limit, scan, partitions.keySet());
    }

    private <V> Page<V> scanIndex(
            EntityKind<?, ?> entity,
            String indexStore,
            String value,
            boolean newestFirst,
            String cursor,
            int limit,
            Function<String, V> load,
            Predicate<V> also) {
        String prefix = StoreNames.indexPrefix(value);
        String end = value + (char) (StoreNames.SEPARATOR + 1);
        if (cursor != null && !cursor.startsWith(prefix)) {
            throw new IllegalArgumentException("the cursor belongs to another query");
        }
        List<Map.Entry<String, V>> candidates = new ArrayList<>();
        Scan scan = new Scan(newestFirst, scanBudget);
        Map<Integer, ReadOnlyKeyValueStore<String, String>> partitions = indexPartitions(entity, indexStore);
        for (ReadOnlyKeyValueStore<String, String> partition : partitions.values()) {
            try (KeyValueIterator<String, String> range = newestFirst
                    ? partition.reverseRange(prefix, cursor == null ? end : cursor)
                    : partition.range(cursor == null ? prefix : cursor, end)) {
                take(range, cursor, limit, also, load, candidates, scan);
            } catch (InvalidStateStoreException e) {
                throw unavailable(indexStore, e);
            }
        }
        return page(candidates, newestFirst, limit, scan, partitions.keySet());
    }

    /**
     * The most entries one list request looks at in one partition's store by default ({@code query.scan.budget}):
     * a filter that few entries pass (a non-member's room list, a {@code parentRunId} filter) answers with what it
     * found so far and a cursor to go on from, rather than scanning a whole store in one request.
     */
    public static final int SCAN_BUDGET = 5_000;

    /** How one request's scan of several partitions went: whether entries remain, and where a budget stopped it. */
    private static final class Scan {
        final boolean descending;
        boolean more;
        String stoppedAt;
        /** Entries looked at, over every partition. */
        long scanned;

        final int budget;

        Scan(boolean descending, int budget) {
            this.descending = descending;
            this.budget = budget;
        }

        /** A partition's scan stopped at its budget at {@code key}: the page goes no further than the first such. */
        void stoppedAt(String key) {
            more = true;
            if (stoppedAt == null || (descending ? key.compareTo(stoppedAt) > 0 : key.compareTo(stoppedAt) < 0)) {
                stoppedAt = key;
            }
        }
    }

    /**
     * Takes up to {@code limit} entries of one partition's ordered range (skipping the cursor itself), adding
     * them to {@code candidates}, looking at the scan's budget of entries at most.
     */
    private static <S, V> void take(
            KeyValueIterator<String, S> range,
            String cursor,
            int limit,
            Predicate<V> also,
            Function<S, V> load,
            List<Map.Entry<String, V>> candidates,
            Scan scan) {
        int taken = 0;
        int looked = 0;
        String last = null;
        while (range.hasNext()) {
            var entry = range.next();
            if (entry.key.equals(cursor)) {
                continue;
            }
            if (taken == limit) {
                scan.more = true;
                return;
            }
            if (looked == scan.budget) {
                // Stopped before this entry: the next page goes on after the last one looked at.
                scan.stoppedAt(last);
                return;
            }
            looked++;
            scan.scanned++;
            // A null value is an entry the fold removed and has not flushed yet: nothing to load.
            V item = entry.value == null ? null : load.apply(entry.value);
            if (item != null && also.test(item)) {
                candidates.add(Map.entry(entry.key, item));
                taken++;
            }
            last = entry.key;
        }
    }

    /** Merges the partitions' candidates in key order and cuts one page from them. */
    private static <V> Page<V> page(
            List<Map.Entry<String, V>> candidates, boolean descending, int limit, Scan scan, Set<Integer> partitions) {
        Comparator<Map.Entry<String, V>> byKey = Map.Entry.comparingByKey();
        candidates.sort(descending ? byKey.reversed() : byKey);
        if (scan.stoppedAt != null) {
            // Entries of other partitions past where one partition stopped would be skipped by the next page.
            String stop = scan.stoppedAt;
            candidates.removeIf(entry -> descending
                    ? entry.getKey().compareTo(stop) < 0
                    : entry.getKey().compareTo(stop) > 0);
        }
        List<Map.Entry<String, V>> taken = candidates.subList(0, Math.min(limit, candidates.size()));
        boolean full = candidates.size() > limit;
        return new Page<>(
                taken.stream().map(Map.Entry::getValue).toList(),
                taken.stream().map(Map.Entry::getKey).toList(),
                scan.more || full,
                partitions,
                scan.stoppedAt != null && !full ? scan.stoppedAt : null,
                scan.scanned);
    }

    /**
     * This instance's store of each log partition it holds, by partition: a plain {@code streams.store(...)}
     * iterates its partitions one after another, not in one key order, so a paged scan must merge them itself.
     */
    private <V> Map<Integer, ReadOnlyKeyValueStore<String, V>> partitions(EntityKind<?, ?> entity, String name) {
        Map<Integer, ReadOnlyKeyValueStore<String, V>> stores = new LinkedHashMap<>();
        for (int partition : localActivePartitions(entity)) {
            try {
                stores.put(
                        partition,
                        streams.store(StoreQueryParameters.fromNameAndType(
                                        name, QueryableStoreTypes.<String, V>keyValueStore())
                                .withPartition(partition)));
            } catch (InvalidStateStorePartitionException e) {
                // Not one of this instance's partitions (any more).
            } catch (InvalidStateStoreException e) {
                throw unavailable(name, e);
            }
        }
        return stores;
    }

    /** {@link #partitions} of the store that holds index {@code indexName}, each read as that index alone. */
    private Map<Integer, ReadOnlyKeyValueStore<String, String>> indexPartitions(
            EntityKind<?, ?> entity, String indexName) {
        Index index = StoreNames.index(indexName);
        Map<Integer, ReadOnlyKeyValueStore<String, String>> views = new LinkedHashMap<>();
        this.<String>partitions(entity, index.store())
                .forEach((partition, store) -> views.put(partition, new IndexView(store, index)));
        return views;
    }

    /** The fold's decision about event {@code eventId} of the entity {@code entityId}, if it has made one. */
    public Optional<EventOutcome> outcome(EntityKind<?, ?> entity, String entityId, String eventId) {
        return Optional.ofNullable(get(entity, StoreNames.outcomeStore(entity), entityId, eventId));
    }

    /**
     * The fold's decision about event {@code eventId} of {@code entityId}: empty when it decided none for this
     * entity. An event of another entity with that id (outcomes are kept by event id, per partition) stays hidden:
     * a caller who may read one entity learns nothing of another's events.
     */
    public Optional<EventOutcome> outcomeOf(EntityKind<?, ?> entity, String entityId, String eventId) {
        return outcome(entity, entityId, eventId)
                .filter(outcome -> outcome.getEntityId().equals(entityId));
    }

    /**
     * A key lookup (IQv2) in the partition that holds {@code entityId}: in its active task, or, for the queries of
     * a {@link Standby}, in whichever copy this instance keeps.
     *
     * @throws StateUnavailable when this instance does not hold that partition now
     */
    private <V> V get(EntityKind<?, ?> entity, String storeName, String entityId, String key) {
        int partition = partitionOf(entity, entityId);
        StateQueryRequest<V> request = StateQueryRequest.inStore(storeName)
                .withQuery(KeyQuery.<String, V>withKey(key))
                .withPartitions(Set.of(partition));
        QueryResult<V> result;
        try {
            result = streams.query(activeOnly ? request.requireActive() : request)
                    .getPartitionResults()
                    .get(partition);
        } catch (StreamsException e) {
            throw new StateUnavailable("The " + storeName + " store is not available now: " + e.getMessage(), e);
        }
        if (result == null || result.isFailure()) {
            throw new StateUnavailable(
                    "Partition " + partition + " of the " + storeName + " store is not on this instance now"
                            + (result == null ? "" : " (" + result.getFailureMessage() + ")"),
                    null);
        }
        return result.getResult();
    }

    /** The partition of {@code entity}'s log that {@code key} belongs to. */
    private int partitionOf(EntityKind<?, ?> entity, String key) {
        KeyQueryMetadata metadata = metadataOf(entity, key);
        if (metadata == null || metadata.partition() < 0) {
            throw new StateUnavailable("The fold is starting: no partition is known for " + key, null);
        }
        return metadata.partition();
    }

    /** Where {@code key}'s state is, as Kafka Streams knows it now (null or partial while it starts). */
    private KeyQueryMetadata metadataOf(EntityKind<?, ?> entity, String key) {
        try {
            return streams.queryMetadataForKey(StoreNames.stateStore(entity), key, KEYS);
        } catch (StreamsException | IllegalStateException e) {
            throw new StateUnavailable("The fold is starting or rebalancing", e);
        }
    }

    /** The partitions of {@code entity}'s log whose active task runs on this instance. */
    private Set<Integer> localActivePartitions(EntityKind<?, ?> entity) {
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

    private <V> List<V> prefix(String storeName, String prefix, int limit) {
        List<V> values = new ArrayList<>();
        try (KeyValueIterator<String, V> range = this.<V>store(storeName).prefixScan(prefix, new StringSerializer())) {
            while (range.hasNext() && values.size() < limit) {
                values.add(range.next().value);
            }
        } catch (InvalidStateStoreException e) {
            throw unavailable(storeName, e);
        }
        return values;
    }

    private <V> ReadOnlyKeyValueStore<String, V> store(String name) {
        try {
            return streams.store(StoreQueryParameters.fromNameAndType(name, QueryableStoreTypes.keyValueStore()));
        } catch (InvalidStateStoreException e) {
            throw unavailable(name, e);
        }
    }

    private static StateUnavailable unavailable(String store, InvalidStateStoreException e) {
        return new StateUnavailable("The " + store + " store is not available now (starting or rebalancing)", e);
    }
}
