package dev.substrate.stream;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.substrate.events.room.BlockCompleted;
import dev.substrate.events.room.BlockStarted;
import dev.substrate.events.room.BlockUpdated;
import dev.substrate.events.room.ErrorRaised;
import dev.substrate.events.room.LogEmitted;
import dev.substrate.events.room.MemberGranted;
import dev.substrate.events.room.MemberRevoked;
import dev.substrate.events.room.MetadataUpdated;
import dev.substrate.events.room.RoomClosed;
import dev.substrate.events.room.RoomCreated;
import dev.substrate.events.room.RoomDeleted;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.events.room.StatusChanged;
import dev.substrate.events.room.TextDelta;
import dev.substrate.events.room.TurnEnded;
import dev.substrate.events.room.TurnStarted;
import dev.substrate.fold.FoldLimits;
import dev.substrate.fold.RoomFold;
import dev.substrate.state.ExecutionEnvironment;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A room's events as the session events of a session UI's WebSocket ({@code session:block:start}, {@code
 * session:block:delta}, {@code session:status}...): a pure translation, with no I/O, for one client, that the HTTP
 * API's {@code /v1/rooms/{id}/ws} sends as {@code {"event", "cursor", "data"}} messages.
 *
 * <p>Events before the point the client starts from are {@linkplain #replay replayed} into the {@link #state}
 * snapshot ({@code session:state}: the execution environment, the active query, metadata and the open blocks with
 * their text so far); events after it are {@linkplain #next translated}:
 *
 * <table>
 *   <caption>room events and the session events they become</caption>
 *   <tr><th>room event</th><th>session event</th></tr>
 *   <tr><td>{@code TurnStarted} / {@code TurnEnded}</td><td>{@code session:turn:start} / {@code session:turn:end}
 *       (and the state's {@code activeQuery})</td></tr>
 *   <tr><td>{@code BlockStarted}, {@code TextDelta}, {@code BlockCompleted}</td><td>{@code session:block:start},
 *       {@code session:block:delta} ({@code delta}: the text), {@code session:block:complete} (the whole block)</td></tr>
 *   <tr><td>{@code BlockUpdated}</td><td>{@code session:block:update} (the keys it set), then {@code
 *       session:block:metadata} (the block's whole metadata)</td></tr>
 *   <tr><td>{@code StatusChanged}</td><td>{@code session:status}, with the {@code executionEnvironment} after it</td></tr>
 *   <tr><td>{@code LogEmitted} / {@code ErrorRaised}</td><td>{@code session:log} / {@code session:error}</td></tr>
 *   <tr><td>{@code MetadataUpdated}</td><td>{@code session:metadata}</td></tr>
 *   <tr><td>{@code MemberGranted} / {@code MemberRevoked}</td><td>{@code session:member:granted} / {@code
 *       session:member:revoked}</td></tr>
 *   <tr><td>{@code RoomClosed} / {@code RoomDeleted}</td><td>{@code session:closed} / {@code session:deleted}: the
 *       last event</td></tr>
 * </table>
 *
 * <p>The execution environment follows the fold's own rule ({@link RoomFold#environmentAfter}). Memory is bounded:
 * the text of the open blocks kept for a snapshot is at most {@code maxHeldBytes} together (past it a block's
 * further text is not kept and the block says {@code truncated}; its live deltas are still sent). Not thread-safe:
 * one per client.
 */
public final class SessionEventsTranslator {

    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    /** One session event: its name, such as {@code session:block:delta}, and its data. */
    public record Message(String event, ObjectNode data) {}

    private final String roomId;
    private final long maxHeldBytes;
    private final Map<String, Block> open = new LinkedHashMap<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();
    private ExecutionEnvironment environment = ExecutionEnvironment.newBuilder().build();
    private ObjectNode activeQuery;
    private String kind;
    private String project;
    private String title;
    private boolean closed;
    private boolean ended;
    private long heldBytes;

    /**
     * @param roomId the room followed
     * @param maxHeldBytes the most text bytes kept for the open blocks together
     */
    public SessionEventsTranslator(String roomId, long maxHeldBytes) {
        this.roomId = Objects.requireNonNull(roomId, "roomId");
        this.maxHeldBytes = maxHeldBytes;
    }

    /** A block that started and has not completed. */
    private static final class Block {
        final BlockStarted started;
        final Map<String, String> metadata = new LinkedHashMap<>();
        final StringBuilder text = new StringBuilder();
        long bytes;
        boolean truncated;

        Block(BlockStarted started) {
            this.started = started;
            this.metadata.putAll(started.getMetadata());
        }
    }

    /** Folds an event the client will not be sent (it is before the point the client starts from). */
    public void replay(RoomEvent event) {
        apply(event, null);
    }

    /** The events of one room event after the point the client started from; maybe none. */
    public List<Message> next(RoomEvent event) {
        List<Message> out = new ArrayList<>(2);
        apply(event, out);
        return out;
    }

    /** Whether the room was closed or deleted: nothing follows. */
    public boolean ended() {
        return ended;
    }

    /** The {@code session:state} snapshot of everything replayed or translated so far. */
    public Message state() {
        ObjectNode data = JSON.objectNode();
        data.put("sessionId", roomId);
        data.put("kind", kind);
        data.put("project", project);
        data.put("title", title);
        data.put("closed", closed);
        data.set("executionEnvironment", environment());
        data.set("activeQuery", activeQuery == null ? JSON.nullNode() : activeQuery.deepCopy());
        ObjectNode meta = data.putObject("metadata");
        metadata.forEach(meta::put);
        ArrayNode blocks = data.putArray("openBlocks");
        for (Block block : open.values()) {
            ObjectNode json = describe(block);
            json.put("text", block.text.toString());
            if (block.truncated) {
                json.put("truncated", true);
            }
            blocks.add(json);
        }
        return new Message("session:state", data);
    }

    private void apply(RoomEvent event, List<Message> out) {
        if (ended) {
            return;
        }
        Object payload = event.getPayload();
        environment = RoomFold.environmentAfter(environment, event);
        if (payload instanceof RoomCreated created) {
            kind = created.getKind().name();
            project = created.getProject();
            title = created.getTitle();
        } else if (payload instanceof TurnStarted turn) {
            activeQuery = JSON.objectNode();
            activeQuery.put("turnId", turn.getTurnId());
            activeQuery.put("participant", turn.getParticipant());
            activeQuery.put("startedAt", event.getOccurredAt().toString());
            emit(out, "session:turn:start", activeQuery.deepCopy());
        } else if (payload instanceof TurnEnded turn) {
            if (activeQuery != null
                    && turn.getTurnId().equals(activeQuery.path("turnId").asText())) {
                activeQuery = null;
            }
            emit(
                    out,
                    "session:turn:end",
                    JSON.objectNode().put("turnId", turn.getTurnId()).put("reason", turn.getReason()));
        } else if (payload instanceof BlockStarted started) {
            Block block = new Block(started);
            Block replaced = open.put(started.getBlockId(), block);
            if (replaced != null) {
                heldBytes -= replaced.bytes;
            }
            emit(out, "session:block:start", describe(block));
        } else if (payload instanceof TextDelta delta) {
            Block block = open.get(delta.getBlockId());
            if (block == null) {
                return;
            }
            int bytes = FoldLimits.utf8Length(delta.getText());
            if (heldBytes + bytes <= maxHeldBytes) {
                block.text.append(delta.getText());
                block.bytes += bytes;
                heldBytes += bytes;
            } else {
                block.truncated = true;
            }
            emit(
                    out,
                    "session:block:delta",
                    JSON.objectNode().put("blockId", delta.getBlockId()).put("delta", delta.getText()));
        } else if (payload instanceof BlockUpdated updated) {
            Block block = open.get(updated.getBlockId());
            if (block == null) {
                return;
            }
            block.metadata.putAll(updated.getMetadata());
            ObjectNode update = JSON.objectNode().put("blockId", updated.getBlockId());
            ObjectNode changed = update.putObject("metadata");
            updated.getMetadata().forEach(changed::put);
            emit(out, "session:block:update", update);
            ObjectNode whole = JSON.objectNode().put("blockId", updated.getBlockId());
            ObjectNode all = whole.putObject("metadata");
            block.metadata.forEach(all::put);
            emit(out, "session:block:metadata", whole);
        } else if (payload instanceof BlockCompleted completed) {
            Block block = open.remove(completed.getBlockId());
            if (block == null) {
                return;
            }
            heldBytes -= block.bytes;
            ObjectNode data = describe(block);
            data.put("text", completed.getText() != null ? completed.getText() : block.text.toString());
            if (completed.getText() == null && block.truncated) {
                data.put("truncated", true);
            }
            data.put("completedAt", event.getOccurredAt().toString());
            emit(out, "session:block:complete", data);
        } else if (payload instanceof StatusChanged status) {
            ObjectNode data = JSON.objectNode();
            data.put("status", status.getStatus().name());
            data.put("message", status.getMessage());
            data.set("executionEnvironment", environment());
            emit(out, "session:status", data);
        } else if (payload instanceof LogEmitted line) {
            emit(
                    out,
                    "session:log",
                    JSON.objectNode()
                            .put("level", line.getLevel().name())
                            .put("message", line.getMessage())
                            .put("timestamp", event.getOccurredAt().toString()));
        } else if (payload instanceof ErrorRaised error) {
            emit(
                    out,
                    "session:error",
                    JSON.objectNode()
                            .put("code", error.getCode())
                            .put("message", error.getMessage())
                            .put("timestamp", event.getOccurredAt().toString()));
        } else if (payload instanceof MetadataUpdated updated) {
            metadata.putAll(updated.getMetadata());
            ObjectNode data = JSON.objectNode();
            ObjectNode changed = data.putObject("metadata");
            updated.getMetadata().forEach(changed::put);
            emit(out, "session:metadata", data);
        } else if (payload instanceof MemberGranted granted) {
            emit(
                    out,
                    "session:member:granted",
                    JSON.objectNode()
                            .put("principal", granted.getMember().getPrincipal())
                            .put("role", granted.getMember().getRole().name()));
        } else if (payload instanceof MemberRevoked revoked) {
            emit(out, "session:member:revoked", JSON.objectNode().put("principal", revoked.getPrincipal()));
        } else if (payload instanceof RoomClosed close) {
            closed = true;
            ended = true;
            emit(out, "session:closed", JSON.objectNode().put("reason", close.getReason()));
        } else if (payload instanceof RoomDeleted deleted) {
            ended = true;
            emit(
                    out,
                    "session:deleted",
                    JSON.objectNode().put("reason", deleted.getReason()).put("expired", deleted.getExpired()));
        }
    }

    private ObjectNode environment() {
        ObjectNode json = JSON.objectNode();
        json.put("status", environment.getStatus().name());
        json.put("statusMessage", environment.getStatusMessage());
        Instant checked = environment.getLastHealthCheck();
        json.put("lastHealthCheck", checked == null ? null : checked.toString());
        json.put("restartCount", environment.getRestartCount());
        json.put("lastError", environment.getLastError());
        return json;
    }

    private static ObjectNode describe(Block block) {
        ObjectNode json = JSON.objectNode();
        json.put("blockId", block.started.getBlockId());
        json.put("turnId", block.started.getTurnId());
        json.put("kind", block.started.getKind());
        json.put("role", block.started.getRole());
        ObjectNode metadata = json.putObject("metadata");
        block.metadata.forEach(metadata::put);
        return json;
    }

    private static void emit(List<Message> out, String event, ObjectNode data) {
        if (out != null) {
            out.add(new Message(event, data));
        }
    }
}
