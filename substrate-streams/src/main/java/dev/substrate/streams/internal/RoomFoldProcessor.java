package dev.substrate.streams.internal;

import dev.substrate.entity.EntityKind;
import dev.substrate.event.WireCodec;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.events.room.RoomKind;
import dev.substrate.fold.BlockPart;
import dev.substrate.fold.Decision;
import dev.substrate.fold.FoldStep;
import dev.substrate.fold.RoomChange;
import dev.substrate.fold.RoomFold;
import dev.substrate.retention.Deletions;
import dev.substrate.retention.RetentionPolicies;
import dev.substrate.retention.RetentionPolicy;
import dev.substrate.state.EventOutcome;
import dev.substrate.state.RoomState;
import dev.substrate.state.TranscriptEntry;
import dev.substrate.streams.FoldSettings;
import dev.substrate.streams.RoomMembership;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Folds {@code substrate.room-events} into the rooms store, the transcript and the indexes, and {@code
 * substrate.rooms}; and, on the wall clock, expires closed session rooms older than the session retention by
 * appending a {@code RoomDeleted} ({@code expired}) to the room's log in the fold's own transaction: the room goes
 * when the fold reads that event back, so the log alone decides, and a rebuild from it removes the room too.
 * Conversation rooms persist.
 */
final class RoomFoldProcessor extends FoldProcessor<RoomEvent, RoomChange> {

    private final Duration sessionRetention;
    private final Duration cleanupInterval;
    private final boolean appendsExpiry;
    private KeyValueStore<String, RoomState> rooms;
    /** Rooms read and written through the states this task wrote lately. */
    private RecentStates<RoomState> states;
    /** The entity's state as {@link #decide} read it: what {@link #applyChange} changes, not read twice. */
    private RoomState current;

    private KeyValueStore<String, TranscriptEntry> transcript;
    private KeyValueStore<String, String> parts;
    private WritableIndex byKind;
    private WritableIndex byRun;
    private WritableIndex byParent;
    private WritableIndex byClosed;
    private RetentionCheck retention;
    private KeyValueStore<String, String> closedSessions;
    private UsageRollup usage;
    /** The memberships of the rooms this instance holds, which this processor keeps for the append door. */
    private final RoomMemberships memberships;
    /** This task's partition of the room log. */
    private int partition;

    /**
     * @param appendsExpiry whether this fold appends expiry events to the log (not when it rebuilds from a log that
     *     another fold writes)
     */
    RoomFoldProcessor(
            FoldStep step,
            Duration outcomeRetention,
            Duration sessionRetention,
            Duration cleanupInterval,
            boolean appendsExpiry,
            FoldSettings settings,
            RoomMemberships memberships) {
        super(EntityKind.ROOM, step, outcomeRetention, settings);
        this.memberships = memberships;
        this.sessionRetention = sessionRetention;
        this.cleanupInterval = cleanupInterval;
        this.appendsExpiry = appendsExpiry;
    }

    @Override
    public void init(ProcessorContext<String, byte[]> context) {
        super.init(context);
        rooms = context.getStateStore(StoreNames.ROOMS);
        usage = new UsageRollup(context, StoreNames.ROOM_USAGE);
        partition = context.taskId().partition();
        memberships.forget(partition);
        states = new RecentStates<>(rooms, WireCodec.ROOM_STATE::measuredSize);
        StateTopicOnFlush.attach(
                context,
                rooms,
                FoldTopology.ROOMS_SINK,
                state -> wire.encode(topics.rooms().name(), WireCodec.ROOM_STATE, state));
        transcript = context.getStateStore(StoreNames.ROOM_TRANSCRIPT);
        parts = context.getStateStore(StoreNames.ROOM_BLOCK_PARTS);
        byKind = index(StoreNames.ROOMS_BY_KIND);
        byRun = index(StoreNames.ROOMS_BY_RUN);
        byParent = index(StoreNames.ROOMS_BY_PARENT);
        byClosed = index(StoreNames.ROOMS_BY_CLOSED);
        closedSessions = context.getStateStore(StoreNames.CLOSED_SESSIONS);
        if (!indexesKept()) {
            try (IndexRebuild rebuild = new IndexRebuild();
                    KeyValueIterator<String, RoomState> all = rooms.all()) {
                all.forEachRemaining(entry -> {
                    indexValues(entry.value).forEach((index, value) -> rebuildIndex(rebuild, index, value, entry.key));
                    if (entry.value.getClosedAt() != null) {
                        rebuild.put(byClosed, closedKey(entry.value), entry.key);
                    }
                });
            }
        }
        if (appendsExpiry) {
            context.schedule(cleanupInterval, PunctuationType.WALL_CLOCK_TIME, this::expireSessions);
        }
        retention = new RetentionCheck(context);
        retention.schedule(context, this::applyRetention);
    }

