package dev.substrate.api.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.substrate.api.auth.Principal;
import dev.substrate.crypto.ContentKeys;
import dev.substrate.entity.EntityKind;
import dev.substrate.event.EventIds;
import dev.substrate.events.common.Correlation;
import dev.substrate.events.room.RoomDeleted;
import dev.substrate.events.room.RoomEvent;
import io.javalin.http.Context;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Set;

/**
 * {@code POST /v1/erasures}: an admin erases a room. Its deletion is appended to its log (naming who asked and why),
 * the fold removes its state and every derived copy (transcript, block parts, indexes, the state topic's tombstone),
 * and its content keys are destroyed (tombstones on {@code <prefix>keys}, compacted within {@code erasure.bound.ms}):
 * the room's content, sealed under those keys wherever Kafka or Substrate copied it (logs, changelogs, state topics,
 * RocksDB), can no longer be read. The answer is the erasure record: every place cleared, with when. A project's
 * erasure does the same for each of the project's rooms that has a key (its encrypted rooms, as the keys name them).
 */
final class ErasureRoutes {

    private static final Set<String> FIELDS = Set.of("room", "run", "project", "principal", "reason");

    /** How long the erasure waits for the fold to remove the room before it answers 202. */
    private static final long WAIT_MS = 30_000;

    private final Appends appends;
    private final Reads reads;
    private final Sealing sealing;
    private final Duration bound;

    ErasureRoutes(Appends appends, Reads reads, Sealing sealing, Duration bound) {
        this.appends = appends;
        this.reads = reads;
        this.sealing = sealing;
        this.bound = bound;
    }

    /**
     * POST /v1/keys/rewrap: every room key that an older master key wrapped is written again, wrapped by the current
     * one (the first line of {@code encryption.master.key.file}), so that the older line can leave the file: {@code
     * {"rewrapped": n}}. Run it on an instance whose key file holds both.
     */
    void rewrap(Context ctx) {
        int rewrapped;
        try {
            rewrapped = sealing.keys().map(ContentKeys::rewrap).orElse(0);
        } catch (ContentKeys.KeysUnavailable e) {
            throw Problem.unavailable(e.getMessage());
        }
        Requests.json(ctx, JsonNodeFactory.instance.objectNode().put("rewrapped", rewrapped));
    }

    /**
     * POST /v1/erasures {@code {"room": id, "reason": "..."}} or {@code {"project": p, "reason": "..."}}: 200 with the
     * erasure record. A project's erasure erases its encrypted rooms (those with a key), at most {@value #MAX_ROOMS} a
     * request ({@code more} says whether to ask again).
     */
    void erase(Context ctx) {
        ObjectNode body = Requests.body(ctx);
        body.fieldNames().forEachRemaining(field -> {
            if (!FIELDS.contains(field)) {
                throw Problem.badRequest(field + " is not a field of an erasure; it takes " + FIELDS, field);
            }
        });
        for (String subject : List.of("run", "principal")) {
            if (body.has(subject)) {
                throw Problem.badRequest(
                        "erasing a " + subject + " is not supported yet: rooms and projects are (rooms' content is"
                                + " what is encrypted)",
                        subject);
            }
        }
        JsonNode reason = body.get("reason");
        if (reason == null
                || !reason.isTextual()
                || reason.asText().isBlank()
                || reason.asText().length() > 500) {
            throw Problem.badRequest("reason says why, in 1-500 characters (it is kept on the room's log)", "reason");
        }
        JsonNode room = body.get("room");
        JsonNode project = body.get("project");
        if ((room == null) == (project == null)) {
            throw Problem.badRequest("an erasure names one room or one project", room == null ? "room" : "project");
        }
        JsonNode subject = room != null ? room : project;
        if (!subject.isTextual() || subject.asText().isBlank()) {
            throw Problem.badRequest(
                    "names the " + (room != null ? "room" : "project") + " to erase",
                    room != null ? "room" : "project");
        }
        if (room != null) {
            Requests.json(ctx, eraseRoom(ctx, room.asText(), reason.asText(), true));
            return;
        }
        List<String> rooms =
                sealing.keys().map(keys -> keys.roomsOf(project.asText())).orElse(List.of());
        if (rooms.isEmpty()) {
            throw Problem.notFound("an encrypted room of project " + project.asText());
        }
        ObjectNode record = JsonNodeFactory.instance.objectNode();
        record.put("project", project.asText());
        record.put("requestedBy", Requests.principal(ctx).name());
        record.put("reason", reason.asText());
        record.put("requestedAt", Instant.now().toString());
        ArrayNode erased = record.putArray("rooms");
        for (String roomId : rooms.subList(0, Math.min(rooms.size(), MAX_ROOMS))) {
            erased.add(eraseRoom(ctx, roomId, reason.asText(), false));
        }
        record.put("more", rooms.size() > MAX_ROOMS);
        record.put("compactedBy", Instant.now().plus(bound).toString());
        Requests.json(ctx, record);
    }

