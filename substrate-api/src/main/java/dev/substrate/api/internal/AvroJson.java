package dev.substrate.api.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.substrate.event.InvalidEvent;
import dev.substrate.schemas.TrustedEventClasses;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.generic.IndexedRecord;
import org.apache.avro.specific.SpecificData;

/**
 * Avro records to plain JSON and back, the shape the HTTP API speaks: records are objects with camelCase
 * fields, enums are their symbols, timestamps are ISO-8601 strings, optional fields are absent or null, and a
 * union of records (an event payload) is an object whose {@code type} names the record. Reading JSON reports
 * the first offending field as a path ({@code payload.failure.code}), refusing unknown fields.
 */
public final class AvroJson {

    static {
        TrustedEventClasses.register();
    }

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final SpecificData DATA = SpecificData.get();
    private static final ObjectMapper READER = new ObjectMapper();

    private AvroJson() {}

    /** The JSON of a record. */
    public static ObjectNode toJson(IndexedRecord record) {
        return (ObjectNode) write(record, record.getSchema());
    }

    private static JsonNode write(Object value, Schema schema) {
        if (value == null) {
            return NODES.nullNode();
        }
        switch (schema.getType()) {
            case RECORD -> {
                IndexedRecord record = (IndexedRecord) value;
                ObjectNode node = NODES.objectNode();
                for (Schema.Field field : schema.getFields()) {
                    Object fieldValue = record.get(field.pos());
                    node.set(
                            field.name(),
                            isJsonText(field) && fieldValue != null
                                    ? parsedOrText(fieldValue.toString())
                                    : write(fieldValue, field.schema()));
                }
                return node;
            }
            case UNION -> {
                Schema branch = schema.getTypes().get(DATA.resolveUnion(schema, value));
                JsonNode node = write(value, branch);
                if (branch.getType() == Schema.Type.RECORD && recordBranches(schema) > 1) {
                    ObjectNode typed = NODES.objectNode();
                    typed.put("type", branch.getName());
                    typed.setAll((ObjectNode) node);
                    return typed;
                }
                return node;
            }
            case ARRAY -> {
                var array = NODES.arrayNode();
                for (Object element : (Iterable<?>) value) {
                    array.add(write(element, schema.getElementType()));
                }
                return array;
            }
            case MAP -> {
                ObjectNode node = NODES.objectNode();
                ((Map<?, ?>) value).forEach((k, v) -> node.set(k.toString(), write(v, schema.getValueType())));
                return node;
            }
            case ENUM, STRING -> {
                return NODES.textNode(value.toString());
            }
            case LONG -> {
                if (value instanceof Instant instant) {
                    return NODES.textNode(instant.toString());
                }
                return NODES.numberNode(((Number) value).longValue());
            }
            case INT -> {
                return NODES.numberNode(((Number) value).intValue());
            }
            case BOOLEAN -> {
                return NODES.booleanNode((Boolean) value);
            }
            case BYTES -> {
                ByteBuffer bytes = ((ByteBuffer) value).duplicate();
                byte[] copy = new byte[bytes.remaining()];
                bytes.get(copy);
                return NODES.textNode(Base64.getEncoder().encodeToString(copy));
            }
            case DOUBLE, FLOAT -> {
                return NODES.numberNode(((Number) value).doubleValue());
            }
            default -> throw new IllegalArgumentException("no JSON form for " + schema.getType());
        }
    }

    /**
     * A record of {@code schema} read from {@code json}.
     *
     * @throws InvalidEvent naming the field (as a path under {@code path}) that is missing, unknown or wrong
     */
    public static Object fromJson(JsonNode json, Schema schema, String path) {
        return read(json, schema, path);
    }