    @Override
    public void close() {
        memberships.forget(partition);
        super.close();
    }

    @Override
    Decision<RoomChange> decide(String key, RoomEvent event, long offset, EventOutcome previous, Instant time) {
        current = states.get(event.getRoomId());
        return step.room(key, current, event, offset, previous, time);
    }

    @Override
    Long applyChange(RoomEvent event, RoomChange change, Record<String, RoomEvent> record) {
        String roomId = event.getRoomId();
        RoomState before = current;
        RoomState holder = change.state() == null ? before : change.state();
        usage.add(holder.getProject(), holder.getRunId(), event.getOccurredAt(), event.getUsage());
        if (change.state() == null) {
            remove(before);
            return null;
        }
        RoomState state = change.state();
        if (before == null) {
            index(state, true);
        }
        for (BlockPart part : change.partsPut()) {
            parts.put(StoreNames.partKey(roomId, part.blockOffset(), part.index()), part.requireText());
        }
        for (BlockPart part : change.partsRemoved()) {
            parts.delete(StoreNames.partKey(roomId, part.blockOffset(), part.index()));
        }
        for (TranscriptEntry entry : change.entriesPut()) {
            transcript.put(StoreNames.sequenceKey(roomId, entry.getOffset()), entry);
        }
        for (Long offset : change.entriesRemoved()) {
            TranscriptEntry removed = transcript.delete(StoreNames.sequenceKey(roomId, offset));
            for (int part = 0; removed != null && part < removed.getParts(); part++) {
                parts.delete(StoreNames.partKey(roomId, offset, part));
            }
        }
        if (state.getKind() == RoomKind.session && state.getClosed() && (before == null || !before.getClosed())) {
            closedSessions.put(closedSessionKey(state), roomId);
        }
        if (state.getClosedAt() != null && (before == null || before.getClosedAt() == null)) {
            byClosed.put(closedKey(state), roomId);
        }
        if (!topics.rebuild()) {
            Notifications.room(context, event, state, record.timestamp());
        }
        boolean membershipChanges = before == null
                || !before.getMembers().equals(state.getMembers())
                || !Objects.equals(before.getProject(), state.getProject());
        if (membershipChanges) {
            memberships.changing(roomId);
        }
        states.put(roomId, state);
        if (membershipChanges) {
            memberships.changed(partition, roomId, Optional.of(RoomMembership.of(state)));
        }
        return state.getVersion();
    }

    /** Removes a room: its state (its state topic gets a tombstone when the cache flushes), transcript and index entries. */
    private void remove(RoomState room) {
        if (room == null) {
            return;
        }
        String roomId = room.getRoomId();
        index(room, false);
        if (room.getClosedAt() != null) {
            closedSessions.delete(closedSessionKey(room));
            byClosed.delete(closedKey(room));
        }
        retention.deleted(roomId);
        deletePrefix(transcript, roomId + "/");
        deletePrefix(parts, roomId + "/");
        memberships.changing(roomId);
        states.delete(roomId);
        memberships.changed(partition, roomId, Optional.empty());
    }

