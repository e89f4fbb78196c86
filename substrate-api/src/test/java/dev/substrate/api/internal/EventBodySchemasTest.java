package dev.substrate.api.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import dev.substrate.api.EventJson;
import dev.substrate.entity.EntityKind;
import dev.substrate.testing.SampleEvents;
import java.util.List;
import java.util.function.BiFunction;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.api.Test;

/**
 * The typed request bodies of {@code /openapi.json}, checked with a JSON Schema validator that is not ours: every
 * sample event of every type, as JSON in the API's own shape, is a valid body of its route, and a body without a
 * field the API requires, with a wrong type or an unknown event name, is not.
 */
class EventBodySchemasTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SchemaRegistry REGISTRY =
            SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);

    @Test
    void everySampleEventIsAValidBodyOfItsRoute() throws Exception {
        check(EntityKind.RUN, SampleEvents.runPayloads(), SampleEvents::runEvent);
        check(EntityKind.ROOM, SampleEvents.roomPayloads(), SampleEvents::roomEvent);
        check(EntityKind.ARTIFACT, SampleEvents.artifactPayloads(), SampleEvents::artifactEvent);
    }

    private static <E extends SpecificRecord> void check(
            EntityKind<?, ?> kind, List<Object> payloads, BiFunction<String, Object, E> event) throws Exception {
        Schema body = schema(EventBodySchemas.eventBody(kind));
        assertThat(payloads.stream().map(p -> ((SpecificRecord) p).getSchema().getName()))
                .as("a sample of every %s event", kind.name())
                .containsExactlyInAnyOrderElementsOf(
                        kind.envelopeSchema().getField("payload").schema().getTypes().stream()
                                .map(org.apache.avro.Schema::getName)
                                .toList());
        for (Object payload : payloads) {
            ObjectNode json = EventJson.body(event.apply("id-1", payload));
            assertThat(body.validate(json)).as("%s", json).isEmpty();
        }
    }

    @Test
    void aBodyTheApiRefusesIsInvalid() throws Exception {
        Schema run = schema(EventBodySchemas.eventBody(EntityKind.RUN));

        assertThat(run.validate(json("{\"type\": \"RunFailed\"}")))
                .as("RunFailed without its failure")
                .isNotEmpty();
        assertThat(run.validate(json("{\"type\": \"RunLaunched\"}")))
                .as("no such event")
                .isNotEmpty();
        assertThat(run.validate(json("{\"type\": \"RunStarted\", \"expectedVersion\": \"one\"}")))
                .as("a version that is not a number")
                .isNotEmpty();
        assertThat(run.validate(json("{\"type\": \"RunWaiting\", \"waitingOn\": {\"kind\": \"weather\","
                        + " \"detail\": \"rain\"}}")))
                .as("a kind outside the enum")
                .isNotEmpty();
        // What the API fills in (a wait's start) is optional in the schema too.
        assertThat(run.validate(json("{\"type\": \"RunWaiting\", \"waitingOn\": {\"kind\": \"approval\","
                        + " \"detail\": \"deploy?\"}}")))
                .isEmpty();
    }

    @Test
    void theCreateBodiesNeedWhatTheApiDoesNotFillIn() throws Exception {
        Schema run = schema(EventBodySchemas.create(EntityKind.RUN));
        Schema room = schema(EventBodySchemas.create(EntityKind.ROOM));
        Schema artifact = schema(EventBodySchemas.create(EntityKind.ARTIFACT));

        assertThat(run.validate(json("{\"project\": \"project:acme/web\", \"correlationId\": \"d-1\"}")))
                .isEmpty();
        assertThat(run.validate(json("{\"correlationId\": \"d-1\"}")))
                .as("no project")
                .isNotEmpty();
        assertThat(room.validate(json("{\"kind\": \"session\", \"project\": \"p:1\", \"runId\": \"run-1\"}")))
                .isEmpty();
        assertThat(room.validate(json("{\"project\": \"p:1\"}"))).as("no kind").isNotEmpty();
        assertThat(artifact.validate(json("{\"kind\": \"log\", \"name\": \"build.log\", \"parentId\": \"p:1\","
                        + " \"provenance\": {\"runId\": \"run-1\"}}")))
                .isEmpty();
        assertThat(artifact.validate(json("{\"kind\": \"log\", \"name\": \"build.log\", \"parentId\": \"p:1\"}")))
                .as("no provenance")
                .isNotEmpty();
    }

    @Test
    void theRoutesUseTheTypedBodies() throws Exception {
        JsonNode paths = JSON.readTree(OpenApi.document()).get("paths");

        assertThat(paths.at("/~1v1~1runs/post/requestBody/content/application~1json/schema/$ref")
                        .asText())
                .isEqualTo("#/components/schemas/RunCreate");
        JsonNode events = paths.at("/~1v1~1rooms~1{roomId}~1events/post/requestBody/content/application~1json/schema");
        assertThat(events.at("/oneOf/0/$ref").asText()).isEqualTo("#/components/schemas/RoomEventBody");
        assertThat(events.at("/oneOf/1/items/$ref").asText()).isEqualTo("#/components/schemas/RoomEventBody");
        assertThat(events.at("/oneOf/1/maxItems").asInt()).isEqualTo(1000);
    }

    /** The named component of the served document, as a schema whose references resolve within the document. */
    private static Schema schema(String component) throws Exception {
        ObjectNode document = (ObjectNode) JSON.readTree(OpenApi.document());
        ObjectNode root = JSON.createObjectNode();
        root.put("$schema", "https://json-schema.org/draft/2020-12/schema");
        root.put("$ref", "#/components/schemas/" + component);
        root.set("components", document.get("components"));
        return REGISTRY.getSchema(JSON.writeValueAsString(root));
    }

    private static JsonNode json(String text) throws Exception {
        return JSON.readTree(text);
    }
}
