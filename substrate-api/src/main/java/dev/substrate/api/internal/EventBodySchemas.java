package dev.substrate.api.internal;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.substrate.api.EventJson;
import dev.substrate.entity.EntityKind;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;

/**
 * The request bodies of the append routes as JSON Schemas (OpenAPI 3.1), derived from the Avro schemas of the
 * events so that they cannot drift: for each entity kind, one schema per event type ({@code RunStarted}: {@code
 * type}, the event's own fields, the envelope's optional ones), the union of them ({@code RunEventBody},
 * discriminated by {@code type}), and the body that creates one ({@code RunCreate}). A field is required exactly
 * when {@link AvroJson} requires it: it has no default, is not nullable, and the API does not fill it in.
 */
final class EventBodySchemas {

    /** Fields the HTTP API fills in when a body leaves them out (see {@code Appends}), as Record.field. */
    private static final Set<String> FILLED_IN = Set.of(
            "RunCreated.scope", "RunCreated.activation", "Activation.surface", "Activation.actor", "WaitingOn.since");

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final String REF = "#/components/schemas/";

    private final ObjectNode components;
    /** The full Avro name each simple name stands for; a second record of the same simple name keeps its full one. */
    private final Map<String, String> names = new HashMap<>();

    private EventBodySchemas(ObjectNode components) {
        this.components = components;
    }

    /** Adds every kind's event, event-body and create schemas (and the records they use) to {@code components}. */
    static void addTo(ObjectNode components) {
        EventBodySchemas schemas = new EventBodySchemas(components);
        for (EntityKind<?, ?> kind : EntityKind.all()) {
            schemas.add(kind);
        }
    }

    /** The name of the schema of one event body of {@code kind}: {@code RunEventBody}. */
    static String eventBody(EntityKind<?, ?> kind) {
        return kind.envelopeSchema().getName() + "Body";
    }

    /** The name of the schema of the body that creates one of {@code kind}: {@code RunCreate}. */
    static String create(EntityKind<?, ?> kind) {
        String name = kind.envelopeSchema().getName();
        return name.substring(0, name.length() - "Event".length()) + "Create";
    }

    private void add(EntityKind<?, ?> kind) {
        Schema payload = kind.envelopeSchema().getField("payload").schema();
        ArrayNode oneOf = NODES.arrayNode();
        ObjectNode mapping = NODES.objectNode();
        for (Schema event : payload.getTypes()) {
            ObjectNode body = record(event, true);
            ((ObjectNode) body.get("properties")).setAll(envelope(kind));
            components.set(event.getName(), body);
            oneOf.addObject().put("$ref", REF + event.getName());
            mapping.put(event.getName(), REF + event.getName());
        }
        ObjectNode union = NODES.objectNode();
        union.put("description", "One " + kind.name() + " event: `type` names it, its own fields sit beside it.");
        union.set("oneOf", oneOf);
        union.putObject("discriminator").put("propertyName", "type").set("mapping", mapping);
        components.set(eventBody(kind), union);

        ObjectNode create = record(kind.creationSchema(), false);
        create.put(
                "description",
                "The fields of " + kind.creationSchema().getName() + ", with an optional `" + kind.idField()
                        + "` (a new one when absent) and the envelope's optional fields.");
        ObjectNode properties = (ObjectNode) create.get("properties");
        properties.putObject(kind.idField()).put("type", "string").put("description", "The new entity's id.");
        properties.setAll(envelope(kind));
        components.set(create(kind), create);
    }

