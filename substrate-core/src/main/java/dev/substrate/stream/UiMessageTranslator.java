package dev.substrate.stream;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.substrate.events.room.BlockCompleted;
import dev.substrate.events.room.BlockStarted;
import dev.substrate.events.room.ErrorRaised;
import dev.substrate.events.room.LogEmitted;
import dev.substrate.events.room.RoomClosed;
import dev.substrate.events.room.RoomDeleted;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.events.room.StatusChanged;
import dev.substrate.events.room.TextDelta;
import dev.substrate.events.room.TurnEnded;
import dev.substrate.events.room.TurnStarted;
import dev.substrate.fold.FoldLimits;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A room's events as the Vercel AI SDK's UI message stream (the chunks {@code useChat} and {@code
 * readUIMessageStream} read) and as its {@code UIMessage}s: a pure translation, with no I/O, shared by the HTTP API's
 * {@code /v1/rooms/{id}/ai-sdk/stream} (the active turn's chunks) and {@code /ai-sdk/messages} (the transcript).
 *
 * <p>Each turn is one message, its id the turn id (the same on every replay), its role {@code user} when the turn's
 * participant is {@code user} (or {@code user:...}), {@code system} for {@code system}, else {@code assistant}; a
 * block outside any turn is a message of its own, its id the block id. A message's chunks: {@code start} and {@code
 * start-step}; per block, {@code text-start}/{@code -delta}/{@code -end} (kind {@code text} and any other), {@code
 * reasoning-*} (kind {@code thinking}), {@code tool-input-start}/{@code -delta}/{@code -available} (kind {@code
 * tool_use}, its tool the metadata's {@code name} or {@code tool}, its input the block's text read as JSON, else the
 * text), {@code tool-output-available} (kind {@code tool_result}, for the tool call its metadata's {@code toolCallId}
 * or {@code toolUseId} names, else the message's last one); inside a turn, a log line, a status change and an error
 * as {@code data-substrate-log}, {@code data-substrate-status} and {@code data-substrate-error} parts (each with the
 * event id as its id), an error also as an {@code error} chunk; then {@code finish-step} and {@code finish} (reason
 * the turn's end reason when the SDK knows it, {@code stop} when none, else {@code other}).
 *
 * <p>{@link #messages} assembles the chunks as the SDK does, so a message read there equals the one a client
 * assembles from the stream. Memory is bounded by {@code maxHeldBytes}: the text of the open tool blocks together,
 * and the text of the kept messages (past it the oldest are left out and {@link #messagesLeftOut} counts them).
 * Not thread-safe: one per request.
 */
public final class UiMessageTranslator {

    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final Set<String> FINISH_REASONS =
            Set.of("stop", "length", "content-filter", "tool-calls", "error", "other");

    private final long maxHeldBytes;
    private final boolean keepMessages;
    private final Map<String, Block> open = new LinkedHashMap<>();
    private final Deque<Kept> kept = new ArrayDeque<>();
    /** Chunks made and not yet assembled into their message: their fields are set after {@link #chunk} returns. */
    private final List<ObjectNode> pending = new ArrayList<>();

    private Message current;
    private long openBytes;
    private long keptBytes;
    private int leftOut;
    private boolean ended;

    /**
     * @param maxHeldBytes the most text bytes held for open tool blocks, and for the kept messages
     * @param keepMessages whether to assemble {@link #messages} (a stream view needs only the chunks)
     */
    public UiMessageTranslator(long maxHeldBytes, boolean keepMessages) {
        this.maxHeldBytes = maxHeldBytes;
        this.keepMessages = keepMessages;
    }

    /** The message being written: its id, its assembled form, the tool calls it made. */
    private static final class Message {
        final String id;
        final boolean turn;
        final ObjectNode json;
        final Map<String, ObjectNode> parts = new HashMap<>();
        final Set<String> toolCalls = new HashSet<>();
        String lastToolCall;
        long bytes;

        Message(String id, String role, boolean turn) {
            this.id = id;
            this.turn = turn;
            this.json = JSON.objectNode();
            json.put("id", id);
            json.put("role", role);
            json.putArray("parts");
        }
    }

    private record Kept(ObjectNode json, long bytes) {}

    /** A block that started and has not completed. */
    private static final class Block {
        final String id;
        final String kind;
        final String toolName;
        final Map<String, String> metadata;
        final StringBuilder text = new StringBuilder();
        long bytes;
        boolean truncated;
        boolean sentText;

        Block(BlockStarted started) {
            this.id = started.getBlockId();
            this.kind = started.getKind();
            this.metadata = new HashMap<>(started.getMetadata());
            this.toolName = metadata.getOrDefault("name", metadata.getOrDefault("tool", "tool"));
        }

        boolean holdsText() {
            return kind.equals("tool_use") || kind.equals("tool_result");
        }
    }

    /** The chunks of one room event; maybe none. */
    public List<ObjectNode> next(RoomEvent event) {
        List<ObjectNode> out = new ArrayList<>(2);
        if (ended) {
            return out;
        }
        Object payload = event.getPayload();
        if (payload instanceof TurnStarted turn) {
            finish(out, "other");
            start(out, turn.getTurnId(), role(turn.getParticipant()), true);
        } else if (payload instanceof TurnEnded turn) {
            if (current != null && current.turn && current.id.equals(turn.getTurnId())) {
                finish(out, finishReason(turn.getReason()));
            }
        } else if (payload instanceof BlockStarted started) {
            if (current == null) {
                start(out, started.getBlockId(), textRole(started.getRole()), false);
            }
            Block block = new Block(started);
            Block replaced = open.put(block.id, block);
            if (replaced != null) {
                openBytes -= replaced.bytes;
            }
            switch (block.kind) {
                case "thinking" -> chunk(out, "reasoning-start").put("id", block.id);
                case "tool_use" ->
                    chunk(out, "tool-input-start").put("toolCallId", block.id).put("toolName", block.toolName);
                case "tool_result" -> {
                    // Sent whole at completion: the SDK's tool output is one chunk.
                }
                default -> chunk(out, "text-start").put("id", block.id);
            }
        } else if (payload instanceof TextDelta delta) {
            Block block = open.get(delta.getBlockId());
            if (block == null || delta.getText().isEmpty()) {
                return out;
            }
            delta(out, block, delta.getText());
        } else if (payload instanceof BlockCompleted completed) {
            Block block = open.remove(completed.getBlockId());
            if (block == null) {
                return out;
            }
            openBytes -= block.bytes;
            if (!block.sentText
                    && completed.getText() != null
                    && !completed.getText().isEmpty()) {
                // A block written whole at its completion, with no deltas: its text is the completion's.
                delta(out, block, completed.getText());
            }
            String text = completed.getText() != null ? completed.getText() : block.text.toString();
            complete(out, block, text);
            if (current != null && !current.turn) {
                finish(out, "stop");
            }
        } else if (payload instanceof LogEmitted line) {
            data(out, "data-substrate-log", event.getEventId())
                    .put("level", line.getLevel().name())
                    .put("message", line.getMessage());
        } else if (payload instanceof StatusChanged status) {
            data(out, "data-substrate-status", event.getEventId())
                    .put("status", status.getStatus().name())
                    .put("message", status.getMessage());
        } else if (payload instanceof ErrorRaised error) {
            if (current != null && current.turn) {
                chunk(out, "error").put("errorText", error.getCode() + ": " + error.getMessage());
            }
            data(out, "data-substrate-error", event.getEventId())
                    .put("code", error.getCode())
                    .put("message", error.getMessage());
        } else if (payload instanceof RoomClosed || payload instanceof RoomDeleted) {
            finish(out, "other");
            ended = true;
        }
        flush(current);
        return out;
    }

    /** Whether the room was closed or deleted: no chunk follows. */
    public boolean ended() {
        return ended;
    }

    /** The id of the message being written, or null between messages. */
    public String currentMessage() {
        return current == null ? null : current.id;
    }

    /** The messages completed so far, oldest first, then the one being written (with what it has so far). */
    public ArrayNode messages() {
        ArrayNode list = JSON.arrayNode();
        kept.forEach(message -> list.add(message.json()));
        if (current != null) {
            list.add(current.json.deepCopy());
        }
        return list;
    }

    /** How many of the oldest messages {@link #messages} leaves out to stay within its bound. */
    public int messagesLeftOut() {
        return leftOut;
    }

    private void start(List<ObjectNode> out, String id, String role, boolean turn) {
        current = new Message(id, role, turn);
        chunk(out, "start").put("messageId", id);
        chunk(out, "start-step");
    }

    private void delta(List<ObjectNode> out, Block block, String text) {
        block.sentText = true;
        switch (block.kind) {
            case "thinking" -> chunk(out, "reasoning-delta").put("id", block.id).put("delta", text);
            case "tool_use" -> {
                hold(block, text);
                chunk(out, "tool-input-delta").put("toolCallId", block.id).put("inputTextDelta", text);
            }
            case "tool_result" -> hold(block, text);
            default -> chunk(out, "text-delta").put("id", block.id).put("delta", text);
        }
    }

    private void hold(Block block, String text) {
        int bytes = FoldLimits.utf8Length(text);
        if (openBytes + bytes <= maxHeldBytes) {
            block.text.append(text);
            block.bytes += bytes;
            openBytes += bytes;
        } else {
            block.truncated = true;
        }
    }

    private void complete(List<ObjectNode> out, Block block, String text) {
        switch (block.kind) {
            case "thinking" -> chunk(out, "reasoning-end").put("id", block.id);
            case "tool_use" -> {
                ObjectNode available = chunk(out, "tool-input-available")
                        .put("toolCallId", block.id)
                        .put("toolName", block.toolName);
                available.set("input", value(text));
                if (current != null) {
                    current.toolCalls.add(block.id);
                    current.lastToolCall = block.id;
                }
            }
            case "tool_result" -> {
                String call = block.metadata.getOrDefault("toolCallId", block.metadata.get("toolUseId"));
                if (call == null && current != null) {
                    call = current.lastToolCall;
                }
                if (current != null && call != null && current.toolCalls.contains(call)) {
                    ObjectNode output = chunk(out, "tool-output-available").put("toolCallId", call);
                    output.set("output", value(text));
                } else {
                    // A result for no tool call of this message: the SDK would refuse it as a tool output.
                    ObjectNode data = data(out, "data-substrate-tool-result", block.id);
                    data.put("toolCallId", call);
                    data.set("output", value(text));
                }
            }
            default -> chunk(out, "text-end").put("id", block.id);
        }
    }

    private void finish(List<ObjectNode> out, String reason) {
        if (current == null) {
            return;
        }
        for (Block block : List.copyOf(open.values())) {
            complete(out, block, block.text.toString());
        }
        open.clear();
        openBytes = 0;
        chunk(out, "finish-step");
        chunk(out, "finish").put("finishReason", reason);
        flush(current);
        if (keepMessages) {
            kept.addLast(new Kept(current.json, current.bytes));
            keptBytes += current.bytes;
            while (keptBytes > maxHeldBytes && kept.size() > 1) {
                keptBytes -= kept.removeFirst().bytes();
                leftOut++;
            }
        }
        current = null;
    }

    /** A data chunk of the message being written, its {@code data} object returned; none outside a turn. */
    private ObjectNode data(List<ObjectNode> out, String type, String id) {
        ObjectNode data = JSON.objectNode();
        if (current == null || !current.turn) {
            return data;
        }
        ObjectNode chunk = chunk(out, type).put("id", id);
        chunk.set("data", data);
        return data;
    }

    /** Adds a chunk to {@code out} and to the message it belongs to, as the SDK assembles it. */
    private ObjectNode chunk(List<ObjectNode> out, String type) {
        ObjectNode chunk = JSON.objectNode();
        chunk.put("type", type);
        out.add(chunk);
        if (keepMessages) {
            pending.add(chunk);
        }
        return chunk;
    }

    /** Assembles the chunks made since the last time into {@code message}, as the SDK would. */
    private void flush(Message message) {
        if (message != null) {
            for (ObjectNode chunk : pending) {
                apply(message, chunk);
            }
        }
        pending.clear();
    }

    private void apply(Message message, ObjectNode chunk) {
        String type = chunk.path("type").asText();
        ArrayNode parts = (ArrayNode) message.json.get("parts");
        switch (type) {
            case "start-step" -> parts.addObject().put("type", "step-start");
            case "text-start", "reasoning-start" -> {
                ObjectNode part = parts.addObject();
                part.put("type", type.equals("text-start") ? "text" : "reasoning");
                if (type.equals("reasoning-start")) {
                    part.put("id", chunk.path("id").asText()); // the SDK keeps a reasoning part's id, not a text part's
                }
                part.put("text", "");
                part.put("state", "streaming");
                message.parts.put(chunk.path("id").asText(), part);
            }
            case "text-delta", "reasoning-delta" -> {
                ObjectNode part = message.parts.get(chunk.path("id").asText());
                if (part != null) {
                    String delta = chunk.path("delta").asText();
                    part.put("text", part.path("text").asText() + delta);
                    message.bytes += FoldLimits.utf8Length(delta);
                }
            }
            case "text-end", "reasoning-end" -> {
                ObjectNode part = message.parts.get(chunk.path("id").asText());
                if (part != null) {
                    part.put("state", "done");
                }
            }
            case "tool-input-start" -> {
                ObjectNode part = parts.addObject();
                part.put("type", "tool-" + chunk.path("toolName").asText());
                part.put("toolCallId", chunk.path("toolCallId").asText());
                part.put("state", "input-streaming");
                message.parts.put(chunk.path("toolCallId").asText(), part);
            }
            case "tool-input-available" -> {
                ObjectNode part = message.parts.get(chunk.path("toolCallId").asText());
                if (part != null) {
                    part.put("state", "input-available");
                    part.set("input", chunk.get("input"));
                    message.bytes += chunk.get("input").toString().length();
                }
            }
            case "tool-output-available" -> {
                ObjectNode part = message.parts.get(chunk.path("toolCallId").asText());
                if (part != null) {
                    part.put("state", "output-available");
                    part.set("output", chunk.get("output"));
                    message.bytes += chunk.get("output").toString().length();
                }
            }
            default -> {
                if (type.startsWith("data-")) {
                    parts.add(chunk.deepCopy());
                    message.bytes += chunk.get("data").toString().length();
                }
            }
        }
    }

    private static String role(String participant) {
        if (participant != null && (participant.equals("user") || participant.startsWith("user:"))) {
            return "user";
        }
        return "system".equals(participant) ? "system" : "assistant";
    }

    private static String textRole(String role) {
        return role != null && (role.equals("user") || role.equals("system")) ? role : "assistant";
    }

    private static String finishReason(String reason) {
        if (reason == null) {
            return "stop";
        }
        return FINISH_REASONS.contains(reason) ? reason : "other";
    }

    /** A tool's input or output: the text read as JSON when it is JSON, else the text itself. */
    private static JsonNode value(String text) {
        String trimmed = text.strip();
        if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
            try {
                return MAPPER.readTree(trimmed);
            } catch (JsonProcessingException e) {
                // not JSON: the text as it is
            }
        }
        return JSON.textNode(text);
    }
}
