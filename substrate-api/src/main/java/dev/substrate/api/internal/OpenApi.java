package dev.substrate.api.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.substrate.entity.EntityKind;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * {@code GET /openapi.json}: the OpenAPI 3.1 description of every route, kept beside the code in
 * {@code dev/substrate/api/openapi.json}; a test fails when a registered route is missing from it. The append
 * routes' request bodies are typed when the document loads, from the Avro schemas ({@link EventBodySchemas}).
 */
public final class OpenApi {

    /** Where the document is on the class path. */
    public static final String RESOURCE = "/dev/substrate/api/openapi.json";

    private static final String REF = "#/components/schemas/";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String DOCUMENT = load();

    private OpenApi() {}

    static void write(Context ctx) {
        ctx.contentType("application/json").result(DOCUMENT);
    }

    /** The document as served: the resource, with the append routes' bodies typed from the Avro schemas. */
    static String document() {
        return DOCUMENT;
    }

    private static String load() {
        try (InputStream in = OpenApi.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is missing from the class path");
            }
            ObjectNode document = (ObjectNode) JSON.readTree(in);
            ObjectNode schemas = (ObjectNode) document.get("components").get("schemas");
            EventBodySchemas.addTo(schemas);
            ObjectNode paths = (ObjectNode) document.get("paths");
            for (EntityKind<?, ?> kind : EntityKind.all()) {
                String collection = "/v1/" + kind.name() + "s";
                bodySchema(paths, collection).removeAll().put("$ref", REF + EventBodySchemas.create(kind));
                ObjectNode events = bodySchema(paths, collection + "/{" + kind.idField() + "}/events");
                ObjectNode one =
                        JsonNodeFactory.instance.objectNode().put("$ref", REF + EventBodySchemas.eventBody(kind));
                ArrayNode oneOf = (ArrayNode) events.get("oneOf");
                oneOf.set(0, one);
                ((ObjectNode) oneOf.get(1)).set("items", one.deepCopy());
            }
            return JSON.writeValueAsString(document);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static ObjectNode bodySchema(ObjectNode paths, String path) {
        JsonNode schema = paths.path(path)
                .path("post")
                .path("requestBody")
                .path("content")
                .path("application/json")
                .path("schema");
        if (!schema.isObject()) {
            throw new IllegalStateException(RESOURCE + " has no JSON request body for POST " + path);
        }
        return (ObjectNode) schema;
    }
}