    /** A record as an object schema; {@code typed}: its {@code type} property names it and is required. */
    private ObjectNode record(Schema record, boolean typed) {
        ObjectNode schema = NODES.objectNode();
        schema.put("type", "object");
        if (record.getDoc() != null) {
            schema.put("description", record.getDoc());
        }
        ObjectNode properties = schema.putObject("properties");
        ArrayNode required = NODES.arrayNode();
        if (typed) {
            properties.putObject("type").put("const", record.getName());
            required.add("type");
        }
        for (Schema.Field field : record.getFields()) {
            // A field of JSON text (AvroJson) is any JSON value in a body.
            ObjectNode property =
                    Boolean.TRUE.equals(field.getObjectProp("json")) ? NODES.objectNode() : type(field.schema());
            if (field.doc() != null) {
                property.put("description", field.doc());
            }
            properties.set(field.name(), property);
            if (!field.hasDefaultValue()
                    && !nullable(field.schema())
                    && !FILLED_IN.contains(record.getName() + "." + field.name())) {
                required.add(field.name());
            }
        }
        if (!required.isEmpty()) {
            schema.set("required", required);
        }
        return schema;
    }

    private ObjectNode type(Schema schema) {
        ObjectNode type = NODES.objectNode();
        switch (schema.getType()) {
            case RECORD -> {
                String name = names.computeIfAbsent(schema.getName(), simple -> schema.getFullName())
                                .equals(schema.getFullName())
                        ? schema.getName()
                        : schema.getFullName();
                if (!components.has(name)) {
                    components.set(name, NODES.objectNode()); // reserves the name against recursion
                    components.set(name, record(schema, false));
                }
                type.put("$ref", REF + name);
            }
            case UNION -> {
                ArrayNode anyOf = type.putArray("anyOf");
                for (Schema branch : schema.getTypes()) {
                    anyOf.add(
                            branch.getType() == Schema.Type.NULL
                                    ? NODES.objectNode().put("type", "null")
                                    : type(branch));
                }
            }
            case ARRAY -> type.put("type", "array").set("items", type(schema.getElementType()));
            case MAP -> type.put("type", "object").set("additionalProperties", type(schema.getValueType()));
            case ENUM -> {
                type.put("type", "string");
                ArrayNode symbols = type.putArray("enum");
                schema.getEnumSymbols().forEach(symbols::add);
            }
            case STRING -> type.put("type", "string");
            case LONG -> {
                if (schema.getLogicalType() instanceof LogicalTypes.TimestampMillis) {
                    type.put("type", "string").put("format", "date-time");
                } else {
                    type.put("type", "integer").put("format", "int64");
                }
            }
            case INT -> type.put("type", "integer").put("format", "int32");
            case BOOLEAN -> type.put("type", "boolean");
            default -> type.put("description", "not accepted as JSON");
        }
        return type;
    }

    /** The envelope's optional fields a body of {@code kind} may carry beside the event's own. */
    private ObjectNode envelope(EntityKind<?, ?> kind) {
        ObjectNode properties = NODES.objectNode();
        properties
                .putObject("eventId")
                .put("type", "string")
                .put("description", "A new one when absent; repeated, a no-op.");
        properties
                .putObject("expectedVersion")
                .put("type", "integer")
                .put("format", "int64")
                .put("description", "Refused (version_conflict) unless the entity is at this version.");
        properties
                .putObject("actor")
                .put("type", "string")
                .put("description", "Who acted: the token's principal unless an operator or admin names another.");
        properties
                .putObject("occurredAt")
                .put("type", "string")
                .put("format", "date-time")
                .put("description", "Now when absent.");
        properties.putObject("correlationId").put("type", "string");
        properties.putObject("causationId").put("type", "string");
        properties.putObject("traceparent").put("type", "string").put("description", "W3C trace context.");
        Schema.Field usage = kind.envelopeSchema().getField(EventJson.USAGE);
        if (usage != null) {
            ObjectNode type = type(usage.schema());
            type.put("description", "What the work this event ends spent: tokens by model, and cost when known.");
            properties.set(EventJson.USAGE, type);
        }
        return properties;
    }

    private static boolean nullable(Schema schema) {
        return schema.getType() == Schema.Type.UNION
                && schema.getTypes().stream().anyMatch(t -> t.getType() == Schema.Type.NULL);
    }
}
