package dev.substrate.streams;

import dev.substrate.entity.EntityKind;
import dev.substrate.events.run.RunEvent;
import dev.substrate.retention.RetentionPolicy;
import dev.substrate.state.ArtifactState;
import dev.substrate.state.EventOutcome;
import dev.substrate.state.RoomState;
import dev.substrate.state.RunState;
import dev.substrate.state.TranscriptEntry;
import dev.substrate.streams.internal.DecisionSignal;
import dev.substrate.streams.internal.RoomMemberships;
import dev.substrate.streams.internal.StoreNames;
import dev.substrate.topic.Topics;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;
import java.util.function.Predicate;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.streams.KafkaStreams;

/**
 * Reads the fold's state on this instance: the one place outside the topology that touches its stores, so
 * that the HTTP layer needs no Kafka Streams types. Answers for the partitions this instance holds, and says
 * which instance holds the others ({@link #ownerOf}, {@link #placement}).
 *
 * <p>A facade over three jobs, each its own class: where state is and whether it has reached a position
 * ({@code Placement}), reads of one entity's keys and ordered records ({@code KeyReads}), and lists and counts over
 * the indexes ({@code IndexScans}). Key lookups and position bounds use interactive queries v2 ({@code
 * KafkaStreams#query}), active tasks only. Range scans (lists, history, transcript) use the v1 store API: in Kafka
 * 4.3 a v2 {@code RangeQuery} bypasses the record cache, so it would miss what the fold wrote since its last commit.
 */
public final class StateQueries {

    private final KafkaStreams streams;
    private final Topics topics;
    private final FoldHealth health;
    private final UsageMeter usage;
    private final int scanBudget;
    private final boolean activeOnly;
    private final ContentOpener opener;
    private final Placement placement;
    private final KeyReads keys;
    private final IndexScans scans;
    /** The room fold's memberships of the rooms held here; null for a standby's reads or a fold started elsewhere. */
    private final RoomMemberships memberships;
    /** Told of every event the fold decides here; null for a standby's reads or a fold started elsewhere. */
    private final DecisionSignal decisions;

    /**
     * Queries over a running fold, whose health is judged from its state alone ({@link SubstrateFold#queries()}
     * also knows of failed stream threads).
     *
     * @param topics the topics the fold reads, to name the log a position belongs to
     */
    public StateQueries(KafkaStreams streams, Topics topics) {
        this(streams, topics, true, null, null, SCAN_BUDGET, null, null, ContentOpener.NONE);
    }

    /**
     * Queries over a running fold whose health {@code health} tracks; a list looks at {@code scanBudget} entries
     * per partition at most.
     */
    StateQueries(
            KafkaStreams streams,
            Topics topics,
            FoldHealth health,
            UsageMeter usage,
            int scanBudget,
            RoomMemberships memberships,
            DecisionSignal decisions) {
        this(streams, topics, true, health, usage, scanBudget, memberships, decisions, ContentOpener.NONE);
    }

    private StateQueries(
            KafkaStreams streams,
            Topics topics,
            boolean activeOnly,
            FoldHealth health,
            UsageMeter usage,
            int scanBudget,
            RoomMemberships memberships,
            DecisionSignal decisions,
            ContentOpener opener) {
        this.activeOnly = activeOnly;
        this.opener = opener;
        this.usage = usage;
        this.memberships = memberships;
        this.decisions = decisions;
        this.streams = streams;
        this.topics = topics;
        this.health = health;
        this.scanBudget = scanBudget;
        this.placement = new Placement(streams, topics);
        this.keys = new KeyReads(streams, placement, activeOnly);
        this.scans = new IndexScans(streams, placement, scanBudget);
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
        return placement.locate(kind, key);
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
        OptionalLong lag = placement.standbyLag(entity, location.partition());
        if (lag.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new Standby(
                lag.getAsLong(),
                new StateQueries(streams, topics, false, health, usage, scanBudget, null, null, opener)));
    }

    /**
     * Which instance holds which partitions of {@code entity}'s log: every partition appears exactly once.
     *
     * @throws StateUnavailable while a partition has no instance (starting or rebalancing)
     */
    public Map<Instance, Set<Integer>> placement(EntityKind<?, ?> entity) {
        return placement.placement(entity);
    }

