package dev.substrate.fold;

import dev.substrate.entity.EntityKind;
import dev.substrate.event.EventValidator;
import dev.substrate.event.InvalidEvent;
import dev.substrate.event.WireCodec;
import dev.substrate.events.artifact.ArtifactEvent;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.events.run.RunEvent;
import dev.substrate.state.ArtifactState;
import dev.substrate.state.EventOutcome;
import dev.substrate.state.Outcome;
import dev.substrate.state.RoomState;
import dev.substrate.state.RunState;
import dev.substrate.state.TranscriptEntry;
import java.time.Instant;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.avro.specific.SpecificRecord;

/**
 * One step of the fold for one log record, the same wherever events are folded (the Kafka Streams topology,
 * the in-memory fold, the local store): a repeated event id is a duplicate (or, for another entity, refused);
 * the event is checked with the door rules, judged at the record's time so that a replay decides the same;
 * the record key must be the entity id; then the entity's rules decide.
 */
public final class FoldStep {

    /** Entity type names, as outcomes and rejections carry them. */
    public static final String RUN = "run";
    /** Entity type names, as outcomes and rejections carry them. */
    public static final String ROOM = "room";
    /** Entity type names, as outcomes and rejections carry them. */
    public static final String ARTIFACT = "artifact";

    private final EventValidator validator;
    private final FoldLimits limits;

    /** A step that checks events with {@code validator}, with the default part size for long blocks. */
    public FoldStep(EventValidator validator) {
        this(validator, FoldLimits.of(validator.maxEventBytes()));
    }

    /**
     * A step that checks events with {@code validator} and keeps what it writes within {@code limits}.
     *
     * @throws IllegalArgumentException if the limits are for another event size than the validator's
     */
    public FoldStep(EventValidator validator, FoldLimits limits) {
        if (limits.maxEventBytes() != validator.maxEventBytes()) {
            throw new IllegalArgumentException("limits for events of " + limits.maxEventBytes()
                    + " bytes with a validator for " + validator.maxEventBytes());
        }
        this.validator = validator;
        this.limits = limits;
    }

    /** The limits this step keeps to. */
    public FoldLimits limits() {
        return limits;
    }

    /**
     * Whether the fold records an outcome under {@code eventId}. An id no boundary accepts (too long, say: only a
     * record written straight to Kafka can carry one) is refused as invalid, and no outcome is kept for it, so that
     * no record keyed by it can grow past the limits.
     */
    public static boolean recordable(String eventId) {
        return eventId != null && eventId.length() <= FoldLimits.MAX_ID_CHARS;
    }

    /**
     * Decides a run event.
     *
     * @param key the record key
     * @param current the run's state, or null
     * @param previous the outcome already recorded for the event's id, or null
     * @param recordTime the record's timestamp
     */
    public Decision<RunState> run(
            String key, RunState current, RunEvent event, EventOutcome previous, Instant recordTime) {
        return decide(
                EntityKind.RUN,
                key,
                event,
                previous,
                recordTime,
                () -> bounded(RunFold.apply(current, event), state -> checkState(EntityKind.RUN, state)));
    }

    /** Decides a room event at {@code offset}; the other parameters as for {@link #run}. */
    public Decision<RoomChange> room(
            String key, RoomState current, RoomEvent event, long offset, EventOutcome previous, Instant recordTime) {
        return decide(
                EntityKind.ROOM,
                key,
                event,
                previous,
                recordTime,
                () -> bounded(RoomFold.apply(current, event, offset, limits), this::checkRoom));
    }

    /** Decides an artifact event; the parameters as for {@link #run}. */
    public Decision<ArtifactState> artifact(
            String key, ArtifactState current, ArtifactEvent event, EventOutcome previous, Instant recordTime) {
        return decide(
                EntityKind.ARTIFACT,
                key,
                event,
                previous,
                recordTime,
                () -> bounded(ArtifactFold.apply(current, event), state -> checkState(EntityKind.ARTIFACT, state)));
    }

    /**
     * An applied decision whose records fit, or the rejection that {@code check} gives; other decisions as they are.
     * A deleted entity (null state) always fits.
     */
    private static <S> Decision<S> bounded(Decision<S> decision, Function<S, Decision<S>> check) {
        if (decision instanceof Decision.Applied<S> applied && applied.state() != null) {
            Decision<S> refused = check.apply(applied.state());
            if (refused != null) {
                return refused;
            }
        }
        return decision;
    }

