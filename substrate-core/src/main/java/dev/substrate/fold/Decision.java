package dev.substrate.fold;

import java.util.Objects;

/**
 * What the fold decided for one event: applied, with the entity's new state; a duplicate of an event already
 * decided; or rejected, with a reason. Only an applied event changes anything.
 *
 * @param <S> the entity's state (for rooms, the state and its transcript changes)
 */
public sealed interface Decision<S> {

    /** The event was applied; {@code state} is the entity afterwards, or null when the event deleted it. */
    record Applied<S>(S state) implements Decision<S> {}

    /** The event was appended before (same event id, same entity): it is not applied again. */
    record Duplicate<S>() implements Decision<S> {}

    /** The event was refused and changed nothing. */
    record Rejected<S>(Reason reason, String message) implements Decision<S> {
        public Rejected {
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(message, "message");
        }
    }

    /** Applied, with the new state. */
    static <S> Decision<S> applied(S state) {
        return new Applied<>(state);
    }

    /** Refused for {@code reason}. */
    static <S> Decision<S> rejected(Reason reason, String message) {
        return new Rejected<>(reason, message);
    }
}
