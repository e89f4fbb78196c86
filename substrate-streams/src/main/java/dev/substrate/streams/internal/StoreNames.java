package dev.substrate.streams.internal;

import dev.substrate.entity.EntityKind;
import java.util.List;

/**
 * The name of every state store of the fold, and of every index inside its index stores. The names are part of the
 * application's identity: each logged store's changelog topic is {@code <application.id>-<store>-changelog}, so a
 * name never changes across upgrades.
 *
 * <p>Each kind keeps its indexes ({@link #INDEXES}) in one index store ({@link #REBUILT}), neither logged nor
 * cached, so that the fold writes no changelog record for them: each processor fills it again from its state stores
 * when it starts ({@code FoldProcessor#init}), unless its task closed cleanly here and nothing changed those stores
 * since ({@code IndexMarker}).
 *
 * <p>An index maps {@code <value>\0<id>} (or {@code <value>\0<updated-at millis, 13 digits>\0<id>} where the order
 * is by last update) to the id, behind its tag ({@link Index}); a prefix scan answers a query such as "runs whose
 * status is waiting".
 */
public final class StoreNames {

    /** runId -> RunState. */
    public static final String RUNS = "runs";
    /** {@code runId/version (19 digits)} -> the applied RunEvent. */
    public static final String RUN_HISTORY = "run-history";
    /** The index store of runs: every run index below, and run outcomes by time. */
    public static final String RUN_INDEXES = "run-indexes";
    /** Index {@code status\0updatedAt\0runId} -> runId. */
    public static final String RUNS_BY_STATUS = "runs-by-status";
    /** Index {@code project\0updatedAt\0runId} -> runId. */
    public static final String RUNS_BY_PROJECT = "runs-by-project";
    /** Index {@code key=value\0updatedAt\0runId} -> runId. */
    public static final String RUNS_BY_LABEL = "runs-by-label";
    /** Index {@code createdAt (13 digits)\0runId} -> runId: every run by creation time. */
    public static final String RUNS_BY_CREATED = "runs-by-created";
    /** eventId -> EventOutcome, for run events. */
    public static final String RUN_EVENT_OUTCOMES = "run-event-outcomes";
    /** Index {@code \0decidedAt\0eventId} -> eventId: expires run outcomes. */
    public static final String RUN_EVENT_OUTCOMES_BY_TIME = "run-event-outcomes-by-time";

    /**
     * {@code project\0day\0model\0runId} -> UsageTotal: the usage run events carried, summed per partition (a
     * query adds up every partition's sums). The day is the event's UTC date, {@code yyyy-MM-dd}.
     */
    public static final String RUN_USAGE = "run-usage";

    /** roomId -> RoomState. */
    public static final String ROOMS = "rooms";
    /** {@code roomId/offset (19 digits)} -> TranscriptEntry. */
    public static final String ROOM_TRANSCRIPT = "room-transcript";
    /**
     * {@code roomId/blockOffset (19 digits)/part (10 digits)} -> the text of one part of a long block (see {@code
     * TranscriptEntry.parts}).
     */
    public static final String ROOM_BLOCK_PARTS = "room-block-parts";
    /** The index store of rooms: every room index below, and room outcomes by time. */
    public static final String ROOM_INDEXES = "room-indexes";
    /** Index {@code kind\0roomId} -> roomId. */
    public static final String ROOMS_BY_KIND = "rooms-by-kind";
    /** Index {@code runId\0roomId} -> roomId. */
    public static final String ROOMS_BY_RUN = "rooms-by-run";
    /** Index {@code parentRoomId\0roomId} -> roomId. */
    public static final String ROOMS_BY_PARENT = "rooms-by-parent";
    /** Index {@code closedAt (13 digits)\0roomId} -> roomId: every closed room by closing time (retention). */
    public static final String ROOMS_BY_CLOSED = "rooms-by-closed";
    /** {@code closedAt\0roomId} -> roomId, for closed session rooms awaiting cleanup. */
    public static final String CLOSED_SESSIONS = "closed-sessions";
    /** eventId -> EventOutcome, for room events. */
    public static final String ROOM_EVENT_OUTCOMES = "room-event-outcomes";
    /** Index {@code \0decidedAt\0eventId} -> eventId: expires room outcomes. */
    public static final String ROOM_EVENT_OUTCOMES_BY_TIME = "room-event-outcomes-by-time";

