package dev.substrate.crypto;

import dev.substrate.events.room.BlockCompleted;
import dev.substrate.events.room.BlockStarted;
import dev.substrate.events.room.BlockUpdated;
import dev.substrate.events.room.ErrorRaised;
import dev.substrate.events.room.LogEmitted;
import dev.substrate.events.room.MetadataUpdated;
import dev.substrate.events.room.RoomClosed;
import dev.substrate.events.room.RoomCreated;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.events.room.StatusChanged;
import dev.substrate.events.room.TextDelta;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;

/**
 * What of a room is content, sealed under its key in an encrypted project: the text of deltas and completed blocks, the
 * values of block and room metadata, log lines, error and status messages, the title and a closing reason. Ids, types,
 * kinds, roles, times, metadata keys and sizes stay clear, so that the fold, the indexes and the order work on sealed
 * events as on plain ones.
 */
public final class RoomContent {

    private RoomContent() {}

    /** {@code event} with its content sealed by {@code seal} (a copy; the event given is not changed). */
    public static RoomEvent seal(RoomEvent event, UnaryOperator<String> seal) {
        Object payload = event.getPayload();
        Object sealed = payload;
        if (payload instanceof TextDelta delta) {
            sealed = (new TextDelta(delta.getBlockId(), seal.apply(delta.getText())));
        } else if (payload instanceof BlockCompleted completed) {
            sealed = (new BlockCompleted(completed.getBlockId(), seal.apply(completed.getText())));
        } else if (payload instanceof BlockStarted started) {
            sealed = (BlockStarted.newBuilder(started)
                    .setMetadata(values(started.getMetadata(), seal))
                    .build());
        } else if (payload instanceof BlockUpdated updated) {
            sealed = (new BlockUpdated(updated.getBlockId(), values(updated.getMetadata(), seal)));
        } else if (payload instanceof MetadataUpdated updated) {
            sealed = (new MetadataUpdated(values(updated.getMetadata(), seal)));
        } else if (payload instanceof LogEmitted line) {
            sealed = (new LogEmitted(line.getLevel(), seal.apply(line.getMessage())));
        } else if (payload instanceof ErrorRaised error) {
            sealed = (new ErrorRaised(error.getCode(), seal.apply(error.getMessage())));
        } else if (payload instanceof StatusChanged status) {
            sealed = (new StatusChanged(status.getStatus(), seal.apply(status.getMessage())));
        } else if (payload instanceof RoomCreated created) {
            sealed = (RoomCreated.newBuilder(created)
                    .setTitle(seal.apply(created.getTitle()))
                    .build());
        } else if (payload instanceof RoomClosed closed) {
            sealed = (new RoomClosed(seal.apply(closed.getReason())));
        }
        return sealed == payload
                ? event
                : RoomEvent.newBuilder(event).setPayload(sealed).build();
    }

    /**
     * {@code record} (a room's event, state or transcript entry) with every text in it opened by {@code open}; the
     * record itself when it holds nothing sealed.
     */
    @SuppressWarnings("unchecked")
    public static <T extends SpecificRecord> T open(T record, UnaryOperator<String> open) {
        if (record == null || !holdsSealed(record)) {
            return record;
        }
        return (T) map(record, open);
    }

    private static Map<String, String> values(Map<String, String> metadata, UnaryOperator<String> seal) {
        Map<String, String> sealed = new HashMap<>();
        metadata.forEach((key, value) -> sealed.put(key, seal.apply(value)));
        return sealed;
    }

    private static boolean holdsSealed(Object value) {
        if (value instanceof CharSequence text) {
            return text.toString().indexOf(ContentKeys.MARK) >= 0;
        }
        if (value instanceof SpecificRecord record) {
            for (Schema.Field field : record.getSchema().getFields()) {
                if (holdsSealed(record.get(field.pos()))) {
                    return true;
                }
            }
            return false;
        }
        if (value instanceof List<?> list) {
            return list.stream().anyMatch(RoomContent::holdsSealed);
        }
        if (value instanceof Map<?, ?> map) {
            return map.values().stream().anyMatch(RoomContent::holdsSealed);
        }
        return false;
    }

    private static Object map(Object value, UnaryOperator<String> open) {
        if (value == null) {
            return null;
        }
        if (value instanceof CharSequence text) {
            return open.apply(text.toString());
        }
        if (value instanceof SpecificRecord record) {
            SpecificRecord copy = SpecificData.get().deepCopy(record.getSchema(), record);
            for (Schema.Field field : record.getSchema().getFields()) {
                Object inner = record.get(field.pos());
                if (holdsSealed(inner)) {
                    copy.put(field.pos(), map(inner, open));
                }
            }
            return copy;
        }
        if (value instanceof List<?> list) {
            List<Object> copy = new ArrayList<>(list.size());
            for (Object item : list) {
                copy.add(map(item, open));
            }
            return copy;
        }
        if (value instanceof Map<?, ?> map) {
            Map<Object, Object> copy = new HashMap<>();
            map.forEach((key, inner) -> copy.put(key.toString(), map(inner, open)));
            return copy;
        }
        return value;
    }
}
