package dev.substrate.retention;

import dev.substrate.events.common.Correlation;
import dev.substrate.events.room.RoomDeleted;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.events.run.RunDeletion;
import dev.substrate.events.run.RunEvent;
import dev.substrate.events.run.RunLabelled;
import dev.substrate.state.RoomState;
import dev.substrate.state.RunState;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The events a retention policy's deletions are: appended by the fold to the entity's own log, in its transaction, so
 * that the log alone decides and a rebuild from it deletes the same. Each has an id derived from the entity and its
 * creation or closing, so that appending one twice (a crash between the append and the fold reading it back) is a
 * duplicate.
 */
public final class Deletions {

    private Deletions() {}

    /** The deletion of the finished {@code run} by {@code policy}, at {@code now}. */
    public static RunEvent run(RunState run, RetentionPolicy policy, Instant now) {
        String eventId = "retention-"
                + UUID.nameUUIDFromBytes((run.getRunId() + "/"
                                + run.getTimestamps().getCreatedAt().toEpochMilli())
                        .getBytes(StandardCharsets.UTF_8));
        return RunEvent.newBuilder()
                .setEventId(eventId)
                .setRunId(run.getRunId())
                .setOccurredAt(now.truncatedTo(ChronoUnit.MILLIS))
                .setActor(null)
                .setCorrelation(new Correlation(null, run.getLastEventId(), null))
                .setPayload(new RunLabelled(Map.of(), List.of()))
                .setDeletion(new RunDeletion(reason(policy), policy.id()))
                .build();
    }

    /** The deletion of the closed {@code room} by {@code policy}, at {@code now}. */
    public static RoomEvent room(RoomState room, RetentionPolicy policy, Instant now) {
        String eventId = "retention-"
                + UUID.nameUUIDFromBytes(
                        (room.getRoomId() + "/" + room.getClosedAt().toEpochMilli()).getBytes(StandardCharsets.UTF_8));
        return RoomEvent.newBuilder()
                .setEventId(eventId)
                .setRoomId(room.getRoomId())
                .setOccurredAt(now.truncatedTo(ChronoUnit.MILLIS))
                .setActor(null)
                .setCorrelation(new Correlation(null, room.getLastEventId(), null))
                .setPayload(RoomDeleted.newBuilder()
                        .setReason(reason(policy))
                        .setPolicy(policy.id())
                        .build())
                .build();
    }

    private static String reason(RetentionPolicy policy) {
        return "retention policy " + policy.id() + ": " + policy.applies() + " older than "
                + policy.toJson().path("olderThan").asText();
    }
}