    private static Object read(JsonNode json, Schema schema, String path) {
        switch (schema.getType()) {
            case RECORD -> {
                if (json == null || !json.isObject()) {
                    throw new InvalidEvent(path(path), "must be an object");
                }
                IndexedRecord record = (IndexedRecord) DATA.newRecord(null, schema);
                for (Iterator<String> names = json.fieldNames(); names.hasNext(); ) {
                    String name = names.next();
                    if (schema.getField(name) == null && !("type".equals(name))) {
                        throw new InvalidEvent(join(path, name), "is not a field of " + schema.getName());
                    }
                }
                for (Schema.Field field : schema.getFields()) {
                    JsonNode value = json.get(field.name());
                    String fieldPath = join(path, field.name());
                    if (value == null || value.isNull()) {
                        if (field.hasDefaultValue()) {
                            record.put(field.pos(), DATA.deepCopy(field.schema(), DATA.getDefaultValue(field)));
                        } else if (isNullable(field.schema())) {
                            record.put(field.pos(), null);
                        } else {
                            throw new InvalidEvent(fieldPath, "is required");
                        }
                    } else if (isJsonText(field)) {
                        record.put(field.pos(), value.toString());
                    } else {
                        record.put(field.pos(), read(value, field.schema(), fieldPath));
                    }
                }
                return record;
            }
            case UNION -> {
                if (json == null || json.isNull()) {
                    if (isNullable(schema)) {
                        return null;
                    }
                    throw new InvalidEvent(path(path), "is required");
                }
                List<Schema> branches = new ArrayList<>();
                for (Schema branch : schema.getTypes()) {
                    if (branch.getType() != Schema.Type.NULL) {
                        branches.add(branch);
                    }
                }
                if (branches.size() == 1) {
                    return read(json, branches.get(0), path);
                }
                JsonNode type = json.get("type");
                if (type == null || !type.isTextual()) {
                    throw new InvalidEvent(join(path, "type"), "is required: one of " + names(branches));
                }
                for (Schema branch : branches) {
                    if (branch.getName().equals(type.asText())) {
                        return read(json, branch, path);
                    }
                }
                throw new InvalidEvent(join(path, "type"), "'" + type.asText() + "' is not one of " + names(branches));
            }
            case ARRAY -> {
                if (!json.isArray()) {
                    throw new InvalidEvent(path(path), "must be an array");
                }
                List<Object> list = new ArrayList<>();
                for (int i = 0; i < json.size(); i++) {
                    list.add(read(json.get(i), schema.getElementType(), path + "[" + i + "]"));
                }
                return list;
            }
            case MAP -> {
                if (!json.isObject()) {
                    throw new InvalidEvent(path(path), "must be an object");
                }
                Map<String, Object> map = new HashMap<>();
                json.properties()
                        .forEach(e ->
                                map.put(e.getKey(), read(e.getValue(), schema.getValueType(), join(path, e.getKey()))));
                return map;
            }
            case ENUM -> {
                if (!json.isTextual() || !schema.getEnumSymbols().contains(json.asText())) {
                    throw new InvalidEvent(path(path), "must be one of " + schema.getEnumSymbols());
                }
                return DATA.createEnum(json.asText(), schema);
            }
            case STRING -> {
                if (!json.isTextual()) {
                    throw new InvalidEvent(path(path), "must be a string");
                }
                return json.asText();
            }
            case LONG -> {
                if (schema.getLogicalType() instanceof LogicalTypes.TimestampMillis) {
                    return timestamp(json, path);
                }
                if (!json.canConvertToLong() || !json.isIntegralNumber()) {
                    throw new InvalidEvent(path(path), "must be a whole number");
                }
                return json.asLong();
            }
            case INT -> {
                if (!json.isIntegralNumber() || !json.canConvertToInt()) {
                    throw new InvalidEvent(path(path), "must be a whole number");
                }
                return json.asInt();
            }
            case BOOLEAN -> {
                if (!json.isBoolean()) {
                    throw new InvalidEvent(path(path), "must be true or false");
                }
                return json.asBoolean();
            }
            case DOUBLE -> {
                // A number, or its decimal text (how amounts of money are often sent, to keep them exact).
                double number =
                        json.isNumber() ? json.asDouble() : json.isTextual() ? decimal(json.asText()) : Double.NaN;
                if (!Double.isFinite(number)) {
                    throw new InvalidEvent(path(path), "must be a number");
                }
                return number;
            }
            default -> throw new InvalidEvent(path(path), "cannot be given as JSON");
        }
    }

    /**
     * Whether a field holds JSON text (its schema says {@code "json": true}, such as an interrupt's {@code
     * responseSchema} or an answer's {@code payload}): the API shows and takes it as the JSON value itself.
     */
    private static boolean isJsonText(Schema.Field field) {
        return Boolean.TRUE.equals(field.getObjectProp("json"));
    }

    /** The JSON value {@code text} holds, or {@code text} as a string when it is not JSON. */
    static JsonNode parsedOrText(String text) {
        try {
            return READER.readTree(text);
        } catch (IOException e) {
            // Written by something other than the API (the Java client, a producer): shown as it is.
            return NODES.textNode(text);
        }
    }

    private static Instant timestamp(JsonNode json, String path) {
        if (json.isIntegralNumber()) {
            return Instant.ofEpochMilli(json.asLong());
        }
        if (json.isTextual()) {
            try {
                return Instant.parse(json.asText());
            } catch (DateTimeParseException e) {
                throw new InvalidEvent(path(path), "must be an ISO-8601 instant such as 2026-11-21T10:15:30Z");
            }
        }
        throw new InvalidEvent(path(path), "must be an ISO-8601 instant or epoch milliseconds");
    }

    private static boolean isNullable(Schema schema) {
        return schema.getType() == Schema.Type.NULL
                || (schema.getType() == Schema.Type.UNION
                        && schema.getTypes().stream().anyMatch(t -> t.getType() == Schema.Type.NULL));
    }

    private static long recordBranches(Schema union) {
        return union.getTypes().stream()
                .filter(t -> t.getType() == Schema.Type.RECORD)
                .count();
    }

    private static List<String> names(List<Schema> branches) {
        return branches.stream().map(Schema::getName).toList();
    }

    private static String join(String path, String name) {
        return path == null || path.isEmpty() ? name : path + "." + name;
    }

    private static String path(String path) {
        return path == null || path.isEmpty() ? "body" : path;
    }

    private static double decimal(String text) {
        try {
            return new java.math.BigDecimal(text).doubleValue();
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }
}
