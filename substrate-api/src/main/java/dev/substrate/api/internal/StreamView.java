package dev.substrate.api.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.substrate.events.room.BlockCompleted;
import dev.substrate.events.room.BlockStarted;
import dev.substrate.events.room.BlockUpdated;
import dev.substrate.events.room.RoomClosed;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.events.room.TextDelta;
import dev.substrate.events.room.TurnEnded;
import dev.substrate.fold.FoldLimits;
import dev.substrate.stream.AgUiTranslator;
import dev.substrate.stream.RoomStream;
import dev.substrate.stream.SessionEventsTranslator;
import dev.substrate.stream.UiMessageTranslator;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.avro.specific.SpecificRecord;

/**
 * How a room stream shows its events to a client: each as written, blocks assembled from their deltas, or AG-UI
 * events.
 */
interface StreamView {

    /**
     * One event: its id (a cursor), its name (none: an unnamed {@code message}) and its JSON data (null for a view's
     * own marker, such as the AI SDK's {@code [DONE]}, which its {@link #format} writes).
     */
    record Event(long cursor, String name, JsonNode data) {}

    /** {@code event} as a server-sent event: {@link #sse} by default. */
    default String format(Event event) {
        return sse(event);
    }

    /** What the client is sent before any event of the room; nothing by default. */
    default List<Event> opening() {
        return List.of();
    }

    /** What the client is sent for {@code entry}, given everything before it in the room; maybe nothing. */
    List<Event> render(RoomStream.Entry entry);

    /**
     * Whether this view decides itself which events are before the client's resume point (and sends nothing for
     * them); otherwise events with a cursor at or before it are not sent.
     */
    default boolean filtersItself() {
        return false;
    }

    /** What the client is sent when the room has been quiet for a heartbeat; nothing (a heartbeat) by default. */
    default List<Event> idle() {
        return List.of();
    }

    /** Whether the view has said all it will: the stream ends after what it sent. */
    default boolean over() {
        return false;
    }

    /** The last event of a stream that ends for {@code reason}: an {@code end} event by default. */
    default String ending(String reason, String message, long lastCursor) {
        ObjectNode data = JsonNodeFactory.instance.objectNode();
        data.put("reason", reason);
        data.put("lastCursor", lastCursor);
        if (message != null) {
            data.put("message", message);
        }
        return "event: end\ndata: " + data + "\n\n";
    }

    /** {@code event} in the {@code text/event-stream} format. */
    static String sse(Event event) {
        return "id: " + event.cursor() + "\n" + (event.name() == null ? "" : "event: " + event.name() + "\n") + "data: "
                + event.data() + "\n\n";
    }

    /** The event's type, such as {@code TextDelta}: the name of its SSE event. */
    static String type(RoomEvent event) {
        return ((SpecificRecord) event.getPayload()).getSchema().getName();
    }

    /** The event as the HTTP API writes it, with its cursor. */
    static ObjectNode json(RoomStream.Entry entry) {
        ObjectNode data = AvroJson.toJson(entry.event());
        data.put("cursor", entry.cursor());
        return data;
    }

    /**
     * A view that starts with a snapshot: the room replayed from its start up to where the client starts ({@code
     * startAfter}, silently, into the snapshot), then the snapshot, then every later event translated. Each event's
     * cursor is that of the room event it came from, so a client that resumes after it starts after it.
     */
    abstract class Snapshotting implements StreamView {
        final long startAfter;
        boolean started;

        Snapshotting(long startAfter) {
            this.startAfter = startAfter;
        }

        /** Folds an event before the client's start into the snapshot. */
        abstract void replay(RoomEvent event);

        /** The snapshot, as of {@code at} (the time of the event it starts at, or now when quiet). */
        abstract List<Event> snapshot(Instant at);

        /** The events of one room event after the client's start. */
        abstract List<Event> translate(RoomStream.Entry entry);

        @Override
        public final List<Event> render(RoomStream.Entry entry) {
            if (started) {
                return translate(entry);
            }
            if (entry.cursor() <= startAfter) {
                replay(entry.event());
                return entry.cursor() == startAfter ? start(entry.event().getOccurredAt()) : List.of();
            }
            List<Event> out = new ArrayList<>(start(entry.event().getOccurredAt()));
            out.addAll(translate(entry));
            return out;
        }

        /** A resume point no event of the room reaches (a cursor past the room's last): start once it is quiet. */
        @Override
        public final List<Event> idle() {
            return started ? List.of() : start(Instant.now());
        }

