package dev.substrate.streams.internal;

import dev.substrate.entity.EntityKind;
import java.util.List;

/**
 * The name of every state store of the fold. The names are part of the application's identity: each store's
 * changelog topic is {@code <application.id>-<store>-changelog}, so a name never changes across upgrades.
 *
 * <p>Index stores ({@link #REBUILT}) are neither logged nor cached, so that the fold writes no changelog record for
 * them: each processor fills them again from its state stores when it starts ({@code FoldProcessor#init}), unless
 * its task closed cleanly here and nothing changed those stores since ({@code IndexMarker}).
 *
 * <p>Index stores map {@code <value>\0<id>} (or {@code <value>\0<updated-at millis, 13 digits>\0<id>} where the
 * order is by last update) to the id; a prefix scan answers a query such as "runs whose status is waiting".
 */
public final class StoreNames {

    /** runId -> RunState. */
    public static final String RUNS = "runs";
    /** {@code runId/version (19 digits)} -> the applied RunEvent. */
    public static final String RUN_HISTORY = "run-history";
    /** {@code status\0updatedAt\0runId} -> runId. */
    public static final String RUNS_BY_STATUS = "runs-by-status";
    /** {@code project\0updatedAt\0runId} -> runId. */
    public static final String RUNS_BY_PROJECT = "runs-by-project";
    /** {@code key=value\0updatedAt\0runId} -> runId. */
    public static final String RUNS_BY_LABEL = "runs-by-label";
    /** {@code createdAt (13 digits)\0runId} -> runId: every run by creation time. */
    public static final String RUNS_BY_CREATED = "runs-by-created";
    /** eventId -> EventOutcome, for run events. */
    public static final String RUN_EVENT_OUTCOMES = "run-event-outcomes";
    /** {@code decidedAt\0eventId} -> eventId: expires run outcomes. */
    public static final String RUN_EVENT_OUTCOMES_BY_TIME = "run-event-outcomes-by-time";

    /** roomId -> RoomState. */
    public static final String ROOMS = "rooms";
    /** {@code roomId/offset (19 digits)} -> TranscriptEntry. */
    public static final String ROOM_TRANSCRIPT = "room-transcript";
    /**
     * {@code roomId/blockOffset (19 digits)/part (10 digits)} -> the text of one part of a long block (see {@code
     * TranscriptEntry.parts}).
     */
    public static final String ROOM_BLOCK_PARTS = "room-block-parts";
    /** {@code kind\0roomId} -> roomId. */
    public static final String ROOMS_BY_KIND = "rooms-by-kind";
    /** {@code runId\0roomId} -> roomId. */
    public static final String ROOMS_BY_RUN = "rooms-by-run";
    /** {@code parentRoomId\0roomId} -> roomId. */
    public static final String ROOMS_BY_PARENT = "rooms-by-parent";
    /** {@code closedAt\0roomId} -> roomId, for closed session rooms awaiting cleanup. */
    public static final String CLOSED_SESSIONS = "closed-sessions";
    /** eventId -> EventOutcome, for room events. */
    public static final String ROOM_EVENT_OUTCOMES = "room-event-outcomes";
    /** {@code decidedAt\0eventId} -> eventId: expires room outcomes. */
    public static final String ROOM_EVENT_OUTCOMES_BY_TIME = "room-event-outcomes-by-time";

    /** artifactId -> ArtifactState. */
    public static final String ARTIFACTS = "artifacts";
    /** {@code parentId\0artifactId} -> artifactId. */
    public static final String ARTIFACTS_BY_PARENT = "artifacts-by-parent";
    /** {@code runId\0artifactId} -> artifactId. */
    public static final String ARTIFACTS_BY_RUN = "artifacts-by-run";
    /** {@code roomId\0artifactId} -> artifactId. */
    public static final String ARTIFACTS_BY_ROOM = "artifacts-by-room";
    /** eventId -> EventOutcome, for artifact events. */
    public static final String ARTIFACT_EVENT_OUTCOMES = "artifact-event-outcomes";
    /** {@code decidedAt\0eventId} -> eventId: expires artifact outcomes. */
    public static final String ARTIFACT_EVENT_OUTCOMES_BY_TIME = "artifact-event-outcomes-by-time";

    /** The index stores, kept on local disk alone and filled again from the state stores when they may not match. */
    public static final List<String> REBUILT = List.of(
            RUNS_BY_STATUS,
            RUNS_BY_PROJECT,
            RUNS_BY_LABEL,
            RUNS_BY_CREATED,
            RUN_EVENT_OUTCOMES_BY_TIME,
            ROOMS_BY_KIND,
            ROOMS_BY_RUN,
            ROOMS_BY_PARENT,
            ROOM_EVENT_OUTCOMES_BY_TIME,
            ARTIFACTS_BY_PARENT,
            ARTIFACTS_BY_RUN,
            ARTIFACTS_BY_ROOM,
            ARTIFACT_EVENT_OUTCOMES_BY_TIME);

    /** Every store. */
    public static final List<String> ALL = List.of(
            RUNS,
            RUN_HISTORY,
            RUNS_BY_STATUS,
            RUNS_BY_PROJECT,
            RUNS_BY_LABEL,
            RUNS_BY_CREATED,
            RUN_EVENT_OUTCOMES,
            RUN_EVENT_OUTCOMES_BY_TIME,
            ROOMS,
            ROOM_TRANSCRIPT,
            ROOM_BLOCK_PARTS,
            ROOMS_BY_KIND,
            ROOMS_BY_RUN,
            ROOMS_BY_PARENT,
            CLOSED_SESSIONS,
            ROOM_EVENT_OUTCOMES,
            ROOM_EVENT_OUTCOMES_BY_TIME,
            ARTIFACTS,
            ARTIFACTS_BY_PARENT,
            ARTIFACTS_BY_RUN,
            ARTIFACTS_BY_ROOM,
            ARTIFACT_EVENT_OUTCOMES,
            ARTIFACT_EVENT_OUTCOMES_BY_TIME);

    /** The stores with a changelog: every store but the {@link #REBUILT} ones. */
    public static final List<String> LOGGED =
            ALL.stream().filter(store -> !REBUILT.contains(store)).toList();

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

    /** The store that expires {@code kind}'s outcomes: {@code decidedAt\0eventId} -> eventId. */
    public static String outcomeExpiryStore(EntityKind<?, ?> kind) {
        return kind == EntityKind.RUN
                ? RUN_EVENT_OUTCOMES_BY_TIME
                : kind == EntityKind.ROOM ? ROOM_EVENT_OUTCOMES_BY_TIME : ARTIFACT_EVENT_OUTCOMES_BY_TIME;
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
