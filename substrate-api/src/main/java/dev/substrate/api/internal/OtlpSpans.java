package dev.substrate.api.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Status;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The spans of an OTLP trace export ({@code ExportTraceServiceRequest}), read from protobuf (with the official
 * generated classes) or from OTLP/JSON (its hex ids, string or number integers, and enum numbers), into one small
 * model that the mapping to events reads.
 */
final class OtlpSpans {

    /** The most spans one export may hold. */
    static final int MAX_SPANS = 10_000;

    private static final Pattern TRACE_ID = Pattern.compile("[0-9a-f]{32}");
    private static final Pattern SPAN_ID = Pattern.compile("[0-9a-f]{16}");
    private static final HexFormat HEX = HexFormat.of();

    private OtlpSpans() {}

    /**
     * One span: ids as lowercase hex (parent empty for a root), times in nanoseconds since the epoch, attributes as
     * String, Long, Double, Boolean or List values, and its resource's attributes.
     */
    record Span(
            String traceId,
            String spanId,
            String parentSpanId,
            String name,
            long startNanos,
            long endNanos,
            boolean error,
            String statusMessage,
            Map<String, Object> attributes,
            List<Event> events,
            Map<String, Object> resource) {

        /** The attribute {@code key} as text, or null. */
        String text(String key) {
            Object value = attributes.get(key);
            return value == null
                    ? null
                    : value instanceof List<?> list && !list.isEmpty()
                            ? String.valueOf(list.get(0))
                            : String.valueOf(value);
        }

        /** The attribute {@code key} as a whole number, or -1. */
        long number(String key) {
            Object value = attributes.get(key);
            if (value instanceof Number number) {
                return number.longValue();
            }
            if (value instanceof String text) {
                try {
                    return Long.parseLong(text);
                } catch (NumberFormatException e) {
                    return -1;
                }
            }
            return -1;
        }
    }

    /** One span event. */
    record Event(String name, long timeNanos, Map<String, Object> attributes) {}