        @Override
        public final boolean filtersItself() {
            return true;
        }

        final List<Event> start(Instant at) {
            started = true;
            return snapshot(at);
        }
    }

    /**
     * The AG-UI view ({@code /v1/rooms/{id}/ag-ui}): {@link AgUiTranslator}'s start events as the snapshot, then
     * every later event translated; each AG-UI event's SSE id is the cursor of the room event it came from, so a
     * client that reconnects with {@code Last-Event-ID} starts after it.
     */
    final class AgUi extends Snapshotting {
        private final AgUiTranslator translator;
        private final Supplier<List<ObjectNode>> interrupts;

        /**
         * @param interrupts the open interrupts of the room's run, as AG-UI {@code Interrupt} objects (empty while it
         *     waits on none), asked when the client starts and when a turn ends: the run then ends with them
         */
        AgUi(AgUiTranslator translator, long startAfter, Supplier<List<ObjectNode>> interrupts) {
            super(startAfter);
            this.translator = translator;
            this.interrupts = interrupts;
        }

        @Override
        void replay(RoomEvent event) {
            translator.replay(event);
        }

        @Override
        List<Event> snapshot(Instant at) {
            List<Event> out = events(startAfter, translator.start(at));
            out.addAll(events(startAfter, interrupted(at)));
            return out;
        }

        @Override
        List<Event> translate(RoomStream.Entry entry) {
            List<Event> out = events(entry.cursor(), translator.next(entry.event()));
            if (entry.event().getPayload() instanceof TurnEnded) {
                out.addAll(events(entry.cursor(), interrupted(entry.event().getOccurredAt())));
            }
            return out;
        }

        private List<ObjectNode> interrupted(Instant at) {
            return translator.ended() ? List.of() : translator.interrupted(interrupts.get(), at);
        }

        @Override
        public boolean over() {
            return translator.ended();
        }

        @Override
        public String ending(String reason, String message, long lastCursor) {
            StringBuilder text = new StringBuilder();
            if (!started) {
                start(Instant.now()).forEach(event -> text.append(sse(event)));
            }
            if (!translator.ended()) {
                text.append(sse(new Event(
                        lastCursor,
                        null,
                        translator.error(
                                reason, message != null ? message : "the stream ended: " + reason, Instant.now()))));
            }
            return text.toString();
        }

        private static List<Event> events(long cursor, List<ObjectNode> events) {
            List<Event> out = new ArrayList<>(events.size());
            for (ObjectNode event : events) {
                out.add(new Event(cursor, null, event));
            }
            return out;
        }
    }

    /**
     * The seeds' session events ({@code /v1/rooms/{id}/ws}): a {@code session:state} snapshot, then every later event
     * as {@link SessionEventsTranslator} names it. Each event's data is the whole WebSocket message: {@code {"event",
     * "cursor", "eventId", "timestamp", "data"}}, so that a client resumes with {@code ?cursor=} the last one it saw.
     */
    final class Session extends Snapshotting {
        private final SessionEventsTranslator translator;

        Session(SessionEventsTranslator translator, long startAfter) {
            super(startAfter);
            this.translator = translator;
        }

        @Override
        void replay(RoomEvent event) {
            translator.replay(event);
        }

        @Override
        List<Event> snapshot(Instant at) {
            SessionEventsTranslator.Message state = translator.state();
            ObjectNode message = JsonNodeFactory.instance.objectNode();
            message.put("event", state.event());
            message.put("cursor", startAfter);
            message.set("data", state.data());
            return List.of(new Event(startAfter, state.event(), message));
        }

        @Override
        List<Event> translate(RoomStream.Entry entry) {
            List<SessionEventsTranslator.Message> messages = translator.next(entry.event());
            List<Event> out = new ArrayList<>(messages.size());
            for (SessionEventsTranslator.Message translated : messages) {
                ObjectNode message = JsonNodeFactory.instance.objectNode();
                message.put("event", translated.event());
                message.put("cursor", entry.cursor());
                message.put("eventId", entry.event().getEventId());
                message.put("timestamp", entry.event().getOccurredAt().toEpochMilli());
                message.set("data", translated.data());
                out.add(new Event(entry.cursor(), translated.event(), message));
            }
            return out;
        }

        @Override
        public boolean over() {
            return translator.ended();
        }
    }

