package dev.substrate.api.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.substrate.api.auth.Principal;
import dev.substrate.api.auth.Role;
import dev.substrate.entity.EntityKind;
import dev.substrate.events.room.RoomCreated;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.events.room.RoomRole;
import dev.substrate.room.internal.RoomFold;
import dev.substrate.state.RoomState;
import io.javalin.http.Context;
import java.util.HashMap;
import java.util.Map;

/**
 * Who may do what with a room over HTTP. Members read a room, its transcript and its stream; operators and admins
 * read every room. Writers and owners append; owners grant, revoke, close and delete ({@link RoomFold#refusal},
 * the rule the fold applies too). Membership is read from the room's state on the instance that holds it, so a
 * change takes effect with the next request once the fold has applied it.
 */
final class RoomAccess {

    private final Reads reads;

    RoomAccess(Reads reads) {
        this.reads = reads;
    }

    /** Whether {@code principal} reads every room, member or not. */
    static boolean readsEveryRoom(Principal principal) {
        return principal.hasAny(Role.ADMIN, Role.OPERATOR);
    }

    /** Whether {@code principal} may read {@code room}: within its reach, and an operator, admin or member. */
    static boolean mayRead(Principal principal, RoomState room) {
        return principal.reaches(room.getProject())
                && (readsEveryRoom(principal) || room.getMembers().containsKey(principal.name()));
    }

    /**
     * The room, held on this instance, if {@code principal} may read it; 404 when it does not exist or is outside
     * the principal's reach, 403 for a non-member.
     */
    RoomState readableHere(Principal principal, String roomId) {
        RoomState room = reads.queries()
                .room(roomId)
                .filter(found -> principal.reaches(found.getProject()))
                .orElseThrow(() -> Problem.notFound("room " + roomId));
        if (!mayRead(principal, room)) {
            throw Problem.forbidden(principal.name() + " is not a member of room " + roomId);
        }
        return room;
    }

    /**
     * The room's state as JSON, read wherever it is held, at {@code position}, in the name of {@code caller}
     * ({@link Cluster#caller}); the problem (404, 403, 503) when it cannot be read.
     */
    JsonNode readable(
            Map<String, String> caller, Principal principal, String roomId, ReadPosition position, long timeoutMs) {
        Cluster.Answer answer = reads.readAt(
                caller,
                principal,
                EntityKind.ROOM,
                roomId,
                "/v1/rooms/" + roomId,
                position,
                timeoutMs,
                () -> AvroJson.toJson(readableHere(principal, roomId)));
        if (answer.status() != 200) {
            throw Problem.relayed(answer.status(), answer.body(), "room " + roomId + " could not be read");
        }
        return answer.body();
    }

    /**
     * 403 unless {@code principal} may read the room an artifact belongs to: an artifact that names a room is the
     * room's output, read by its members (and operators and admins) alone. One that names none is readable by
     * every token. A room that no longer exists hides its artifacts from non-members for good.
     *
     * @param roomId the artifact's {@code roomId}, or null
     */
    void requireArtifactReadable(Map<String, String> caller, Principal principal, String artifactId, String roomId) {
        if (roomId == null || readsEveryRoom(principal)) {
            return;
        }
        try {
            readable(caller, principal, roomId, null, Requests.DEFAULT_TIMEOUT_MS);
        } catch (Problem problem) {
            if (problem.status() == 403 || problem.status() == 404) {
                throw Problem.forbidden("artifact " + artifactId + " belongs to room " + roomId + ", and "
                        + principal.name() + " is not a member of it");
            }
            throw problem;
        }
    }

    /**
     * {@link #requireArtifactReadable} for an artifact's state as JSON; 404 first when the artifact is outside the
     * principal's reach.
     */
    void requireArtifactReadable(Map<String, String> caller, Principal principal, JsonNode artifact) {
        if (!Scope.reaches(principal, EntityKind.ARTIFACT, artifact)) {
            throw Scope.hidden(EntityKind.ARTIFACT, artifact.path("artifactId").asText());
        }
        JsonNode roomId = artifact.path("provenance").path("roomId");
        requireArtifactReadable(
                caller, principal, artifact.path("artifactId").asText(), roomId.isTextual() ? roomId.asText() : null);
    }

    /**
     * 403 unless the event's actor may append it to its room, checked before the event reaches the log. A room
     * that does not exist (yet) is left to the fold, which refuses the event as {@code not-found}.
     */
    void checkAppend(Context ctx, RoomEvent event) {
        if (event.getPayload() instanceof RoomCreated) {
            return;
        }
        String roomId = event.getRoomId();
        Principal principal = Requests.principal(ctx);
        Cluster.Answer answer = reads.readAt(
                ctx,
                EntityKind.ROOM,
                roomId,
                "/v1/rooms/" + roomId,
                ReadPosition.from(ctx),
                Requests.timeoutMs(ctx),
                () -> AvroJson.toJson(readableHere(principal, roomId)));
        if (answer.status() == 404) {
            if (principal.scoped()) {
                // Missing, or outside its reach: the same for a scoped token, which appends to what it reaches.
                throw Problem.notFound("room " + roomId);
            }
            return;
        }
        if (answer.status() == 403) {
            throw Problem.forbidden(
                    principal.name() + " is not a member of room " + roomId + "; appends need writer or owner");
        }
        if (answer.status() != 200) {
            throw Problem.relayed(answer.status(), answer.body(), "room " + roomId + " could not be read");
        }
        Map<String, RoomRole> members = new HashMap<>();
        answer.body()
                .path("members")
                .properties()
                .forEach(member -> members.put(
                        member.getKey(), RoomRole.valueOf(member.getValue().asText())));
        RoomFold.refusal(members, event.getActor(), event.getPayload()).ifPresent(refusal -> {
            throw Problem.forbidden(refusal);
        });
    }
}
