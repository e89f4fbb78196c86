package dev.substrate.fold;

import dev.substrate.artifact.ArtifactFold;
import dev.substrate.event.EventValidator;
import dev.substrate.event.InvalidEvent;
import dev.substrate.events.artifact.ArtifactEvent;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.events.run.RunEvent;
import dev.substrate.room.RoomChange;
import dev.substrate.room.RoomFold;
import dev.substrate.run.RunFold;
import dev.substrate.state.ArtifactState;
import dev.substrate.state.EventOutcome;
import dev.substrate.state.Outcome;
import dev.substrate.state.RoomState;
import dev.substrate.state.RunState;
import java.time.Instant;
import java.util.function.Supplier;

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

    /** A step that checks events with {@code validator}. */
    public FoldStep(EventValidator validator) {
        this.validator = validator;
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
                key,
                event.getRunId(),
                event.getEventId(),
                previous,
                RUN,
                () -> validator.validate(event, recordTime),
                () -> RunFold.apply(current, event));
    }

    /** Decides a room event at {@code offset}; the other parameters as for {@link #run}. */
    public Decision<RoomChange> room(
            String key, RoomState current, RoomEvent event, long offset, EventOutcome previous, Instant recordTime) {
        return decide(
                key,
                event.getRoomId(),
                event.getEventId(),
                previous,
                ROOM,
                () -> validator.validate(event, recordTime),
                () -> RoomFold.apply(current, event, offset));
    }

    /** Decides an artifact event; the parameters as for {@link #run}. */
    public Decision<ArtifactState> artifact(
            String key, ArtifactState current, ArtifactEvent event, EventOutcome previous, Instant recordTime) {
        return decide(
                key,
                event.getArtifactId(),
                event.getEventId(),
                previous,
                ARTIFACT,
                () -> validator.validate(event, recordTime),
                () -> ArtifactFold.apply(current, event));
    }

    private static <S> Decision<S> decide(
            String key,
            String entityId,
            String eventId,
            EventOutcome previous,
            String entityType,
            Runnable validate,
            Supplier<Decision<S>> rules) {
        Decision<S> early = precheck(key, entityId, eventId, previous, entityType);
        if (early != null) {
            return early;
        }
        try {
            validate.run();
        } catch (InvalidEvent e) {
            return Decision.rejected(Reason.INVALID_EVENT, e.getMessage());
        }
        return rules.get();
    }

    private static <S> Decision<S> precheck(
            String key, String entityId, String eventId, EventOutcome previous, String entityType) {
        if (previous != null) {
            if (previous.getEntityType().equals(entityType)
                    && previous.getEntityId().equals(entityId)) {
                return new Decision.Duplicate<>();
            }
            return Decision.rejected(
                    Reason.EVENT_ID_REUSED,
                    "event id " + eventId + " was already used by " + previous.getEntityType() + " "
                            + previous.getEntityId());
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
                .setEntityId(entityId)
                .setPartition(partition)
                .setOffset(offset)
                .setDecidedAt(recordTime);
        if (decision instanceof Decision.Rejected<?> rejected) {
            outcome.setOutcome(Outcome.rejected)
                    .setReason(rejected.reason().code())
                    .setMessage(rejected.message());
        } else if (decision instanceof Decision.Duplicate<?>) {
            outcome.setOutcome(Outcome.duplicate);
        } else {
            outcome.setOutcome(Outcome.applied).setVersion(versionAfter);
        }
        return outcome.build();
    }
}
