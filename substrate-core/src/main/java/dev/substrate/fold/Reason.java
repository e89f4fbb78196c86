package dev.substrate.fold;

import java.util.Locale;

/** Why the fold refused an event: a stable code (its {@link #code()} is what rejections and the API carry). */
public enum Reason {
    /** The event broke a rule checked at every boundary (ids, formats, sizes, timestamps). */
    INVALID_EVENT,
    /** The event is for an entity that was never created (or was deleted). */
    NOT_FOUND,
    /** A create event for an entity that exists. */
    ALREADY_EXISTS,
    /** The event's {@code expectedVersion} is not the entity's version. */
    VERSION_CONFLICT,
    /** The status machine does not allow the transition (terminal states are final). */
    ILLEGAL_TRANSITION,
    /** An append to a closed room. */
    ROOM_CLOSED,
    /** The actor may not do this in the room (appends need writer or owner; membership changes need owner). */
    NOT_PERMITTED,
    /** A revoke of a principal that is not a member. */
    NOT_A_MEMBER,
    /** A turn started while another is in progress. */
    TURN_IN_PROGRESS,
    /** A turn ended that is not the one in progress. */
    NO_SUCH_TURN,
    /** A block started with the id of one already started in the room. */
    BLOCK_EXISTS,
    /** A delta, update or completion for a block that is not open. */
    NO_OPEN_BLOCK,
    /** The event id was already used by an event of another entity. */
    EVENT_ID_REUSED,
    /**
     * The event would grow the entity's state (a run's labels, a room's members or open blocks, an artifact's
     * revisions) past the largest record the fold writes ({@link FoldLimits#maxRecordBytes()}).
     */
    STATE_TOO_LARGE,
    /** The event would make a transcript entry (a block's attributes, say) larger than the fold writes. */
    ENTRY_TOO_LARGE,
    /** The delta or completion would give a block more text than {@link FoldLimits#blockMaxBytes()}. */
    BLOCK_TOO_LARGE,
    /**
     * The event is on another partition of its log than its entity id maps to (murmur2, as Kafka's Java producer
     * partitions): a producer with another partitioner. Folding it would start a second copy of the entity.
     */
    WRONG_PARTITION,
    /** An interrupt raised with the id of one the run raised before. */
    INTERRUPT_EXISTS,
    /** More interrupts open at once than a run may have. */
    TOO_MANY_INTERRUPTS,
    /** An answer to an interrupt the run does not hold. */
    NO_SUCH_INTERRUPT,
    /** An answer given at or after the interrupt's {@code expiresAt} (by the answer's own time). */
    INTERRUPT_EXPIRED,
    /** A second, different answer to an interrupt already answered (the same answer again is a duplicate). */
    INTERRUPT_ANSWERED,
    /** A resolving answer whose payload does not satisfy the interrupt's {@code responseSchema}. */
    INVALID_ANSWER,
    /** A resume without an answer while interrupts are open: they are answered (or cancelled) instead. */
    INTERRUPTS_OPEN;

    /** The code, e.g. {@code illegal_transition}. */
    public String code() {
        return name().toLowerCase(Locale.ROOT);
    }
}