    /** A body that is not an OTLP export. */
    static final class Malformed extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Malformed(String message) {
            super(message);
        }
    }

    /** The spans of a protobuf {@code ExportTraceServiceRequest}. */
    static List<Span> fromProtobuf(byte[] body) {
        ExportTraceServiceRequest request;
        try {
            request = ExportTraceServiceRequest.parseFrom(body);
        } catch (InvalidProtocolBufferException e) {
            throw new Malformed("the body is not an OTLP ExportTraceServiceRequest: " + e.getMessage());
        }
        List<Span> spans = new ArrayList<>();
        for (ResourceSpans resourceSpans : request.getResourceSpansList()) {
            Map<String, Object> resource = attributes(resourceSpans.getResource());
            for (ScopeSpans scopeSpans : resourceSpans.getScopeSpansList()) {
                for (io.opentelemetry.proto.trace.v1.Span span : scopeSpans.getSpansList()) {
                    if (spans.size() == MAX_SPANS) {
                        throw new Malformed("an export holds at most " + MAX_SPANS + " spans");
                    }
                    List<Event> events = new ArrayList<>();
                    span.getEventsList()
                            .forEach(event -> events.add(new Event(
                                    event.getName(), event.getTimeUnixNano(), attributes(event.getAttributesList()))));
                    spans.add(span(
                            hex(span.getTraceId()),
                            hex(span.getSpanId()),
                            hex(span.getParentSpanId()),
                            span.getName(),
                            span.getStartTimeUnixNano(),
                            span.getEndTimeUnixNano(),
                            span.getStatus().getCode() == Status.StatusCode.STATUS_CODE_ERROR,
                            span.getStatus().getMessage(),
                            attributes(span.getAttributesList()),
                            events,
                            resource));
                }
            }
        }
        return spans;
    }

    /** The spans of an OTLP/JSON {@code ExportTraceServiceRequest}. */
    static List<Span> fromJson(JsonNode body) {
        if (body == null || !body.isObject()) {
            throw new Malformed("the body must be a JSON ExportTraceServiceRequest object");
        }
        List<Span> spans = new ArrayList<>();
        for (JsonNode resourceSpans : body.path("resourceSpans")) {
            Map<String, Object> resource =
                    attributes(resourceSpans.path("resource").path("attributes"));
            for (JsonNode scopeSpans : resourceSpans.path("scopeSpans")) {
                for (JsonNode span : scopeSpans.path("spans")) {
                    if (spans.size() == MAX_SPANS) {
                        throw new Malformed("an export holds at most " + MAX_SPANS + " spans");
                    }
                    List<Event> events = new ArrayList<>();
                    span.path("events")
                            .forEach(event -> events.add(new Event(
                                    event.path("name").asText(),
                                    nanos(event.path("timeUnixNano")),
                                    attributes(event.path("attributes")))));
                    JsonNode code = span.path("status").path("code");
                    spans.add(span(
                            span.path("traceId").asText("").toLowerCase(java.util.Locale.ROOT),
                            span.path("spanId").asText("").toLowerCase(java.util.Locale.ROOT),
                            span.path("parentSpanId").asText("").toLowerCase(java.util.Locale.ROOT),
                            span.path("name").asText(""),
                            nanos(span.path("startTimeUnixNano")),
                            nanos(span.path("endTimeUnixNano")),
                            code.asInt(0) == Status.StatusCode.STATUS_CODE_ERROR_VALUE
                                    || code.asText().equals("STATUS_CODE_ERROR"),
                            span.path("status").path("message").asText(""),
                            attributes(span.path("attributes")),
                            events,
                            resource));
                }
            }
        }
        return spans;
    }

    private static Span span(
            String traceId,
            String spanId,
            String parentSpanId,
            String name,
            long start,
            long end,
            boolean error,
            String message,
            Map<String, Object> attributes,
            List<Event> events,
            Map<String, Object> resource) {
        if (!TRACE_ID.matcher(traceId).matches() || traceId.equals("0".repeat(32))) {
            throw new Malformed("a span's traceId must be 16 bytes (32 hex digits), not all zero");
        }
        if (!SPAN_ID.matcher(spanId).matches() || spanId.equals("0".repeat(16))) {
            throw new Malformed("a span's spanId must be 8 bytes (16 hex digits), not all zero");
        }
        if (!parentSpanId.isEmpty() && !SPAN_ID.matcher(parentSpanId).matches()) {
            throw new Malformed("a span's parentSpanId must be 8 bytes (16 hex digits) or empty");
        }
        if (start <= 0 || end < start) {
            throw new Malformed("span " + spanId + " must start after the epoch and end no earlier than it starts");
        }
        return new Span(
                traceId,
                spanId,
                parentSpanId.equals("0".repeat(16)) ? "" : parentSpanId,
                name,
                start,
                end,
                error,
                message,
                attributes,
                events,
                resource);
    }

    private static String hex(ByteString bytes) {
        return HEX.formatHex(bytes.toByteArray());
    }

    private static long nanos(JsonNode value) {
        if (value.isIntegralNumber()) {
            return value.asLong();
        }
        try {
            return Long.parseUnsignedLong(value.asText("0"));
        } catch (NumberFormatException e) {
            throw new Malformed("a time must be nanoseconds since the epoch, was " + value);
        }
    }

    private static Map<String, Object> attributes(Resource resource) {
        return attributes(resource.getAttributesList());
    }

    private static Map<String, Object> attributes(List<KeyValue> attributes) {
        Map<String, Object> map = new LinkedHashMap<>();
        attributes.forEach(attribute -> map.put(attribute.getKey(), value(attribute.getValue())));
        return map;
    }

    private static Object value(AnyValue value) {
        return switch (value.getValueCase()) {
            case STRING_VALUE -> value.getStringValue();
            case BOOL_VALUE -> value.getBoolValue();
            case INT_VALUE -> value.getIntValue();
            case DOUBLE_VALUE -> value.getDoubleValue();
            case ARRAY_VALUE ->
                value.getArrayValue().getValuesList().stream()
                        .map(OtlpSpans::value)
                        .toList();
            default -> String.valueOf(value);
        };
    }

    private static Map<String, Object> attributes(JsonNode attributes) {
        Map<String, Object> map = new LinkedHashMap<>();
        attributes.forEach(attribute -> map.put(attribute.path("key").asText(), value(attribute.path("value"))));
        return map;
    }

    private static Object value(JsonNode value) {
        if (value.has("stringValue")) {
            return value.get("stringValue").asText();
        }
        if (value.has("boolValue")) {
            return value.get("boolValue").asBoolean();
        }
        if (value.has("intValue")) {
            return value.get("intValue").asLong();
        }
        if (value.has("doubleValue")) {
            return value.get("doubleValue").asDouble();
        }
        if (value.has("arrayValue")) {
            List<Object> values = new ArrayList<>();
            value.get("arrayValue").path("values").forEach(each -> values.add(value(each)));
            return values;
        }
        return value.toString();
    }
}
