package dev.substrate.api.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.substrate.api.auth.Principal;
import dev.substrate.entity.EntityKind;
import dev.substrate.events.room.RoomCreated;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.events.room.RoomRole;
import dev.substrate.room.internal.RoomFold;
import dev.substrate.state.RoomState;
import io.javalin.http.Context;
import java.util.Map;

/**
 * Reads a room, or an artifact's room, wherever it is held, and asks {@link Access} about it: members read a room,
 * its transcript and its stream; operators and admins read every room; writers and owners append, and owners grant,
 * revoke, close and delete ({@link RoomFold#refusal}, the rule the fold applies too). Membership is read from the
 * room's state on the instance that holds it, so a change takes effect with the next request once the fold has
 * applied it.
 */
final class RoomAccess {

    private final Reads reads;

    RoomAccess(Reads reads) {
        this.reads = reads;
    }

    /**
     * The room, held on this instance, if {@code principal} may read it; 404 when it does not exist or is outside
     * the principal's reach, 403 for a non-member.
     */
    RoomState readableHere(Principal principal, String roomId) {
        RoomState room = reads.queries().room(roomId).orElseThrow(() -> Problem.notFound("room " + roomId));
        Access.decide(principal, Access.Action.READ, Access.RoomResource.of(room))
                .require();
        return room;
    }

    /**
     * The room's state as JSON, read wherever it is held, at {@code position}, in the name of {@code caller}
     * ({@link Cluster#caller}); the problem (404, 403, 503) when it cannot be read.
     */
    JsonNode readable(
            Map<String, String> caller, Principal principal, String roomId, ReadPosition position, long timeoutMs) {
        Cluster.Answer answer = read(caller, principal, roomId, position, timeoutMs);
        if (answer.status() != 200) {
            throw Problem.relayed(answer.status(), answer.body(), "room " + roomId + " could not be read");
        }
        return answer.body();
    }

    private Cluster.Answer read(
            Map<String, String> caller, Principal principal, String roomId, ReadPosition position, long timeoutMs) {
        return reads.readAt(
                caller,
                principal,
                EntityKind.ROOM,
                roomId,
                "/v1/rooms/" + roomId,
                position,
                timeoutMs,
                () -> AvroJson.toJson(readableHere(principal, roomId)));
    }

    /**
     * Asks {@link Access} whether {@code principal} may take {@code action} on the artifact whose state (as JSON) is
     * {@code artifact}: within its project, and, when it belongs to a room, a member of it to read and a writer or
     * owner to change it (operators and admins always). Throws the decision's problem when not.
     */
    void requireArtifact(Map<String, String> caller, Principal principal, Access.Action action, JsonNode artifact) {
        String artifactId = artifact.path("artifactId").asText();
        Access.decide(principal, action, Scope.resourceOf(EntityKind.ARTIFACT, artifact))
                .require(EntityKind.ARTIFACT, artifactId);
        // Its room's membership is read where the room is held, in the caller's name.
        JsonNode roomId = artifact.path("provenance").path("roomId");
        if (roomId.isTextual() && !Access.readsEveryRoom(principal)) {
            requireInRoom(caller, principal, action, "artifact " + artifactId, roomId.asText());
        }
    }

    /**
     * 403 unless {@code principal} may take {@code action} on what belongs to room {@code roomId} ({@code what}: an
     * artifact, say): a member to read, a writer or owner to append. A room that no longer exists (or is out of
     * reach) hides what belonged to it from all but operators and admins.
     */
    void requireInRoom(
            Map<String, String> caller, Principal principal, Access.Action action, String what, String roomId) {
        if (Access.readsEveryRoom(principal)) {
            return;
        }
        Cluster.Answer answer = read(caller, principal, roomId, null, Requests.DEFAULT_TIMEOUT_MS);
        if (answer.status() != 200 && answer.status() != 403 && answer.status() != 404) {
            throw Problem.relayed(answer.status(), answer.body(), "room " + roomId + " could not be read");
        }
        boolean allowed = answer.status() == 200
                && Access.decide(principal, action, Access.RoomResource.fromJson(roomId, answer.body()))
                        .allowed();
        if (!allowed) {
            throw Problem.forbidden(what + " belongs to room " + roomId + ", and " + principal.name()
                    + (action == Access.Action.READ ? " is not a member of it" : " is not a writer or owner of it"));
        }
    }

    /**
     * 403 unless the event's actor may append it to its room, checked before the event reaches the log. A room
     * that does not exist (yet) is left to the fold, which refuses the event as {@code not-found}; for a token
     * scoped to projects it is a 404.
     */
    void checkAppend(Context ctx, RoomEvent event) {
        if (event.getPayload() instanceof RoomCreated) {
            return;
        }
        String roomId = event.getRoomId();
        Principal principal = Requests.principal(ctx);
        Cluster.Answer answer =
                read(Cluster.caller(ctx), principal, roomId, ReadPosition.from(ctx), Requests.timeoutMs(ctx));
        Access.Decision decision = switch (answer.status()) {
            case 200 ->
                Access.decide(principal, Access.Action.APPEND, Access.RoomResource.fromJson(roomId, answer.body()));
            case 403 ->
                Access.Decision.forbidden(
                        principal.name() + " is not a member of room " + roomId + "; appends need writer or owner");
            case 404 -> Access.decide(principal, Access.Action.APPEND, Access.RoomResource.missing(roomId));
            default -> throw Problem.relayed(answer.status(), answer.body(), "room " + roomId + " could not be read");
        };
        decision.require();
        if (answer.status() != 200) {
            return;
        }
        Map<String, RoomRole> members =
                Access.RoomResource.fromJson(roomId, answer.body()).members();
        RoomFold.refusal(members, event.getActor(), event.getPayload()).ifPresent(refusal -> {
            throw Problem.forbidden(refusal);
        });
    }
}