    /**
     * {@code project\0day\0model\0runId} -> UsageTotal: the usage room events carried (runId is the room's run, empty
     * for a room of none), summed per partition.
     */
    public static final String ROOM_USAGE = "room-usage";

    /** artifactId -> ArtifactState. */
    public static final String ARTIFACTS = "artifacts";
    /** The index store of artifacts: every artifact index below, and artifact outcomes by time. */
    public static final String ARTIFACT_INDEXES = "artifact-indexes";
    /** Index {@code parentId\0artifactId} -> artifactId. */
    public static final String ARTIFACTS_BY_PARENT = "artifacts-by-parent";
    /** Index {@code runId\0artifactId} -> artifactId. */
    public static final String ARTIFACTS_BY_RUN = "artifacts-by-run";
    /** Index {@code roomId\0artifactId} -> artifactId. */
    public static final String ARTIFACTS_BY_ROOM = "artifacts-by-room";
    /** eventId -> EventOutcome, for artifact events. */
    public static final String ARTIFACT_EVENT_OUTCOMES = "artifact-event-outcomes";
    /** Index {@code \0decidedAt\0eventId} -> eventId: expires artifact outcomes. */
    public static final String ARTIFACT_EVENT_OUTCOMES_BY_TIME = "artifact-event-outcomes-by-time";

    /** Every index, in its kind's index store, with its tag. */
    public static final List<Index> INDEXES = List.of(
            new Index(RUNS_BY_STATUS, RUN_INDEXES, 's'),
            new Index(RUNS_BY_PROJECT, RUN_INDEXES, 'p'),
            new Index(RUNS_BY_LABEL, RUN_INDEXES, 'l'),
            new Index(RUNS_BY_CREATED, RUN_INDEXES, 'c'),
            new Index(RUN_EVENT_OUTCOMES_BY_TIME, RUN_INDEXES, 'o'),
            new Index(ROOMS_BY_KIND, ROOM_INDEXES, 'k'),
            new Index(ROOMS_BY_RUN, ROOM_INDEXES, 'r'),
            new Index(ROOMS_BY_PARENT, ROOM_INDEXES, 'p'),
            new Index(ROOMS_BY_CLOSED, ROOM_INDEXES, 'c'),
            new Index(ROOM_EVENT_OUTCOMES_BY_TIME, ROOM_INDEXES, 'o'),
            new Index(ARTIFACTS_BY_PARENT, ARTIFACT_INDEXES, 'p'),
            new Index(ARTIFACTS_BY_RUN, ARTIFACT_INDEXES, 'r'),
            new Index(ARTIFACTS_BY_ROOM, ARTIFACT_INDEXES, 'm'),
            new Index(ARTIFACT_EVENT_OUTCOMES_BY_TIME, ARTIFACT_INDEXES, 'o'));

    /** The index stores, kept on local disk alone and filled again from the state stores when they may not match. */
    public static final List<String> REBUILT = List.of(RUN_INDEXES, ROOM_INDEXES, ARTIFACT_INDEXES);

    /** Every store. */
    public static final List<String> ALL = List.of(
            RUNS,
            RUN_HISTORY,
            RUN_EVENT_OUTCOMES,
            RUN_INDEXES,
            RUN_USAGE,
            ROOMS,
            ROOM_TRANSCRIPT,
            ROOM_BLOCK_PARTS,
            CLOSED_SESSIONS,
            ROOM_EVENT_OUTCOMES,
            ROOM_INDEXES,
            ROOM_USAGE,
            ARTIFACTS,
            ARTIFACT_EVENT_OUTCOMES,
            ARTIFACT_INDEXES);

    /** The stores with a changelog: every store but the {@link #REBUILT} ones. */
    public static final List<String> LOGGED =
            ALL.stream().filter(store -> !REBUILT.contains(store)).toList();

    /** The index named {@code name} ({@link #RUNS_BY_STATUS} ...). */
    public static Index index(String name) {
        return INDEXES.stream()
                .filter(index -> index.name().equals(name))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no index " + name));
    }

