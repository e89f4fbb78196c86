package dev.substrate.api.internal;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.substrate.events.room.BlockCompleted;
import dev.substrate.events.room.BlockStarted;
import dev.substrate.events.room.BlockUpdated;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.events.room.TextDelta;
import dev.substrate.fold.FoldLimits;
import dev.substrate.stream.RoomStream;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;

/** How a room stream shows its events to a client: each as written, or blocks assembled from their deltas. */
interface StreamView {

    /** One server-sent event: its id (a cursor), its name and its JSON data. */
    record Event(long cursor, String name, ObjectNode data) {}

    /** What the client is sent for {@code entry}, given everything before it in the room; maybe nothing. */
    List<Event> render(RoomStream.Entry entry);

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