    /** The most rooms one project erasure erases; the rest at the next request. */
    static final int MAX_ROOMS = 1_000;

    /** Erases one room: its record; 404 when {@code mustExist} and neither it nor a key of it is there. */
    private ObjectNode eraseRoom(Context ctx, String roomId, String reason, boolean mustExist) {
        Principal principal = Requests.principal(ctx);
        JsonNode state = reads.owned(
                        Cluster.caller(ctx),
                        EntityKind.ROOM,
                        roomId,
                        null,
                        ReadPosition.from(ctx),
                        Requests.timeoutMs(ctx))
                .get("state");
        Instant at = Instant.now();
        ObjectNode record = JsonNodeFactory.instance.objectNode();
        record.put("room", roomId);
        record.put("requestedBy", principal.name());
        record.put("reason", reason);
        record.put("requestedAt", at.toString());
        ArrayNode cleared = record.putArray("cleared");
        if (state != null) {
            // The fold's own event (no actor: a member's permission is not asked), naming who asked and why.
            RoomEvent deletion = RoomEvent.newBuilder()
                    .setEventId(EventIds.next())
                    .setRoomId(roomId)
                    .setOccurredAt(at.truncatedTo(ChronoUnit.MILLIS))
                    .setActor(null)
                    .setCorrelation(new Correlation(null, null, null))
                    .setPayload(RoomDeleted.newBuilder()
                            .setReason("erased at the request of " + principal.name() + ": " + reason)
                            .setErased(true)
                            .build())
                    .build();
            Appends.Result deleted = appends.appendOwn(ctx, EntityKind.ROOM, deletion, WAIT_MS);
            record.put("eventId", deletion.getEventId());
            String outcome = deleted.body().path("outcome").asText();
            cleared.addObject()
                    .put("place", "the room's log: its deletion, naming who asked and why")
                    .put("at", Instant.now().toString());
            if (!outcome.equals("applied")) {
                throw Problem.ofStatus(
                        503,
                        "Erasure not complete",
                        "the room's deletion was appended but not applied in time (" + outcome + "); its keys are kept"
                                + " until it is: ask again with the same room");
            }
            cleared.addObject()
                    .put("place", "the room's state, transcript, block parts and index entries (the fold)")
                    .put("at", Instant.now().toString());
            cleared.addObject()
                    .put(
                            "place",
                            "the rooms state topic and the fold's changelogs: tombstones, compacted within the"
                                    + " erasure bound")
                    .put("at", Instant.now().toString());
        }
        List<String> destroyed = sealing.destroy(roomId);
        if (state == null && destroyed.isEmpty() && mustExist) {
            throw Problem.notFound("room " + roomId);
        }
        cleared.addObject()
                .put("place", "the room's content keys (" + destroyed.size() + "): tombstones on the keys topic")
                .put("at", Instant.now().toString());
        record.put("compactedBy", Instant.now().plus(bound).toString());
        record.put(
                "guarantee",
                destroyed.isEmpty()
                        ? "the room was not encrypted: its events stay readable on the room log"
                        : "the room's content, sealed under its keys wherever it is copied, cannot be read once the"
                                + " keys topic is compacted (by compactedBy)");
        return record;
    }
}