    /**
     * Appends the expiry of every closed session whose retention has passed; its index entry goes at once, so each
     * is appended once (in the same transaction as the append).
     */
    private void expireSessions(long wallClock) {
        Instant now = Instant.ofEpochMilli(wallClock);
        Instant due = now.minus(sessionRetention);
        List<KeyValue<String, String>> expired = new ArrayList<>();
        try (KeyValueIterator<String, String> range =
                closedSessions.range(StoreNames.indexPrefix(""), StoreNames.timeIndexKey("", due.toEpochMilli(), ""))) {
            range.forEachRemaining(expired::add);
        }
        for (KeyValue<String, String> entry : expired) {
            closedSessions.delete(entry.key);
            RoomState room = states.get(entry.value);
            if (room != null && RoomFold.cleanupDue(room, sessionRetention) != null) {
                RoomEvent expiry = RoomFold.expiry(room, sessionRetention, now);
                context.forward(
                        new Record<String, byte[]>(
                                room.getRoomId(),
                                wire.encode(topics.roomEvents().name(), WireCodec.ROOM, expiry),
                                wallClock),
                        FoldTopology.ROOM_EVENTS_SINK);
            }
        }
    }

    /**
     * Appends the deletion of each closed room of this task that a retention policy deletes now: the rooms-by-closed
     * index, up to the youngest policy's age, in the order they closed.
     */
    private void applyRetention(Instant now) {
        RetentionPolicies policies = retention.policies();
        Instant sessions = retention.cutoff(RetentionPolicy.Applies.sessions, now);
        Instant conversations = retention.cutoff(RetentionPolicy.Applies.conversations, now);
        Instant cutoff = sessions == null
                ? conversations
                : conversations == null || sessions.isAfter(conversations) ? sessions : conversations;
        if (cutoff == null) {
            return;
        }
        long started = System.nanoTime();
        List<String> candidates = new ArrayList<>();
        try (KeyValueIterator<String, String> range =
                byClosed.range("", StoreNames.timeKey(cutoff.toEpochMilli() + 1, ""))) {
            range.forEachRemaining(entry -> candidates.add(entry.value));
        }
        int appended = 0;
        for (String roomId : candidates) {
            if (appended >= RetentionCheck.MAX_PER_CHECK) {
                break;
            }
            RoomState room = states.get(roomId);
            RetentionPolicy policy =
                    room == null ? null : policies.deleting(room, now).orElse(null);
            if (policy != null && retention.append(roomId, now)) {
                context.forward(
                        new Record<String, byte[]>(
                                roomId,
                                wire.encode(
                                        topics.roomEvents().name(), WireCodec.ROOM, Deletions.room(room, policy, now)),
                                now.toEpochMilli()),
                        FoldTopology.ROOM_EVENTS_SINK);
                appended++;
            }
        }
        RetentionCheck.report(context.taskId(), "rooms", appended, candidates.size(), started);
    }

    private static String closedKey(RoomState room) {
        return StoreNames.timeKey(room.getClosedAt().toEpochMilli(), room.getRoomId());
    }

    private static String closedSessionKey(RoomState room) {
        return StoreNames.timeIndexKey("", room.getClosedAt().toEpochMilli(), room.getRoomId());
    }

    /** Adds or removes the room's index entries; kind, run and parent never change after creation. */
    private void index(RoomState room, boolean add) {
        indexValues(room).forEach((index, value) -> updateIndex(index, value, room.getRoomId(), add));
    }

    /** The value {@code room} has in each index store (null: none). */
    private Map<WritableIndex, String> indexValues(RoomState room) {
        Map<WritableIndex, String> values = new LinkedHashMap<>();
        values.put(byKind, room.getKind().name());
        values.put(byRun, room.getRunId());
        values.put(byParent, room.getParentRoomId());
        return values;
    }
}
