package dev.substrate.client;

import java.time.Instant;

/**
 * Optional parts of an append. Every part left unset takes its default: a new time-ordered event id, the time
 * of the call, no actor, no correlation, no version check. Immutable; each {@code with} returns a copy.
 *
 * <pre>{@code
 * client.startRun(runId, started, AppendOptions.none().withExpectedVersion(1).withActor("svc:runner"));
 * }</pre>
 *
 * @param eventId the event's id; set it to make a retried append idempotent
 * @param expectedVersion the entity version the event expects (optimistic concurrency); null for no check
 * @param actor the principal appending
 * @param occurredAt when the event happened; null for now
 * @param correlationId groups the events of one piece of work
 * @param causationId the eventId of the event that caused this one
 * @param traceparent the W3C trace context
 */
public record AppendOptions(
        String eventId,
        Long expectedVersion,
        String actor,
        Instant occurredAt,
        String correlationId,
        String causationId,
        String traceparent) {

    private static final AppendOptions NONE = new AppendOptions(null, null, null, null, null, null, null);

    /** No options: every part takes its default. */
    public static AppendOptions none() {
        return NONE;
    }

    /** With the given event id, which makes a retried append idempotent. */
    public AppendOptions withEventId(String eventId) {
        return new AppendOptions(eventId, expectedVersion, actor, occurredAt, correlationId, causationId, traceparent);
    }

    /** With a version check: the fold refuses the event unless the entity is at this version. */
    public AppendOptions withExpectedVersion(long expectedVersion) {
        return new AppendOptions(eventId, expectedVersion, actor, occurredAt, correlationId, causationId, traceparent);
    }

    /** With the principal appending. */
    public AppendOptions withActor(String actor) {
        return new AppendOptions(eventId, expectedVersion, actor, occurredAt, correlationId, causationId, traceparent);
    }

    /** With the time the event happened, such as the original time of an imported event. */
    public AppendOptions withOccurredAt(Instant occurredAt) {
        return new AppendOptions(eventId, expectedVersion, actor, occurredAt, correlationId, causationId, traceparent);
    }

    /** With correlation: the work's id, the causing event's id and the W3C trace context; each may be null. */
    public AppendOptions withCorrelation(String correlationId, String causationId, String traceparent) {
        return new AppendOptions(eventId, expectedVersion, actor, occurredAt, correlationId, causationId, traceparent);
    }
}
