package dev.substrate.fold;

import dev.substrate.state.EventOutcome;
import java.time.Instant;
import java.util.function.Function;

/**
 * The one way an event is folded, wherever its state is kept (the Kafka Streams topology, the in-memory fold, the
 * local SQLite store): look up the outcome already recorded for its id, decide, write what an applied decision
 * changes, then record the outcome. The first decision for an event id stands: a duplicate or a reuse records
 * nothing new. Only where the outcomes and the state live differs ({@link Outcomes}, {@code write}).
 */
public final class FoldDriver {

    /** Where a driver keeps the outcome of each event id it decided. */
    public interface Outcomes {

        /** The outcome recorded for {@code eventId}, or null. */
        EventOutcome find(String eventId);

        /** Records the first decision for {@code eventId}. */
        void record(String eventId, EventOutcome outcome);

        /**
         * Called when {@code eventId} already had an outcome: the first decision stands. By default nothing is
         * written (the topology writes it again, to move its store's position past the record).
         */
        default void kept(String eventId, EventOutcome first) {}
    }

    /**
     * Where one event is folded from: the entity it is for and where its record is in its log.
     *
     * @param entityType {@link FoldStep#RUN}, {@link FoldStep#ROOM} or {@link FoldStep#ARTIFACT}
     * @param entityId the entity the event is for
     * @param eventId the event's id
     * @param partition the log partition of its record
     * @param offset the offset of its record
     * @param recordTime the record's time, at which it is judged
     */
    public record Step(
            String entityType, String entityId, String eventId, int partition, long offset, Instant recordTime) {}

    private FoldDriver() {}

    /**
     * Folds one event.
     *
     * @param decide the decision, given the outcome already recorded for the event's id (or null)
     * @param write writes what an applied decision changes and returns the entity's version after it (null for a
     *     deletion)
     * @return the decision
     */
    public static <D> Decision<D> fold(
            Step step, Outcomes outcomes, Function<EventOutcome, Decision<D>> decide, Function<D, Long> write) {
        boolean recordable = FoldStep.recordable(step.eventId());
        EventOutcome previous = recordable ? outcomes.find(step.eventId()) : null;
        Decision<D> decision = decide.apply(previous);
        Long version = decision instanceof Decision.Applied<D> applied ? write.apply(applied.state()) : null;
        if (!recordable) {
            // No outcome is kept under an id no boundary accepts (only a record written straight to Kafka has one).
            return decision;
        }
        if (previous != null) {
            outcomes.kept(step.eventId(), previous);
        } else {
            outcomes.record(
                    step.eventId(),
                    FoldStep.outcome(
                            decision,
                            step.entityType(),
                            step.entityId(),
                            step.eventId(),
                            version,
                            step.partition(),
                            step.offset(),
                            step.recordTime()));
        }
        return decision;
    }
}