    /**
     * The AI SDK's UI message stream of one turn ({@code /v1/rooms/{id}/ai-sdk/stream}): the room read from the
     * turn's start, {@link UiMessageTranslator}'s chunks of that turn's message sent as unnamed events (each with the
     * cursor of the room event it came from), then {@code [DONE]} once the turn ends.
     */
    final class AiSdk implements StreamView {
        private final UiMessageTranslator translator;
        private final String turnId;
        private boolean inTurn;
        private boolean over;

        AiSdk(UiMessageTranslator translator, String turnId) {
            this.translator = translator;
            this.turnId = turnId;
        }

        @Override
        public List<Event> render(RoomStream.Entry entry) {
            List<ObjectNode> chunks = translator.next(entry.event());
            List<Event> out = new ArrayList<>();
            for (ObjectNode chunk : chunks) {
                String type = chunk.path("type").asText();
                if (!inTurn
                        && !over
                        && type.equals("start")
                        && turnId.equals(chunk.path("messageId").asText())) {
                    inTurn = true;
                }
                if (inTurn) {
                    out.add(new Event(entry.cursor(), null, chunk));
                    if (type.equals("finish")) {
                        inTurn = false;
                        over = true;
                        out.add(new Event(entry.cursor(), null, null));
                    }
                }
            }
            return out;
        }

        @Override
        public boolean filtersItself() {
            return true;
        }

        @Override
        public boolean over() {
            return over;
        }

        @Override
        public String format(Event event) {
            return "id: " + event.cursor() + "\ndata: "
                    + (event.data() == null ? "[DONE]" : event.data().toString()) + "\n\n";
        }

        @Override
        public String ending(String reason, String message, long lastCursor) {
            ObjectNode error = JsonNodeFactory.instance.objectNode();
            error.put("type", "error");
            error.put("errorText", message != null ? message : "the stream ended: " + reason);
            return "data: " + error + "\n\ndata: [DONE]\n\n";
        }
    }

    /**
     * A Durable Streams read in SSE mode ({@code /v1/rooms/{id}/ds?live=sse}): each room event as a {@code data}
     * event (a JSON array of the event as SSE sends it), each followed by a {@code control} event with the offset
     * after it; when quiet, a {@code control} event saying the client is up to date. It ends after about a minute
     * (the protocol asks servers to, for proxies and CDNs), or once the room is closed and read to its end.
     */
    final class Durable implements StreamView {
        /** How long one SSE read lasts at most before the server ends it (the client goes on from its offset). */
        static final long LIFETIME_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(60);

        private final long startedAt = System.nanoTime();
        private final String cursor;
        private final boolean fromNow;
        private long next;
        private boolean closed;
        private boolean over;

        /**
         * @param after the cursor the client read up to
         * @param cursor the client's {@code cursor} parameter (for the protocol's collapsing cursor), or null
         * @param fromNow whether the client asked for {@code offset=now}: the first control event says where that is
         * @param closed whether the room was closed when the read started
         */
        Durable(long after, String cursor, boolean fromNow, boolean closed) {
            this.next = after + 1;
            this.cursor = cursor;
            this.fromNow = fromNow;
            this.closed = closed;
        }

        @Override
        public List<Event> opening() {
            return fromNow ? List.of(control(next - 1, true)) : List.of();
        }

        @Override
        public List<Event> render(RoomStream.Entry entry) {
            ArrayNode data = JsonNodeFactory.instance.arrayNode();
            data.add(json(entry));
            next = entry.cursor() + 1;
            if (entry.event().getPayload() instanceof RoomClosed) {
                closed = true;
            }
            return List.of(new Event(entry.cursor(), "data", data), control(entry.cursor(), false));
        }

        @Override
        public List<Event> idle() {
            over = closed || System.nanoTime() - startedAt > LIFETIME_NANOS;
            return List.of(control(next - 1, true));
        }

        @Override
        public boolean over() {
            return over || System.nanoTime() - startedAt > LIFETIME_NANOS;
        }

        @Override
        public String format(Event event) {
            return "event: " + event.name() + "\ndata: " + event.data() + "\n\n";
        }

        @Override
        public String ending(String reason, String message, long lastCursor) {
            return ""; // the client reads on from its last offset; a deleted room answers its next read with 404
        }

        private Event control(long at, boolean upToDate) {
            ObjectNode control = JsonNodeFactory.instance.objectNode();
            control.put("streamNextOffset", DurableStreams.offset(at + 1));
            control.put("streamCursor", DurableStreams.cursor(cursor));
            if (upToDate) {
                control.put("upToDate", true);
                if (closed) {
                    control.put("streamClosed", true);
                }
            }
            return new Event(at, "control", control);
        }
    }

