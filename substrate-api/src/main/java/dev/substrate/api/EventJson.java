package dev.substrate.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.substrate.api.internal.AvroJson;
import dev.substrate.event.EventIds;
import dev.substrate.event.InvalidEvent;
import dev.substrate.events.run.RunEvent;
import java.util.Set;
import org.apache.avro.Schema;
import org.apache.avro.generic.IndexedRecord;
import org.apache.avro.specific.SpecificRecord;

/**
 * Events as JSON, in the shape {@code POST /v1/{kind}s/{id}/events} takes them: {@code type} names the event,
 * its own fields sit beside it, and so do the envelope's optional {@code eventId} (a new one when absent),
 * {@code occurredAt} (now), {@code expectedVersion}, {@code correlationId}, {@code causationId} and {@code
 * traceparent}. The command line reads local events in the same shape, so one JSON works for both.
 */
public final class EventJson {

    /** Envelope fields a body may carry beside the event's own. */
    public static final Set<String> ENVELOPE =
            Set.of("eventId", "expectedVersion", "actor", "occurredAt", "correlationId", "causationId", "traceparent");

    /**
     * The envelope field of run and room events that says what the work the event ends spent ({@code {"model",
     * "inputTokens", ...}}); artifact events have none.
     */
    public static final String USAGE = "usage";

    private EventJson() {}

    /**
     * The run event {@code body} describes, for run {@code runId}, appended by {@code actor}.
     *
     * @throws InvalidEvent naming the field that is missing, unknown or of the wrong type
     */
    public static RunEvent runEvent(ObjectNode body, String runId, String actor) {
        return event(RunEvent.getClassSchema(), body, runId, actor);
    }

    /**
     * The envelope of schema {@code envelope} (such as {@code RunEvent}) that {@code body} describes.
     *
     * @throws InvalidEvent naming the field that is missing, unknown or of the wrong type
     */
    @SuppressWarnings("unchecked")
    public static <T extends SpecificRecord> T event(Schema envelope, ObjectNode body, String entityId, String actor) {
        JsonNode type = body.get("type");
        if (type == null || !type.isTextual()) {
            throw new InvalidEvent("type", "is required: the event's name, such as RunStarted");
        }
        T event = (T) AvroJson.fromJson(envelopeFields(body, actor, envelope, entityId), envelope, "");
        ObjectNode fields = body.deepCopy();
        fields.remove(ENVELOPE);
        if (envelope.getField(USAGE) != null) {
            fields.remove(USAGE);
        }
        event.put(
                envelope.getField("payload").pos(),
                AvroJson.fromJson(fields, envelope.getField("payload").schema(), ""));
        return event;
    }

    /** Any record (an event, a run's state) as the HTTP API writes it. */
    public static ObjectNode json(IndexedRecord record) {
        return AvroJson.toJson(record);
    }

    /** The body that describes {@code event} with every envelope field it has: the inverse of {@link #event}. */
    public static ObjectNode body(SpecificRecord event) {
        Schema schema = event.getSchema();
        ObjectNode envelope = AvroJson.toJson(event);
        IndexedRecord payload =
                (IndexedRecord) event.get(schema.getField("payload").pos());
        ObjectNode body = JsonNodeFactory.instance.objectNode();
        body.put("type", payload.getSchema().getName());
        body.setAll(AvroJson.toJson(payload));
        body.set("eventId", envelope.get("eventId"));
        body.set("occurredAt", envelope.get("occurredAt"));
        if (envelope.hasNonNull("actor")) {
            body.set("actor", envelope.get("actor"));
        }
        if (envelope.hasNonNull("expectedVersion")) {
            body.set("expectedVersion", envelope.get("expectedVersion"));
        }
        if (envelope.hasNonNull(USAGE)) {
            body.set(USAGE, envelope.get(USAGE));
        }
        envelope.path("correlation").properties().forEach(part -> {
            if (!part.getValue().isNull()) {
                body.set(part.getKey(), part.getValue());
            }
        });
        return body;
    }

    /** The envelope's own fields, with a placeholder payload that {@link #event} replaces. */
    private static ObjectNode envelopeFields(ObjectNode body, String actor, Schema envelope, String entityId) {
        ObjectNode fields = JsonNodeFactory.instance.objectNode();
        String idField = envelope.getFields().get(1).name();
        fields.put("eventId", text(body, "eventId", EventIds.next()));
        fields.put(idField, entityId);
        JsonNode occurredAt = body.get("occurredAt");
        if (occurredAt == null || occurredAt.isNull()) {
            // Now, as epoch milliseconds: the same instant as its ISO-8601 form, without formatting it to parse it.
            fields.put("occurredAt", System.currentTimeMillis());
        } else {
            fields.put("occurredAt", text(body, "occurredAt", null));
        }
        fields.put("actor", actor);
        if (body.has("expectedVersion")) {
            fields.set("expectedVersion", body.get("expectedVersion"));
        }
        ObjectNode correlation = fields.putObject("correlation");
        for (String part : new String[] {"correlationId", "causationId", "traceparent"}) {
            if (body.has(part)) {
                correlation.set(part, body.get(part));
            }
        }
        if (envelope.getField(USAGE) != null && body.has(USAGE)) {
            fields.set(USAGE, body.get(USAGE));
        }
        fields.set("payload", payloadPlaceholder(envelope));
        return fields;
    }

    /** The smallest payload the envelope schema accepts. */
    private static ObjectNode payloadPlaceholder(Schema envelope) {
        for (Schema branch : envelope.getField("payload").schema().getTypes()) {
            if (branch.getFields().stream().allMatch(Schema.Field::hasDefaultValue)) {
                ObjectNode node = JsonNodeFactory.instance.objectNode();
                node.put("type", branch.getName());
                return node;
            }
        }
        throw new IllegalStateException("no payload of " + envelope.getName() + " has all-default fields");
    }

    private static String text(ObjectNode body, String field, String fallback) {
        JsonNode value = body.get(field);
        if (value == null || value.isNull()) {
            return fallback;
        }
        if (!value.isTextual()) {
            throw new InvalidEvent(field, "must be a string");
        }
        return value.asText();
    }
}