    private <D, S extends SpecificRecord> Decision<D> checkState(EntityKind<?, S> kind, S state) {
        String entityType = kind.name();
        String id =
                (String) state.get(state.getSchema().getField(kind.idField()).pos());
        // The state's bytes are kept for the store's write of the same object: it is encoded once.
        int bytes = kind.stateCodec().encodedSize(state);
        if (limits.fits(id, bytes)) {
            return null;
        }
        return Decision.rejected(
                Reason.STATE_TOO_LARGE,
                "the " + entityType + "'s state would be " + ((long) bytes + FoldLimits.utf8Length(id))
                        + " bytes encoded with its id, more than the "
                        + limits.maxRecordBytes() + " the fold writes (max.event.bytes + 32 KiB); "
                        + "the event is refused and the " + entityType + " is unchanged");
    }

    private Decision<RoomChange> checkRoom(RoomChange change) {
        if (change.state() != null) {
            Decision<RoomChange> refused = checkState(EntityKind.ROOM, change.state());
            if (refused != null) {
                return refused;
            }
        }
        for (TranscriptEntry entry : change.entriesPut()) {
            int bytes = WireCodec.TRANSCRIPT_ENTRY.encodedSize(entry);
            if (!limits.fits(entry.getRoomId() + "/0000000000000000000", bytes)) {
                return Decision.rejected(
                        Reason.ENTRY_TOO_LARGE,
                        "the transcript entry would be " + bytes + " bytes encoded, more than the "
                                + limits.maxRecordBytes() + " the fold writes; the event is refused");
            }
        }
        return null;
    }

    private <E extends SpecificRecord, D> Decision<D> decide(
            EntityKind<E, ?> kind,
            String key,
            E event,
            EventOutcome previous,
            Instant recordTime,
            Supplier<Decision<D>> rules) {
        Decision<D> early = precheck(key, kind.entityId(event), kind.eventId(event), previous, kind.name());
        if (early != null) {
            return early;
        }
        try {
            kind.validate(validator, event, recordTime);
        } catch (InvalidEvent e) {
            return Decision.rejected(
                    Reason.INVALID_EVENT, FoldLimits.cut(e.getMessage(), FoldLimits.MAX_MESSAGE_CHARS));
        }
        return rules.get();
    }

    private static <S> Decision<S> precheck(
            String key, String entityId, String eventId, EventOutcome previous, String entityType) {
        if (!recordable(eventId) || entityId == null || entityId.length() > FoldLimits.MAX_ID_CHARS) {
            return Decision.rejected(
                    Reason.INVALID_EVENT,
                    "the event id and the " + entityType + " id must be 1 to " + FoldLimits.MAX_ID_CHARS
                            + " characters");
        }
        if (previous != null) {
            if (previous.getEntityType().equals(entityType)
                    && previous.getEntityId().equals(entityId)) {
                return new Decision.Duplicate<>();
            }
            // The other entity is not named: whoever may read this one's outcomes may not read that one's.
            return Decision.rejected(
                    Reason.EVENT_ID_REUSED,
                    "event id " + eventId + " was already used by an event of another entity; give each event an id"
                            + " of its own");
        }
        if (!entityId.equals(key)) {
            return Decision.rejected(
                    Reason.INVALID_EVENT,
                    "the record key '" + key + "' is not the " + entityType + " id '" + entityId
                            + "' (records are keyed by entity id, which keeps each entity in one partition)");
        }
        return null;
    }

    /** The outcome to record for a decision. */
    public static EventOutcome outcome(
            Decision<?> decision,
            String entityType,
            String entityId,
            String eventId,
            Long versionAfter,
            int partition,
            long offset,
            Instant recordTime) {
        EventOutcome.Builder outcome = EventOutcome.newBuilder()
                .setEventId(eventId)
                .setEntityType(entityType)
                .setEntityId(FoldLimits.cut(entityId, FoldLimits.MAX_ID_CHARS))
                .setPartition(partition)
                .setOffset(offset)
                .setDecidedAt(recordTime);
        if (decision instanceof Decision.Rejected<?> rejected) {
            outcome.setOutcome(Outcome.rejected)
                    .setReason(rejected.reason().code())
                    .setMessage(FoldLimits.cut(rejected.message(), FoldLimits.MAX_MESSAGE_CHARS));
        } else if (decision instanceof Decision.Duplicate<?>) {
            outcome.setOutcome(Outcome.duplicate);
        } else {
            outcome.setOutcome(Outcome.applied).setVersion(versionAfter);
        }
        return outcome.build();
    }
}
