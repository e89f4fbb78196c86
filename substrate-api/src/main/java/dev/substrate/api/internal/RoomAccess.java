package dev.substrate.api.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.substrate.api.auth.Principal;
import dev.substrate.entity.EntityKind;
import dev.substrate.events.room.RoomCreated;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.fold.RoomFold;
import dev.substrate.state.RoomState;
import io.javalin.http.Context;
import java.util.Map;
import java.util.Optional;

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
     * ({@link Cluster#caller}), once {@link Access} allowed {@code principal} to read it; the problem (404, 403, 503)
     * when it cannot be read.
     */
    JsonNode readable(
            Map<String, String> caller, Principal principal, String roomId, ReadPosition position, long timeoutMs) {
        Optional<JsonNode> room = state(caller, roomId, position, timeoutMs);
        Access.decide(
                        principal,
                        Access.Action.READ,
                        room.map(found -> Access.RoomResource.fromJson(roomId, found))
                                .orElse(Access.RoomResource.missing(roomId)))
                .require();
        return room.orElseThrow();
    }

    /**
     * The run's state as JSON, read wherever it is held, when it exists and {@link Access} lets {@code principal} read
     * it; empty otherwise (a room's reader who may not read its run is shown nothing of it).
     */
    Optional<JsonNode> readableRun(Map<String, String> caller, Principal principal, String runId, long timeoutMs) {
        JsonNode run = reads.owned(caller, EntityKind.RUN, runId, null, null, timeoutMs)
                .get("state");
        if (run == null
                || !Access.decide(
                                principal,
                                Access.Action.READ,
                                new Access.RunResource(run.path("project").asText(null)))
                        .allowed()) {
            return Optional.empty();
        }
        return Optional.of(run);
    }

    /** The room's state, wherever it is held; empty when it does not exist. */
    private Optional<JsonNode> state(Map<String, String> caller, String roomId, ReadPosition position, long timeoutMs) {
        return Optional.ofNullable(reads.owned(caller, EntityKind.ROOM, roomId, null, position, timeoutMs)
                .get("state"));
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
        Optional<JsonNode> room = state(caller, roomId, null, Requests.DEFAULT_TIMEOUT_MS);
        boolean allowed = room.isPresent()
                && Access.decide(principal, action, Access.RoomResource.fromJson(roomId, room.get()))
                        .allowed();
        if (!allowed) {
            throw Problem.forbidden(what + " belongs to room " + roomId + ", and " + principal.name()
                    + (action == Access.Action.READ ? " is not a member of it" : " is not a writer or owner of it"));
        }
    }

    /**
     * 403 unless the event's actor may append it to its room, checked before the event reaches the log. A room
     * that does not exist (yet) is left to the fold, which refuses the event as {@code not-found}; for a token
     * scoped to projects it is a 404. Returns the room's project (the one a {@code RoomCreated} names), or null for a
     * room not known yet.
     */
    String checkAppend(Context ctx, RoomEvent event) {
        if (event.getPayload() instanceof RoomCreated created) {
            return created.getProject();
        }
        String roomId = event.getRoomId();
        Principal principal = Requests.principal(ctx);
        Map<String, String> caller = Cluster.caller(ctx);
        ReadPosition position = ReadPosition.from(ctx);
        long timeoutMs = Requests.timeoutMs(ctx);
        // Held here (the common case): its membership as the room fold keeps it; held elsewhere: its owner's answer.
        Access.RoomResource room = reads.roomHeldHere(caller, roomId, position, timeoutMs)
                .orElseGet(() -> state(caller, roomId, position, timeoutMs)
                        .map(found -> Access.RoomResource.fromJson(roomId, found))
                        .orElse(Access.RoomResource.missing(roomId)));
        Access.decide(principal, Access.Action.APPEND, room).require();
        if (!room.exists()) {
            return null;
        }
        RoomFold.refusal(room.members(), event.getActor(), event.getPayload()).ifPresent(refusal -> {
            throw Problem.forbidden(refusal);
        });
        return room.project();
    }
}
