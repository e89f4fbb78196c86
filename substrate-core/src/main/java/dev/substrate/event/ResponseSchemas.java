package dev.substrate.event;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaException;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The JSON Schemas an interrupt asks its answer to satisfy (its {@code responseSchema}), and the check of an answer
 * against one, with a JSON Schema library that is not ours (networknt's, draft 2020-12).
 *
 * <p>A schema is part of an event the fold decides on its stream threads, so it is held to what is decided the same
 * on every replay and costs a bounded time: at most {@value #MAX_SCHEMA_CHARS} characters and {@value #MAX_DEPTH}
 * levels; references only within the schema itself ({@code #...}: nothing is fetched, from the network or the class
 * path); no {@code pattern} or {@code patternProperties} (a regular expression from an event, run by the fold on an
 * answer's strings, could backtrack for minutes).
 */
public final class ResponseSchemas {

    /** The longest {@code responseSchema}, in characters of JSON text. */
    public static final int MAX_SCHEMA_CHARS = 16 * 1024;

    /** The deepest nesting of objects and arrays in a {@code responseSchema}. */
    public static final int MAX_DEPTH = 32;

    /** The most violations an answer's refusal names. */
    private static final int MAX_VIOLATIONS = 5;

    private static final Set<String> REFUSED_KEYWORDS = Set.of("pattern", "patternProperties", "$id", "$anchor");
    private static final Set<String> REFERENCES = Set.of("$ref", "$dynamicRef");

    private static final ObjectMapper JSON = new ObjectMapper();

    private static final SchemaRegistry REGISTRY = SchemaRegistry.withDefaultDialect(
            SpecificationVersion.DRAFT_2020_12,
            // Every schema is an event's: none is kept after its check (a cache would grow with every interrupt).
            registry -> registry.schemaCacheEnabled(false)
                    .schemaLoader(loader -> loader.fetchRemoteResources(false)
                            .block(iri -> !iri.toString().startsWith("https://json-schema.org/"))));

    /** Draft 2020-12's own meta-schema, which a response schema satisfies. */
    private static final Schema META_SCHEMA =
            REGISTRY.getSchema(SchemaLocation.of(SpecificationVersion.DRAFT_2020_12.getDialectId()));

    private ResponseSchemas() {}

    /**
     * Parses JSON text.
     *
     * @throws InvalidEvent naming {@code field} when it is not JSON
     */
    public static JsonNode parse(String field, String text) {
        try {
            return JSON.readTree(text);
        } catch (JacksonException e) {
            throw new InvalidEvent(field, "is not JSON text: " + e.getOriginalMessage());
        }
    }

    /**
     * Checks a {@code responseSchema}: JSON text of an object (or a boolean) that is a JSON Schema within the bounds
     * above.
     *
     * @throws InvalidEvent naming {@code field} and what is wrong
     */
    public static void check(String field, String schemaText) {
        if (schemaText.length() > MAX_SCHEMA_CHARS) {
            throw new InvalidEvent(
                    field,
                    "is " + schemaText.length() + " characters; a response schema holds at most " + MAX_SCHEMA_CHARS);
        }
        JsonNode schema = parse(field, schemaText);
        if (!schema.isObject() && !schema.isBoolean()) {
            throw new InvalidEvent(field, "must be a JSON Schema: an object (or true or false)");
        }
        checkKeywords(field, schema);
        List<Error> errors;
        try {
            errors = META_SCHEMA.validate(schema);
            if (errors.isEmpty()) {
                REGISTRY.getSchema(schema).initializeValidators();
            }
        } catch (SchemaException | IllegalArgumentException e) {
            throw new InvalidEvent(field, "is not a JSON Schema (draft 2020-12): " + e.getMessage());
        }
        if (!errors.isEmpty()) {
            throw new InvalidEvent(
                    field,
                    "is not a JSON Schema (draft 2020-12): "
                            + String.join(
                                    "; ",
                                    errors.stream()
                                            .limit(MAX_VIOLATIONS)
                                            .map(Error::toString)
                                            .toList()));
        }
    }

    /**
     * What is wrong with {@code payloadText} as an answer to {@code schemaText} (both JSON text a validator took at
     * the door): empty when it satisfies the schema; at most five messages otherwise.
     */
    public static List<String> violations(String schemaText, String payloadText) {
        JsonNode payload = payloadText == null ? JSON.nullNode() : parse("payload", payloadText);
        Schema schema = REGISTRY.getSchema(parse("responseSchema", schemaText));
        List<Error> errors = schema.validate(payload);
        return errors.stream().limit(MAX_VIOLATIONS).map(Error::toString).toList();
    }

    /** Walks the schema without recursion, refusing what would not be decided the same, or in a bounded time. */
    private static void checkKeywords(String field, JsonNode schema) {
        Deque<Map.Entry<JsonNode, Integer>> pending = new ArrayDeque<>();
        pending.push(Map.entry(schema, 1));
        while (!pending.isEmpty()) {
            Map.Entry<JsonNode, Integer> next = pending.pop();
            JsonNode node = next.getKey();
            int depth = next.getValue();
            if (depth > MAX_DEPTH) {
                throw new InvalidEvent(field, "nests deeper than " + MAX_DEPTH + " levels");
            }
            if (node.isObject()) {
                for (Map.Entry<String, JsonNode> property : node.properties()) {
                    String name = property.getKey();
                    JsonNode value = property.getValue();
                    if (REFUSED_KEYWORDS.contains(name) && !(name.equals("pattern") && !value.isTextual())) {
                        throw new InvalidEvent(
                                field,
                                "may not use " + name + " (regular expressions from an event are not run by the"
                                        + " fold, and a schema names nothing outside itself)");
                    }
                    if (REFERENCES.contains(name)
                            && (!value.isTextual() || !value.asText().startsWith("#"))) {
                        throw new InvalidEvent(
                                field, "may refer only within itself (" + name + " starting with #), not to " + value);
                    }
                    pending.push(Map.entry(value, depth + 1));
                }
            } else if (node.isArray()) {
                node.forEach(element -> pending.push(Map.entry(element, depth + 1)));
            }
        }
    }
}
