package dev.substrate.client;

/**
 * An event that Kafka acknowledged (acks=all, idempotent producer): it is in the log and will be folded.
 *
 * @param entityId the run, room or artifact id (generated when a create call named none)
 * @param eventId the event's id (generated when the call named none); the fold reports its outcome by this id
 * @param position where it landed
 */
public record Appended(String entityId, String eventId, Position position) {}