    /** The indexes of the index store {@code store}. */
    public static List<Index> indexesIn(String store) {
        return INDEXES.stream().filter(index -> index.store().equals(store)).toList();
    }

    /** The store that holds {@code kind}'s indexes. */
    public static String indexStore(EntityKind<?, ?> kind) {
        return kind == EntityKind.RUN ? RUN_INDEXES : kind == EntityKind.ROOM ? ROOM_INDEXES : ARTIFACT_INDEXES;
    }

    /** The store of {@code kind}'s current state, keyed by entity id. */
    public static String stateStore(EntityKind<?, ?> kind) {
        return kind == EntityKind.RUN ? RUNS : kind == EntityKind.ROOM ? ROOMS : ARTIFACTS;
    }

    /** The store of the fold's decisions about {@code kind}'s events, keyed by event id; written for every record. */
    public static String outcomeStore(EntityKind<?, ?> kind) {
        return kind == EntityKind.RUN
                ? RUN_EVENT_OUTCOMES
                : kind == EntityKind.ROOM ? ROOM_EVENT_OUTCOMES : ARTIFACT_EVENT_OUTCOMES;
    }

    /** The index that expires {@code kind}'s outcomes: {@code \0decidedAt\0eventId} -> eventId. */
    public static String outcomeExpiryIndex(EntityKind<?, ?> kind) {
        return kind == EntityKind.RUN
                ? RUN_EVENT_OUTCOMES_BY_TIME
                : kind == EntityKind.ROOM ? ROOM_EVENT_OUTCOMES_BY_TIME : ARTIFACT_EVENT_OUTCOMES_BY_TIME;
    }

    /** The store of the usage {@code kind}'s events carried (runs and rooms only). */
    public static String usageStore(EntityKind<?, ?> kind) {
        if (kind == EntityKind.ARTIFACT) {
            throw new IllegalArgumentException("artifact events carry no usage");
        }
        return kind == EntityKind.RUN ? RUN_USAGE : ROOM_USAGE;
    }

    /** {@code project\0day\0model\0runId}: a usage store's key. */
    public static String usageKey(String project, String day, String model, String runId) {
        return project + SEPARATOR + day + SEPARATOR + model + SEPARATOR + runId;
    }

    /** The separator inside index keys: below every character an id or value may hold. */
    public static final char SEPARATOR = '\0';

    private StoreNames() {}

    /** {@code value\0id}. */
    public static String indexKey(String value, String id) {
        return value + SEPARATOR + id;
    }

    /** {@code value\0millis(13 digits)\0id}: ordered by time within a value. */
    public static String timeIndexKey(String value, long millis, String id) {
        return value + SEPARATOR + timeKey(millis, id);
    }

    /** {@code millis(13 digits)\0id}: the order of a time index within one value, and of a run list's pages. */
    public static String timeKey(long millis, String id) {
        return zeroPadded(millis, 13) + SEPARATOR + id;
    }

    /** The prefix shared by every index key of {@code value}. */
    public static String indexPrefix(String value) {
        return value + SEPARATOR;
    }

    /** {@code roomId/blockOffset(19 digits)/part(10 digits)}: a block's parts in order. */
    public static String partKey(String roomId, long blockOffset, int part) {
        return partPrefix(roomId, blockOffset) + zeroPadded(part, 10);
    }

    /** The prefix of every part key of the block at {@code blockOffset}. */
    public static String partPrefix(String roomId, long blockOffset) {
        return sequenceKey(roomId, blockOffset) + "/";
    }

    /** {@code id/number(19 digits)}: ordered by number within an id. */
    public static String sequenceKey(String id, long number) {
        return id + "/" + zeroPadded(number, 19);
    }

    /**
     * {@code number} (0 or more) in at least {@code width} digits, zeros in front: as {@code String.format("%0Nd")},
     * which costs several times more and runs for every key the fold writes.
     */
    public static String zeroPadded(long number, int width) {
        String digits = Long.toString(number);
        if (number < 0 || digits.length() >= width) {
            return number < 0 ? String.format("%0" + width + "d", number) : digits;
        }
        return "0".repeat(width - digits.length()) + digits;
    }
}
