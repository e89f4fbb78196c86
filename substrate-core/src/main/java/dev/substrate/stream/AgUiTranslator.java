package dev.substrate.stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.substrate.events.room.BlockCompleted;
import dev.substrate.events.room.BlockStarted;
import dev.substrate.events.room.BlockUpdated;
import dev.substrate.events.room.ErrorRaised;
import dev.substrate.events.room.LogEmitted;
import dev.substrate.events.room.MetadataUpdated;
import dev.substrate.events.room.RoomClosed;
import dev.substrate.events.room.RoomDeleted;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.events.room.StatusChanged;
import dev.substrate.events.room.TextDelta;
import dev.substrate.events.room.TurnEnded;
import dev.substrate.events.room.TurnStarted;
import dev.substrate.fold.FoldLimits;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A room's events as AG-UI events (the agent-UI protocol of {@code @ag-ui/client}), for one client: a pure
 * translation, with no I/O, that the HTTP API's {@code /v1/rooms/{id}/ag-ui} view and any {@link RoomStream} user
 * share.
 *
 * <p>Events before the point a client starts from are {@linkplain #replay replayed}: they build what {@link #start}
 * sends first ({@code RUN_STARTED}, a {@code MESSAGES_SNAPSHOT} of the completed blocks, a {@code STATE_SNAPSHOT}
 * of the room, then the turn in progress and the blocks open at that point with the text they have so far). Events
 * after it are {@linkplain #next translated} one by one:
 *
 * <table>
 *   <caption>room events and the AG-UI events they become</caption>
 *   <tr><th>room event</th><th>AG-UI</th></tr>
 *   <tr><td>block of kind {@code text} (or any other kind)</td>
 *       <td>{@code TEXT_MESSAGE_START} / {@code _CONTENT} per delta / {@code _END}</td></tr>
 *   <tr><td>block of kind {@code thinking}</td>
 *       <td>{@code REASONING_START}, {@code REASONING_MESSAGE_START} / {@code _CONTENT} / {@code _END},
 *       {@code REASONING_END}</td></tr>
 *   <tr><td>block of kind {@code tool_use}</td><td>{@code TOOL_CALL_START} (name from metadata {@code name} or
 *       {@code tool}) / {@code TOOL_CALL_ARGS} per delta / {@code TOOL_CALL_END}</td></tr>
 *   <tr><td>block of kind {@code tool_result}</td><td>{@code TOOL_CALL_RESULT} at completion, for the tool call
 *       its metadata {@code toolCallId} names (else the turn's last tool call)</td></tr>
 *   <tr><td>{@code TurnStarted} / {@code TurnEnded}</td><td>{@code STEP_STARTED} / {@code STEP_FINISHED}, step
 *       name the turn id</td></tr>
 *   <tr><td>{@code StatusChanged}, {@code MetadataUpdated}, turns</td><td>{@code STATE_DELTA} (JSON Patch of the
 *       snapshot {@code {status, activeTurn, metadata, closed}})</td></tr>
 *   <tr><td>{@code LogEmitted} / {@code ErrorRaised}</td><td>{@code CUSTOM} named {@code substrate.log} /
 *       {@code substrate.error}</td></tr>
 *   <tr><td>{@code RoomClosed}</td><td>ends open blocks and the step, then {@code RUN_FINISHED}</td></tr>
 *   <tr><td>the room's run waits on interrupts</td><td>ends open blocks and the step, then {@code RUN_FINISHED} with
 *   the interrupt outcome ({@link #interrupted})</td></tr>
 *   <tr><td>{@code RoomDeleted}</td><td>{@code RUN_ERROR}, code {@code deleted}</td></tr>
 * </table>
 *
 * <p>Every event carries {@code timestamp}, the room event's time in epoch milliseconds. Memory is bounded: the
 * text of the completed messages kept for the snapshot is at most {@code maxHeldBytes} (past it the oldest leave
 * the snapshot, and a {@code CUSTOM} {@code substrate.truncated} event says how many), and so is the text of every
 * open block together (past it a block's further text is not kept for a later snapshot; its live deltas are still
 * sent). Not thread-safe: one per client.
 */
public final class AgUiTranslator {

    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    private final String threadId;
    private final String runId;
    private final long maxHeldBytes;
    private final Deque<Message> messages = new ArrayDeque<>();
    private final Map<String, Block> open = new LinkedHashMap<>();
    private final ObjectNode state = JSON.objectNode();
    private long openBytes;
    private long snapshotBytes;
    private int droppedMessages;
    private String activeTurn;
    private String lastToolCall;
    private boolean ended;

    /**
     * A translator for one client.
     *
     * @param threadId the AG-UI thread: the room id
     * @param runId the AG-UI run the client asked for, echoed in {@code RUN_STARTED} and {@code RUN_FINISHED}
     * @param maxHeldBytes the most text bytes kept for the snapshot, and for the open blocks
     */
    public AgUiTranslator(String threadId, String runId, long maxHeldBytes) {
        this.threadId = Objects.requireNonNull(threadId, "threadId");
        this.runId = Objects.requireNonNull(runId, "runId");
        this.maxHeldBytes = maxHeldBytes;
        state.putNull("status");
        state.putNull("activeTurn");
        state.putObject("metadata");
        state.put("closed", false);
    }

    /** A completed block, as it appears in the snapshot. */
    private record Message(ObjectNode json, long bytes) {}

    /** A block that has started and not completed. */
    private static final class Block {
        final String id;
        final String kind;
        final String role;
        final Map<String, String> metadata = new LinkedHashMap<>();
        final StringBuilder text = new StringBuilder();
        long bytes;

        Block(BlockStarted started) {
            this.id = started.getBlockId();
            this.kind = started.getKind();
            this.role = started.getRole();
            this.metadata.putAll(started.getMetadata());
        }

        String toolName() {
            return metadata.getOrDefault("name", metadata.getOrDefault("tool", "tool"));
        }
    }

    /** Folds an event the client will not be sent (it is before the point the client starts from). */
    public void replay(RoomEvent event) {
        apply(event, null);
    }

    /**
     * What a client starting here is sent first: {@code RUN_STARTED}, {@code MESSAGES_SNAPSHOT}, {@code
     * STATE_SNAPSHOT}, the turn in progress as {@code STEP_STARTED}, and each open block's start and text so far;
     * {@code RUN_FINISHED} too if the room was closed, or {@code RUN_ERROR} if it was deleted.
     */
    public List<ObjectNode> start(Instant at) {
        List<ObjectNode> out = new ArrayList<>();
        ObjectNode started = event("RUN_STARTED", at);
        started.put("threadId", threadId);
        started.put("runId", runId);
        out.add(started);
        if (droppedMessages > 0) {
            ObjectNode truncated = event("CUSTOM", at);
            truncated.put("name", "substrate.truncated");
            truncated.putObject("value").put("messagesLeftOut", droppedMessages);
            out.add(truncated);
        }
        ObjectNode snapshot = event("MESSAGES_SNAPSHOT", at);
        ArrayNode list = snapshot.putArray("messages");
        messages.forEach(message -> list.add(message.json()));
        out.add(snapshot);
        ObjectNode stateSnapshot = event("STATE_SNAPSHOT", at);
        stateSnapshot.set("snapshot", state.deepCopy());
        out.add(stateSnapshot);
        if (ended) {
            out.add(state.path("closed").asBoolean() ? finished(at) : error("deleted", "the room was deleted", at));
            return out;
        }
        if (activeTurn != null) {
            out.add(step("STEP_STARTED", activeTurn, at));
        }
        for (Block block : open.values()) {
            out.addAll(opened(block, at));
            ObjectNode content = block.text.length() > 0 ? content(block, block.text.toString(), at) : null;
            if (content != null) {
                out.add(content);
            }
        }
        return out;
    }

    /** The AG-UI events of one event after the point the client started from; maybe none. */
    public List<ObjectNode> next(RoomEvent event) {
        List<ObjectNode> out = new ArrayList<>();
        apply(event, out);
        return out;
    }

    /**
     * Ends the AG-UI run because the room's Substrate run waits on {@code interrupts} (AG-UI {@code Interrupt}
     * objects: {@code id}, {@code reason}, and the optional rest): the open blocks and the step are ended, then
     * {@code RUN_FINISHED} with the outcome {@code {"type": "interrupt", "interrupts": [...]}}. A client answers them
     * with {@code RunAgentInput.resume} on its next run. Nothing when the run is over already or there are none.
     */
    public List<ObjectNode> interrupted(List<ObjectNode> interrupts, Instant at) {
        if (ended || interrupts.isEmpty()) {
            return List.of();
        }
        List<ObjectNode> out = new ArrayList<>();
        for (Block block : List.copyOf(open.values())) {
            out.addAll(closed(block, block.text.toString(), at));
        }
        if (activeTurn != null) {
            out.add(step("STEP_FINISHED", activeTurn, at));
        }
        ObjectNode finished = finished(at);
        ObjectNode outcome = finished.putObject("outcome");
        outcome.put("type", "interrupt");
        outcome.putArray("interrupts").addAll(interrupts);
        out.add(finished);
        return out;
    }

    /** Whether the run is over for this client ({@code RUN_FINISHED} or {@code RUN_ERROR} was produced). */
    public boolean ended() {
        return ended;
    }

    /** A {@code RUN_ERROR}: the stream ends for {@code code} (revoked, slow-consumer, shutdown, deleted...). */
    public ObjectNode error(String code, String message, Instant at) {
        ended = true;
        ObjectNode error = event("RUN_ERROR", at);
        error.put("message", message);
        error.put("code", code);
        return error;
    }

    private void apply(RoomEvent event, List<ObjectNode> out) {
        if (ended) {
            return;
        }
        Instant at = event.getOccurredAt();
        Object payload = event.getPayload();
        if (payload instanceof BlockStarted started) {
            Block block = new Block(started);
            Block replaced = open.put(block.id, block);
            if (replaced != null) {
                openBytes -= replaced.bytes;
            }
            if (out != null && replaced == null) {
                out.addAll(opened(block, at));
            }
        } else if (payload instanceof TextDelta delta) {
            Block block = open.get(delta.getBlockId());
            if (block == null || delta.getText().isEmpty()) {
                return;
            }
            int bytes = FoldLimits.utf8Length(delta.getText());
            if (openBytes + bytes <= maxHeldBytes) {
                block.text.append(delta.getText());
                block.bytes += bytes;
                openBytes += bytes;
            }
            ObjectNode content = out == null ? null : content(block, delta.getText(), at);
            if (content != null) {
                out.add(content);
            }
        } else if (payload instanceof BlockUpdated updated) {
            Block block = open.get(updated.getBlockId());
            if (block != null) {
                block.metadata.putAll(updated.getMetadata());
            }
        } else if (payload instanceof BlockCompleted completed) {
            Block block = open.remove(completed.getBlockId());
            if (block == null) {
                return;
            }
            openBytes -= block.bytes;
            String text = completed.getText() != null ? completed.getText() : block.text.toString();
            if (out != null) {
                out.addAll(closed(block, text, at));
            }
            keep(block, text);
        } else if (payload instanceof TurnStarted turn) {
            if (activeTurn != null && out != null) {
                out.add(step("STEP_FINISHED", activeTurn, at));
            }
            activeTurn = turn.getTurnId();
            ObjectNode value = JSON.objectNode().put("turnId", turn.getTurnId());
            value.put("participant", turn.getParticipant());
            patch(out, at, "replace", "/activeTurn", value);
            if (out != null) {
                out.add(step("STEP_STARTED", activeTurn, at));
            }
        } else if (payload instanceof TurnEnded turn) {
            if (!turn.getTurnId().equals(activeTurn)) {
                return;
            }
            if (out != null) {
                out.add(step("STEP_FINISHED", activeTurn, at));
            }
            activeTurn = null;
            patch(out, at, "replace", "/activeTurn", JSON.nullNode());
        } else if (payload instanceof StatusChanged status) {
            ObjectNode value =
                    JSON.objectNode().put("status", status.getStatus().name());
            value.put("message", status.getMessage());
            patch(out, at, "replace", "/status", value);
        } else if (payload instanceof MetadataUpdated metadata) {
            List<ObjectNode> operations = new ArrayList<>();
            metadata.getMetadata().forEach((key, value) -> {
                ((ObjectNode) state.get("metadata")).put(key, value);
                operations.add(operation("add", "/metadata/" + pointer(key), JSON.textNode(value)));
            });
            if (out != null && !operations.isEmpty()) {
                ObjectNode delta = event("STATE_DELTA", at);
                delta.putArray("delta").addAll(operations);
                out.add(delta);
            }
        } else if (payload instanceof LogEmitted line) {
            if (out != null) {
                ObjectNode custom = event("CUSTOM", at);
                custom.put("name", "substrate.log");
                custom.putObject("value").put("level", line.getLevel().name()).put("message", line.getMessage());
                out.add(custom);
            }
        } else if (payload instanceof ErrorRaised error) {
            if (out != null) {
                ObjectNode custom = event("CUSTOM", at);
                custom.put("name", "substrate.error");
                custom.putObject("value").put("code", error.getCode()).put("message", error.getMessage());
                out.add(custom);
            }
        } else if (payload instanceof RoomClosed) {
            state.put("closed", true);
            if (out != null) {
                out.add(patchEvent(at, "replace", "/closed", JSON.booleanNode(true)));
                for (Block block : List.copyOf(open.values())) {
                    out.addAll(closed(block, block.text.toString(), at));
                }
                if (activeTurn != null) {
                    out.add(step("STEP_FINISHED", activeTurn, at));
                }
                out.add(finished(at));
            }
            ended = true;
        } else if (payload instanceof RoomDeleted) {
            if (out != null) {
                out.add(error("deleted", "the room was deleted", at));
            }
            ended = true;
        }
    }

    /** Keeps a completed block for the snapshot, forgetting the oldest messages past the bound. */
    private void keep(Block block, String text) {
        ObjectNode message = JSON.objectNode();
        message.put("id", block.id);
        switch (block.kind) {
            case "thinking" -> message.put("role", "reasoning").put("content", text);
            case "tool_use" -> {
                message.put("role", "assistant");
                ObjectNode call = message.putArray("toolCalls").addObject();
                call.put("id", block.id);
                call.put("type", "function");
                call.putObject("function").put("name", block.toolName()).put("arguments", text);
            }
            case "tool_result" ->
                message.put("role", "tool").put("content", text).put("toolCallId", toolCallOf(block));
            default -> message.put("role", textRole(block.role)).put("content", text);
        }
        if ("tool_use".equals(block.kind)) {
            lastToolCall = block.id;
        }
        long bytes = FoldLimits.utf8Length(text);
        messages.addLast(new Message(message, bytes));
        snapshotBytes += bytes;
        while (snapshotBytes > maxHeldBytes && !messages.isEmpty()) {
            snapshotBytes -= messages.removeFirst().bytes();
            droppedMessages++;
        }
    }

    private List<ObjectNode> opened(Block block, Instant at) {
        List<ObjectNode> out = new ArrayList<>();
        switch (block.kind) {
            case "thinking" -> {
                out.add(event("REASONING_START", at).put("messageId", block.id));
                out.add(event("REASONING_MESSAGE_START", at)
                        .put("messageId", block.id)
                        .put("role", "reasoning"));
            }
            case "tool_use" ->
                out.add(event("TOOL_CALL_START", at).put("toolCallId", block.id).put("toolCallName", block.toolName()));
            case "tool_result" -> {
                // Sent whole at completion: AG-UI's tool result is one event.
            }
            default ->
                out.add(event("TEXT_MESSAGE_START", at)
                        .put("messageId", block.id)
                        .put("role", textRole(block.role)));
        }
        return out;
    }

    private ObjectNode content(Block block, String text, Instant at) {
        return switch (block.kind) {
            case "thinking" ->
                event("REASONING_MESSAGE_CONTENT", at)
                        .put("messageId", block.id)
                        .put("delta", text);
            case "tool_use" ->
                event("TOOL_CALL_ARGS", at).put("toolCallId", block.id).put("delta", text);
            case "tool_result" -> null;
            default ->
                event("TEXT_MESSAGE_CONTENT", at).put("messageId", block.id).put("delta", text);
        };
    }

    private List<ObjectNode> closed(Block block, String text, Instant at) {
        open.remove(block.id);
        List<ObjectNode> out = new ArrayList<>();
        switch (block.kind) {
            case "thinking" -> {
                out.add(event("REASONING_MESSAGE_END", at).put("messageId", block.id));
                out.add(event("REASONING_END", at).put("messageId", block.id));
            }
            case "tool_use" -> out.add(event("TOOL_CALL_END", at).put("toolCallId", block.id));
            case "tool_result" ->
                out.add(event("TOOL_CALL_RESULT", at)
                        .put("messageId", block.id)
                        .put("toolCallId", toolCallOf(block))
                        .put("content", text)
                        .put("role", "tool"));
            default -> out.add(event("TEXT_MESSAGE_END", at).put("messageId", block.id));
        }
        return out;
    }

    private String toolCallOf(Block result) {
        String named = result.metadata.getOrDefault("toolCallId", result.metadata.get("toolUseId"));
        return named != null ? named : lastToolCall != null ? lastToolCall : result.id;
    }

    private static String textRole(String role) {
        return role != null && (role.equals("user") || role.equals("system") || role.equals("developer"))
                ? role
                : "assistant";
    }

    private void patch(List<ObjectNode> out, Instant at, String op, String path, JsonNode value) {
        String field = path.substring(1);
        state.set(field, value);
        if (out != null) {
            out.add(patchEvent(at, op, path, value));
        }
    }

    private ObjectNode patchEvent(Instant at, String op, String path, JsonNode value) {
        ObjectNode delta = event("STATE_DELTA", at);
        delta.putArray("delta").add(operation(op, path, value));
        return delta;
    }

    private static ObjectNode operation(String op, String path, JsonNode value) {
        ObjectNode operation = JSON.objectNode();
        operation.put("op", op);
        operation.put("path", path);
        operation.set("value", value);
        return operation;
    }

    /** A JSON Pointer reference token (RFC 6901): {@code ~} and {@code /} escaped. */
    private static String pointer(String key) {
        return key.replace("~", "~0").replace("/", "~1");
    }

    private ObjectNode finished(Instant at) {
        ended = true;
        ObjectNode finished = event("RUN_FINISHED", at);
        finished.put("threadId", threadId);
        finished.put("runId", runId);
        return finished;
    }

    private static ObjectNode step(String type, String turnId, Instant at) {
        return event(type, at).put("stepName", turnId);
    }

    private static ObjectNode event(String type, Instant at) {
        ObjectNode event = JSON.objectNode();
        event.put("type", type);
        event.put("timestamp", at.toEpochMilli());
        return event;
    }
}