    /**
     * Waits, up to {@code timeout}, until this instance's state of {@code entity} includes the record at
     * {@code offset} of its log's {@code partition} (an interactive-query position bound on the outcome store,
     * which the fold writes for every record it reads, after every other store).
     */
    public PositionWait awaitPosition(EntityKind<?, ?> entity, int partition, long offset, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long seen = decided();
            PositionWait now = positionNow(entity, partition, offset);
            if (now != PositionWait.PENDING) {
                return now;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0 || Thread.currentThread().isInterrupted()) {
                return PositionWait.TIMED_OUT;
            }
            // Woken by the fold's next decision; a task moving or a fold started elsewhere is looked at again soon.
            awaitDecisionAfter(seen, Duration.ofNanos(Math.min(left, POSITION_RECHECK.toNanos())));
        }
    }

    /** How long a position wait goes without looking again when the fold decides nothing (or is not told here). */
    public static final Duration POSITION_RECHECK = Duration.ofMillis(10);

    /**
     * Whether this instance's state of {@code entity} includes the record at {@code offset} of its log's {@code
     * partition} now: {@link PositionWait#REACHED}, {@link PositionWait#NOT_HELD} or {@link PositionWait#PENDING}
     * (not yet, or not known while the fold starts or rebalances). Never waits: for callers that poll many
     * positions on one thread.
     */
    public PositionWait positionNow(EntityKind<?, ?> entity, int partition, long offset) {
        return placement.positionNow(entity, partition, offset);
    }

    /**
     * How many events this instance's fold has decided since it started: read it before checking {@link
     * #positionNow}, then {@link #awaitDecisionAfter} it. Zero when this fold's decisions are not told here.
     */
    public long decided() {
        return decisions == null ? 0 : decisions.decided();
    }

    /**
     * Parks the calling thread until this instance's fold decides an event after {@link #decided} answered {@code
     * seen}, or {@code max} passes; where this fold's decisions are not told here, for {@code max}.
     */
    public void awaitDecisionAfter(long seen, Duration max) {
        if (decisions != null) {
            decisions.awaitAfter(seen, max.toNanos());
        } else {
            LockSupport.parkNanos(max.toNanos());
        }
    }

    /** Whether the fold is running: every task assigned and restored. */
    public boolean ready() {
        return placement.ready();
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

    /** The tokens this instance's fold counted since it started, when tracked ({@link SubstrateFold#queries()}). */
    public Optional<UsageMeter> usageMeter() {
        return Optional.ofNullable(usage);
    }

    /** The fold's health, when tracked ({@link SubstrateFold#queries()}). */
    public Optional<FoldHealth> health() {
        return Optional.ofNullable(health);
    }

    /** The state of {@code kind}'s entity {@code id}, if this instance holds it (and it is not deleted). */
    public <S extends SpecificRecord> Optional<S> state(EntityKind<?, S> kind, String id) {
        return Optional.ofNullable(opener.open(kind, id, keys.get(kind, StoreNames.stateStore(kind), id, id)));
    }

    /**
     * These queries, with what they read of rooms opened by {@code opener} (a room's state, its transcript, room
     * lists): the API's, for callers it has let read them.
     */
    public StateQueries openingWith(ContentOpener opener) {
        return new StateQueries(streams, topics, activeOnly, health, usage, scanBudget, memberships, decisions, opener);
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
        return keys.runHistory(runId, afterVersion, limit);
    }

    /** The room, if this instance holds it. */
    public Optional<RoomState> room(String roomId) {
        return state(EntityKind.ROOM, roomId);
    }

    /**
     * The room's project and members, if this instance holds it: kept in memory by the room fold for the rooms held
     * here, read from the store (and remembered) when not known yet. Empty when the room does not exist.
     *
     * @param partition the room's partition ({@link #locate})
     * @throws StateUnavailable as {@link #room}
     */
    public Optional<RoomMembership> roomMembership(String roomId, int partition) {
        if (memberships == null) {
            return room(roomId).map(RoomMembership::of);
        }
        Optional<RoomMembership> known = memberships.get(roomId);
        if (known != null) {
            return known;
        }
        long generation = memberships.generation();
        Optional<RoomMembership> read = room(roomId).map(RoomMembership::of);
        memberships.fill(partition, roomId, generation, read);
        return read;
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
        TranscriptPage page = keys.transcript(roomId, after, limit);
        if (opener == ContentOpener.NONE) {
            return page;
        }
        return new TranscriptPage(
                page.entries().stream()
                        .map(entry -> opener.open(EntityKind.ROOM, roomId, entry))
                        .toList(),
                page.more());
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
        return scans.runs(index, this::loadRun, also, cursor, limit);
    }

    /**
     * How many runs of this instance's partitions {@code index} yields that pass {@code also}, by {@code groupBy}'s
     * value for each (a run whose value is null counts under {@code "none"}).
     *
     * @param budget the most index entries looked at, over all partitions
     * @throws TooMuchToCount when there are more
     */
    public Counts countRuns(RunIndex index, Predicate<RunState> also, Function<RunState, String> groupBy, long budget) {
        return scans.countRuns(index, this::loadRun, also, groupBy, budget);
    }

    /**
     * The usage sums of {@code kind}'s (runs' or rooms') partitions on this instance that {@code query} counts.
     *
     * @param budget the most store entries looked at, over all partitions
     * @throws TooMuchToCount when there are more, or more groups than {@link UsageQuery#MAX_GROUPS}
     */
    public UsageQuery.Sums usage(EntityKind<?, ?> kind, UsageQuery query, long budget) {
        return scans.usage(kind, query, budget);
    }

    /**
     * What {@code policy} (enabled or not) would delete at {@code now} of this instance's partitions, counting only
     * entities of projects {@code reachable} passes: a dry run of a retention policy, the same test the fold applies.
     *
     * @param sample the most ids the plan lists (the first by id)
     * @param budget the most index entries looked at, over all partitions
     * @throws TooMuchToCount when there are more
     */
    public RetentionPlan retentionPlan(
            RetentionPolicy policy, Instant now, Predicate<String> reachable, int sample, long budget) {
        if (policy.applies() == RetentionPolicy.Applies.runs) {
            return scans.plan(
                    policy,
                    now,
                    this::loadRun,
                    run -> reachable.test(run.getProject()) && policy.appliesTo(run, now),
                    RunState::getProject,
                    sample,
                    budget);
        }
        return scans.plan(
                policy,
                now,
                id -> room(id).orElse(null),
                room -> reachable.test(room.getProject()) && policy.appliesTo(room, now),
                RoomState::getProject,
                sample,
                budget);
    }

    private RunState loadRun(String runId) {
        return run(runId).orElse(null);
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
            this("the count would look at more than " + budget + " runs (query.count.budget); narrow it with filters");
        }

        TooMuchToCount(String message) {
            super(message);
        }
    }

    /** Rooms that {@code filter} selects, by id, each also passing {@code also}; paged as {@link #runs}. */
    public Page<RoomState> rooms(Filter filter, Predicate<RoomState> also, String cursor, int limit) {
        Page<RoomState> page = filter.index == null
                ? scans.all(EntityKind.ROOM, StoreNames.ROOMS, also, cursor, limit)
                : scans.indexed(
                        EntityKind.ROOM, filter.index, filter.value, id -> room(id).orElse(null), also, cursor, limit);
        if (opener == ContentOpener.NONE) {
            return page;
        }
        return new Page<>(
                page.items().stream()
                        .map(room -> opener.open(EntityKind.ROOM, room.getRoomId(), room))
                        .toList(),
                page.keys(),
                page.more(),
                page.partitions(),
                page.scannedTo(),
                page.scanned());
    }

    /** Artifacts that {@code filter} selects, by id, each also passing {@code also}; paged as {@link #runs}. */
    public Page<ArtifactState> artifacts(Filter filter, Predicate<ArtifactState> also, String cursor, int limit) {
        if (filter.index == null) {
            return scans.all(EntityKind.ARTIFACT, StoreNames.ARTIFACTS, also, cursor, limit);
        }
        return scans.indexed(
                EntityKind.ARTIFACT,
                filter.index,
                filter.value,
                id -> artifact(id).orElse(null),
                also,
                cursor,
                limit);
    }

    /**
     * The most entries one list request looks at in one partition's store by default ({@code query.scan.budget}):
     * a filter that few entries pass (a non-member's room list, a {@code parentRunId} filter) answers with what it
     * found so far and a cursor to go on from, rather than scanning a whole store in one request.
     */
    public static final int SCAN_BUDGET = 5_000;

    /** The fold's decision about event {@code eventId} of the entity {@code entityId}, if it has made one. */
    public Optional<EventOutcome> outcome(EntityKind<?, ?> entity, String entityId, String eventId) {
        return Optional.ofNullable(keys.get(entity, StoreNames.outcomeStore(entity), entityId, eventId));
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
}
