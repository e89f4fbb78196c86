package dev.substrate.fold;

import dev.substrate.event.EventValidator;
import dev.substrate.events.room.BlockCompleted;
import dev.substrate.events.room.BlockStarted;
import dev.substrate.events.room.BlockUpdated;
import dev.substrate.events.room.EnvironmentStatus;
import dev.substrate.events.room.ErrorRaised;
import dev.substrate.events.room.LogEmitted;
import dev.substrate.events.room.Member;
import dev.substrate.events.room.MemberGranted;
import dev.substrate.events.room.MemberRevoked;
import dev.substrate.events.room.MetadataUpdated;
import dev.substrate.events.room.RoomClosed;
import dev.substrate.events.room.RoomCreated;
import dev.substrate.events.room.RoomDeleted;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.events.room.RoomRole;
import dev.substrate.events.room.StatusChanged;
import dev.substrate.events.room.StreamMode;
import dev.substrate.events.room.TextDelta;
import dev.substrate.events.room.TurnEnded;
import dev.substrate.events.room.TurnStarted;
import dev.substrate.state.ActiveTurn;
import dev.substrate.state.EntryKind;
import dev.substrate.state.ExecutionEnvironment;
import dev.substrate.state.OpenBlock;
import dev.substrate.state.RoomCounters;
import dev.substrate.state.RoomState;
import dev.substrate.state.TranscriptEntry;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The room rules, as a pure function of the current state, one event and its offset: membership and roles,
 * open and closed, who may append, the runtime state (execution environment, active turn), and the transcript
 * (deltas assembled into their block when it completes; turns and execution events kept as entries; a
 * lightweight room keeps its last {@value #LIGHTWEIGHT_ENTRIES} entries).
 */
public final class RoomFold {

    /** How many transcript entries a lightweight room keeps. */
    public static final int LIGHTWEIGHT_ENTRIES = 100;

    private static final Set<EnvironmentStatus> STARTED_BEFORE =
            EnumSet.of(EnvironmentStatus.ready, EnvironmentStatus.error, EnvironmentStatus.terminated);

    private RoomFold() {}

    /**
     * Decides one event, with the default limits for events of up to 1 MiB.
     *
     * @param current the room before the event; null if it does not exist
     * @param event a valid event (see {@link dev.substrate.event.EventValidator})
     * @param offset the event's offset in its partition of the room log
     */
    public static Decision<RoomChange> apply(RoomState current, RoomEvent event, long offset) {
        return apply(current, event, offset, FoldLimits.of(EventValidator.DEFAULT_MAX_EVENT_BYTES));
    }

    /**
     * Decides one event; a block's text is kept in parts of at most {@code limits.blockPartBytes()}.
     *
     * @param current the room before the event; null if it does not exist
     * @param event a valid event (see {@link dev.substrate.event.EventValidator})
     * @param offset the event's offset in its partition of the room log
     */
    public static Decision<RoomChange> apply(RoomState current, RoomEvent event, long offset, FoldLimits limits) {
        Object payload = event.getPayload();
        if (current == null) {
            if (payload instanceof RoomCreated created) {
                if (event.getExpectedVersion() != null && event.getExpectedVersion() != 0) {
                    return versionConflict(0, event.getExpectedVersion());
                }
                return Decision.applied(new RoomChange(create(event, created, offset), List.of(), List.of(), false));
            }
            return Decision.rejected(
                    Reason.NOT_FOUND,
                    "room " + event.getRoomId() + " does not exist; " + type(payload) + " needs a RoomCreated first");
        }
        if (payload instanceof RoomCreated) {
            return Decision.rejected(Reason.ALREADY_EXISTS, "room " + event.getRoomId() + " already exists");
        }
        if (event.getExpectedVersion() != null && event.getExpectedVersion() != current.getVersion()) {
            return versionConflict(current.getVersion(), event.getExpectedVersion());
        }
        if (current.getClosed() && !(payload instanceof RoomDeleted)) {
            return Decision.rejected(
                    Reason.ROOM_CLOSED, "room " + event.getRoomId() + " is closed; " + type(payload) + " refused");
        }
        Decision<RoomChange> refused = checkPermission(current, event.getActor(), payload);
        if (refused != null) {
            return refused;
        }
        if (payload instanceof RoomDeleted) {
            return Decision.applied(new RoomChange(null, List.of(), List.of(), true));
        }
        return new Step(current, event, offset, limits).apply(payload);
    }

    private static Decision<RoomChange> checkPermission(RoomState room, String actor, Object payload) {
        return refusal(room.getMembers(), actor, payload)
                .map(message -> Decision.<RoomChange>rejected(Reason.NOT_PERMITTED, message))
                .orElse(null);
    }

    /**
     * A room's execution environment after {@code event}: a {@code StatusChanged} sets its status, message and
     * health-check time (a restart counted when it goes back to {@code starting} after having started; an {@code
     * error} status's message kept as the last error); an {@code ErrorRaised} sets the last error as {@code code:
     * message}; any other event leaves it. The fold's rule, which the live views that show the environment share.
     */
    public static ExecutionEnvironment environmentAfter(ExecutionEnvironment before, RoomEvent event) {
        Object payload = event.getPayload();
        if (payload instanceof StatusChanged changed) {
            ExecutionEnvironment.Builder environment = ExecutionEnvironment.newBuilder(before)
                    .setStatus(changed.getStatus())
                    .setStatusMessage(changed.getMessage())
                    .setLastHealthCheck(event.getOccurredAt());
            if (changed.getStatus() == EnvironmentStatus.starting && STARTED_BEFORE.contains(before.getStatus())) {
                environment.setRestartCount(before.getRestartCount() + 1);
            }
            if (changed.getStatus() == EnvironmentStatus.error && changed.getMessage() != null) {
                environment.setLastError(changed.getMessage());
            }
            return environment.build();
        }
        if (payload instanceof ErrorRaised error) {
            return ExecutionEnvironment.newBuilder(before)
                    .setLastError(error.getCode() + ": " + error.getMessage())
                    .build();
        }
        return before;
    }

    /**
     * Why {@code actor} may not append {@code payload} to a room with {@code members}, or empty when it may:
     * owners grant, revoke, close and delete; writers and owners append everything else; a room without members,
     * or an event without an actor, is not checked. The HTTP API asks this before an append reaches the log; the
     * fold asks it again for every event, however it was written.
     */
    public static Optional<String> refusal(Map<String, RoomRole> members, String actor, Object payload) {
        if (actor == null || members.isEmpty()) {
            return Optional.empty();
        }
        RoomRole role = members.get(actor);
        boolean membership = payload instanceof MemberGranted
                || payload instanceof MemberRevoked
                || payload instanceof RoomClosed
                || payload instanceof RoomDeleted;
        if (membership) {
            return role == RoomRole.owner
                    ? Optional.empty()
                    : Optional.of(actor + " is not an owner of the room; " + type(payload) + " refused");
        }
        return role == RoomRole.owner || role == RoomRole.writer
                ? Optional.empty()
                : Optional.of(actor + " is " + (role == null ? "not a member" : "a " + role)
                        + " of the room; appends need writer or owner");
    }

    private static RoomState create(RoomEvent event, RoomCreated created, long offset) {
        Map<String, RoomRole> members = new HashMap<>();
        for (Member member : created.getMembers()) {
            members.put(member.getPrincipal(), member.getRole());
        }
        return RoomState.newBuilder()
                .setRoomId(event.getRoomId())
                .setVersion(1)
                .setKind(created.getKind())
                .setProject(created.getProject())
                .setParentRoomId(created.getParentRoomId())
                .setRunId(created.getRunId())
                .setStream(created.getStream())
                .setTitle(created.getTitle())
                .setMembers(members)
                .setEnvironment(ExecutionEnvironment.newBuilder().build())
                .setCounters(RoomCounters.newBuilder().setEvents(1).build())
                .setFirstOffset(offset)
                .setLastOffset(offset)
                .setCreatedAt(event.getOccurredAt())
                .setUpdatedAt(event.getOccurredAt())
                .setLastEventId(event.getEventId())
                .setUsage(UsageTotals.add(List.of(), event.getUsage()))
                .build();
    }

    /** One applied (or refused) step, with the builders of everything it may change. */
    private static final class Step {
        private final RoomState current;
        private final RoomEvent event;
        private final long offset;
        private final int partBytes;
        private final long blockMaxBytes;
        private final RoomState.Builder next;
        private final RoomCounters.Builder counters;
        private final List<TranscriptEntry> put = new ArrayList<>();
        private final List<BlockPart> partsPut = new ArrayList<>();
        private final List<BlockPart> partsRemoved = new ArrayList<>();

        Step(RoomState current, RoomEvent event, long offset, FoldLimits limits) {
            this.current = current;
            this.event = event;
            this.offset = offset;
            this.partBytes = limits.blockPartBytes();
            this.blockMaxBytes = limits.blockMaxBytes();
            this.next = RoomState.newBuilder(current);
            this.counters = RoomCounters.newBuilder(current.getCounters());
        }

        Decision<RoomChange> apply(Object payload) {
            Decision<RoomChange> refused = change(payload);
            if (refused != null) {
                return refused;
            }
            counters.setEvents(counters.getEvents() + 1);
            List<Long> removed = keepLastEntries();
            RoomState state = next.setVersion(current.getVersion() + 1)
                    .setCounters(counters.build())
                    .setLastOffset(offset)
                    .setUpdatedAt(event.getOccurredAt())
                    .setLastEventId(event.getEventId())
                    .setUsage(UsageTotals.add(current.getUsage(), event.getUsage()))
                    .build();
            return Decision.applied(new RoomChange(state, put, removed, partsPut, partsRemoved, false));
        }

        /** Applies the payload to the builders; returns a refusal, or null when applied. */
        private Decision<RoomChange> change(Object payload) {
            if (payload instanceof MemberGranted granted) {
                Map<String, RoomRole> members = new HashMap<>(current.getMembers());
                members.put(
                        granted.getMember().getPrincipal(), granted.getMember().getRole());
                next.setMembers(members);
            } else if (payload instanceof MemberRevoked revoked) {
                if (!current.getMembers().containsKey(revoked.getPrincipal())) {
                    return Decision.rejected(
                            Reason.NOT_A_MEMBER, revoked.getPrincipal() + " is not a member of the room");
                }
                Map<String, RoomRole> members = new HashMap<>(current.getMembers());
                members.remove(revoked.getPrincipal());
                next.setMembers(members);
            } else if (payload instanceof RoomClosed) {
                next.setClosed(true).setClosedAt(event.getOccurredAt());
            } else if (payload instanceof TurnStarted turn) {
                if (current.getActiveTurn() != null) {
                    return Decision.rejected(
                            Reason.TURN_IN_PROGRESS,
                            "turn " + current.getActiveTurn().getTurnId() + " is still in progress");
                }
                next.setActiveTurn(new ActiveTurn(turn.getTurnId(), event.getOccurredAt(), offset));
                put.add(entry(EntryKind.turn_started, offset)
                        .setRefId(turn.getTurnId())
                        .setText(turn.getParticipant())
                        .build());
            } else if (payload instanceof TurnEnded turn) {
                ActiveTurn active = current.getActiveTurn();
                if (active == null || !active.getTurnId().equals(turn.getTurnId())) {
                    return Decision.rejected(
                            Reason.NO_SUCH_TURN,
                            "turn " + turn.getTurnId() + " is not in progress"
                                    + (active == null ? "" : " (turn " + active.getTurnId() + " is)"));
                }
                next.setActiveTurn(null);
                counters.setTurns(counters.getTurns() + 1);
                put.add(entry(EntryKind.turn_ended, offset)
                        .setRefId(turn.getTurnId())
                        .setSubtype(turn.getReason())
                        .build());
            } else if (payload instanceof BlockStarted block) {
                if (openBlock(block.getBlockId()) >= 0) {
                    return Decision.rejected(
                            Reason.BLOCK_EXISTS, "block " + block.getBlockId() + " is already open in the room");
                }
                List<OpenBlock> blocks = new ArrayList<>(current.getOpenBlocks());
                blocks.add(OpenBlock.newBuilder()
                        .setBlockId(block.getBlockId())
                        .setTurnId(block.getTurnId())
                        .setKind(block.getKind())
                        .setRole(block.getRole())
                        .setMetadata(new HashMap<>(block.getMetadata()))
                        .setStartOffset(offset)
                        .setStartedAt(event.getOccurredAt())
                        .build());
                next.setOpenBlocks(blocks);
            } else if (payload instanceof TextDelta delta) {
                int index = openBlock(delta.getBlockId());
                long deltaBytes = FoldLimits.utf8Length(delta.getText());
                if (index >= 0 && current.getOpenBlocks().get(index).getBytes() + deltaBytes > blockMaxBytes) {
                    return blockTooLarge(
                            delta.getBlockId(),
                            current.getOpenBlocks().get(index).getBytes() + deltaBytes);
                }
                return updateBlock(delta.getBlockId(), block -> appendText(block, delta.getText(), deltaBytes));
            } else if (payload instanceof BlockUpdated updated) {
                return updateBlock(updated.getBlockId(), block -> {
                    Map<String, String> metadata = new HashMap<>(block.getMetadata());
                    metadata.putAll(updated.getMetadata());
                    block.setMetadata(metadata);
                });
            } else if (payload instanceof BlockCompleted completed) {
                return completeBlock(completed);
            } else if (payload instanceof MetadataUpdated updated) {
                Map<String, String> metadata = new HashMap<>(current.getMetadata());
                metadata.putAll(updated.getMetadata());
                next.setMetadata(metadata);
                put.add(entry(EntryKind.metadata, offset)
                        .setMetadata(updated.getMetadata())
                        .build());
            } else if (payload instanceof StatusChanged changed) {
                next.setEnvironment(environmentAfter(current.getEnvironment(), event));
                put.add(entry(EntryKind.status, offset)
                        .setSubtype(changed.getStatus().name())
                        .setText(changed.getMessage())
                        .build());
            } else if (payload instanceof LogEmitted logged) {
                counters.setLogs(counters.getLogs() + 1);
                put.add(entry(EntryKind.log, offset)
                        .setSubtype(logged.getLevel().name())
                        .setText(logged.getMessage())
                        .build());
            } else if (payload instanceof ErrorRaised error) {
                counters.setErrors(counters.getErrors() + 1);
                next.setEnvironment(environmentAfter(current.getEnvironment(), event));
                put.add(entry(EntryKind.error, offset)
                        .setRefId(error.getCode())
                        .setText(error.getMessage())
                        .build());
            } else {
                throw new IllegalArgumentException("unknown room event " + type(payload));
            }
            return null;
        }

        private Decision<RoomChange> updateBlock(
                String blockId, java.util.function.Consumer<OpenBlock.Builder> update) {
            int index = openBlock(blockId);
            if (index < 0) {
                return noOpenBlock(blockId);
            }
            List<OpenBlock> blocks = new ArrayList<>(current.getOpenBlocks());
            OpenBlock.Builder block = OpenBlock.newBuilder(blocks.get(index));
            update.accept(block);
            blocks.set(index, block.build());
            next.setOpenBlocks(blocks);
            return null;
        }

        private Decision<RoomChange> completeBlock(BlockCompleted completed) {
            int index = openBlock(completed.getBlockId());
            if (index < 0) {
                return noOpenBlock(completed.getBlockId());
            }
            List<OpenBlock> blocks = new ArrayList<>(current.getOpenBlocks());
            OpenBlock block = blocks.remove(index);
            next.setOpenBlocks(blocks);
            counters.setBlocks(counters.getBlocks() + 1);
            String text = block.getText();
            int parts = block.getParts();
            if (completed.getText() != null) {
                long bytes = FoldLimits.utf8Length(completed.getText());
                if (bytes > blockMaxBytes) {
                    return blockTooLarge(completed.getBlockId(), bytes);
                }
                // The completion's text replaces what the deltas assembled, parts included.
                List<String> pieces = split(completed.getText(), partBytes);
                for (int i = 0; i < pieces.size() - 1; i++) {
                    partsPut.add(new BlockPart(block.getStartOffset(), i, pieces.get(i)));
                }
                for (int i = pieces.size() - 1; i < block.getParts(); i++) {
                    partsRemoved.add(BlockPart.removal(block.getStartOffset(), i));
                }
                text = pieces.get(pieces.size() - 1);
                parts = pieces.size() - 1;
            }
            put.add(entry(EntryKind.block, block.getStartOffset())
                    .setRefId(block.getBlockId())
                    .setTurnId(block.getTurnId())
                    .setSubtype(block.getKind())
                    .setRole(block.getRole())
                    .setText(text)
                    .setMetadata(block.getMetadata())
                    .setParts(parts)
                    .build());
            return null;
        }

        /**
         * Adds a delta to an open block. Once the text passes the part size, every full part moves out of the
         * room's state into a {@link BlockPart}: the state holds at most one part's worth of text per block, however
         * long the block grows.
         */
        private void appendText(OpenBlock.Builder block, String delta, long deltaBytes) {
            block.setBytes(block.getBytes() + deltaBytes);
            String text = block.getText() + delta;
            if ((long) text.length() <= partBytes / 3 || FoldLimits.utf8Length(text) <= partBytes) {
                block.setText(text);
                return;
            }
            List<String> pieces = split(text, partBytes);
            int index = block.getParts();
            for (int i = 0; i < pieces.size() - 1; i++) {
                partsPut.add(new BlockPart(block.getStartOffset(), index++, pieces.get(i)));
            }
            block.setParts(index).setText(pieces.get(pieces.size() - 1));
        }

        private Decision<RoomChange> blockTooLarge(String blockId, long bytes) {
            return Decision.rejected(
                    Reason.BLOCK_TOO_LARGE,
                    "block " + blockId + " would hold " + bytes + " bytes of text, more than block.max.bytes ("
                            + blockMaxBytes + "); complete it and continue in a new block");
        }

        private int openBlock(String blockId) {
            List<OpenBlock> blocks = current.getOpenBlocks();
            for (int i = 0; i < blocks.size(); i++) {
                if (blocks.get(i).getBlockId().equals(blockId)) {
                    return i;
                }
            }
            return -1;
        }

        private TranscriptEntry.Builder entry(EntryKind kind, long at) {
            return TranscriptEntry.newBuilder()
                    .setRoomId(current.getRoomId())
                    .setOffset(at)
                    .setKind(kind)
                    .setAt(event.getOccurredAt())
                    .setActor(event.getActor())
                    .setUsage(event.getUsage());
        }

        /** For a lightweight room, the entries that fall out of the last {@value #LIGHTWEIGHT_ENTRIES}. */
        private List<Long> keepLastEntries() {
            if (current.getStream() != StreamMode.lightweight || put.isEmpty()) {
                return List.of();
            }
            List<Long> kept = new ArrayList<>(current.getKeptEntries());
            put.forEach(entry -> kept.add(entry.getOffset()));
            Collections.sort(kept);
            List<Long> removed = new ArrayList<>();
            while (kept.size() > LIGHTWEIGHT_ENTRIES) {
                removed.add(kept.remove(0));
            }
            next.setKeptEntries(kept);
            return removed;
        }
    }

    /**
     * {@code text} cut into pieces of at most {@code maxBytes} UTF-8 bytes each, every piece but the last as long as
     * it can be, never inside a surrogate pair: joined, the pieces are {@code text}. Always at least one piece.
     */
    static List<String> split(String text, int maxBytes) {
        List<String> pieces = new ArrayList<>();
        int start = 0;
        int bytes = 0;
        int i = 0;
        while (i < text.length()) {
            int width = FoldLimits.utf8Width(text, i);
            if (bytes + width > maxBytes) {
                pieces.add(text.substring(start, i));
                start = i;
                bytes = 0;
            }
            bytes += width;
            i += FoldLimits.charsAt(text, i);
        }
        pieces.add(text.substring(start));
        return pieces;
    }

    private static Decision<RoomChange> noOpenBlock(String blockId) {
        return Decision.rejected(Reason.NO_OPEN_BLOCK, "block " + blockId + " is not open in the room");
    }

    private static Decision<RoomChange> versionConflict(long actual, long expected) {
        return Decision.rejected(
                Reason.VERSION_CONFLICT, "expected version " + expected + " but the room is at version " + actual);
    }

    private static String type(Object payload) {
        return payload == null ? "null" : payload.getClass().getSimpleName();
    }

    /**
     * The event that expires a closed session room at {@code now}: a {@code RoomDeleted} marked {@code expired},
     * without an actor (the fold appends it), with an id made of the room and when it closed, so that the same
     * expiry always has the same id.
     */
    public static RoomEvent expiry(RoomState room, java.time.Duration retention, Instant now) {
        String eventId = "expiry-"
                + java.util.UUID.nameUUIDFromBytes(
                        (room.getRoomId() + "/" + room.getClosedAt().toEpochMilli())
                                .getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return RoomEvent.newBuilder()
                .setEventId(eventId)
                .setRoomId(room.getRoomId())
                .setOccurredAt(now.truncatedTo(java.time.temporal.ChronoUnit.MILLIS))
                .setActor(null)
                .setCorrelation(new dev.substrate.events.common.Correlation(null, room.getLastEventId(), null))
                .setPayload(RoomDeleted.newBuilder()
                        .setReason("closed session expired: closed at " + room.getClosedAt()
                                + ", kept for session.retention.ms (" + retention + ")")
                        .setExpired(true)
                        .build())
                .build();
    }

    /** When a closed session room becomes due for cleanup, or null if the room is not one. */
    public static Instant cleanupDue(RoomState room, java.time.Duration retention) {
        if (room.getKind() != dev.substrate.events.room.RoomKind.session
                || !room.getClosed()
                || room.getClosedAt() == null) {
            return null;
        }
        return room.getClosedAt().plus(retention);
    }
}