    /** Every event as written ({@code view=raw}): text arrives delta by delta. */
    final class Raw implements StreamView {
        @Override
        public List<Event> render(RoomStream.Entry entry) {
            return List.of(new Event(entry.cursor(), type(entry.event()), json(entry)));
        }
    }

    /**
     * Blocks as a whole ({@code view=blocks}): {@code BlockStarted}, {@code TextDelta} and {@code BlockUpdated} are
     * held back and their block is sent as one {@code block} event when it completes, with the cursor of its
     * {@code BlockCompleted}; every other event is sent as written.
     *
     * <p>What it holds is bounded: a block's text at {@code block.max.bytes} (the fold refuses deltas past it too),
     * and the text of every open block together at {@code maxHeldBytes}, since the log may hold blocks that never
     * complete. Text past either bound is dropped and its block is sent with {@code "truncated": true}; the
     * transcript keeps what the fold accepted.
     */
    final class Blocks implements StreamView {
        private final Map<String, Block> open = new HashMap<>();
        private final long maxBlockBytes;
        private final long maxHeldBytes;
        private long heldBytes;

        /**
         * @param maxBlockBytes the most text bytes one block holds ({@code block.max.bytes})
         * @param maxHeldBytes the most text bytes all open blocks hold together
         */
        Blocks(long maxBlockBytes, long maxHeldBytes) {
            this.maxBlockBytes = maxBlockBytes;
            this.maxHeldBytes = maxHeldBytes;
        }

        private static final class Block {
            final long startCursor;
            final BlockStarted started;
            final RoomEvent startEvent;
            final StringBuilder text = new StringBuilder();
            final Map<String, String> metadata = new HashMap<>();
            long bytes;
            boolean truncated;

            Block(long startCursor, RoomEvent startEvent, BlockStarted started) {
                this.startCursor = startCursor;
                this.startEvent = startEvent;
                this.started = started;
                this.metadata.putAll(started.getMetadata());
            }
        }

        @Override
        public List<Event> render(RoomStream.Entry entry) {
            Object payload = entry.event().getPayload();
            if (payload instanceof BlockStarted started) {
                Block replaced = open.put(started.getBlockId(), new Block(entry.cursor(), entry.event(), started));
                if (replaced != null) {
                    heldBytes -= replaced.bytes;
                }
                return List.of();
            }
            if (payload instanceof TextDelta delta) {
                Block block = open.get(delta.getBlockId());
                if (block != null) {
                    int bytes = FoldLimits.utf8Length(delta.getText());
                    if (block.bytes + bytes > maxBlockBytes || heldBytes + bytes > maxHeldBytes) {
                        block.truncated = true;
                    } else {
                        block.text.append(delta.getText());
                        block.bytes += bytes;
                        heldBytes += bytes;
                    }
                }
                return List.of();
            }
            if (payload instanceof BlockUpdated updated) {
                Block block = open.get(updated.getBlockId());
                if (block != null) {
                    block.metadata.putAll(updated.getMetadata());
                }
                return List.of();
            }
            if (payload instanceof BlockCompleted completed) {
                return List.of(new Event(entry.cursor(), "block", block(entry, completed)));
            }
            return List.of(new Event(entry.cursor(), type(entry.event()), json(entry)));
        }

        private ObjectNode block(RoomStream.Entry entry, BlockCompleted completed) {
            Block block = open.remove(completed.getBlockId());
            if (block != null) {
                heldBytes -= block.bytes;
            }
            ObjectNode data = JsonNodeFactory.instance.objectNode();
            data.put("cursor", entry.cursor());
            data.put("roomId", entry.event().getRoomId());
            data.put("blockId", completed.getBlockId());
            data.put("completedAt", entry.event().getOccurredAt().toString());
            data.put("actor", entry.event().getActor());
            if (block == null) {
                // Its start is not in the room's log as read (it was written straight to Kafka, out of order).
                data.put("text", completed.getText() == null ? "" : completed.getText());
                return data;
            }
            data.put("startCursor", block.startCursor);
            data.put("startedAt", block.startEvent.getOccurredAt().toString());
            data.put("turnId", block.started.getTurnId());
            data.put("kind", block.started.getKind());
            data.put("role", block.started.getRole());
            ObjectNode metadata = data.putObject("metadata");
            block.metadata.forEach(metadata::put);
            data.put("text", completed.getText() != null ? completed.getText() : block.text.toString());
            if (completed.getText() == null && block.truncated) {
                data.put("truncated", true);
            }
            return data;
        }
    }
}
