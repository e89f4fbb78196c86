package dev.substrate.api.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.substrate.entity.EntityKind;

/**
 * Which entities a token scoped to projects reaches: runs and rooms by their {@code project}, artifacts by their
 * {@code parentId} (the durable scope that owns them). Outside its reach an entity does not exist for the caller:
 * a lookup is {@code 404}, exactly as for an id nobody used, so that ids of other projects do not leak; lists and
 * streams leave it out. An unscoped token reaches everything.
 */
final class Scope {

    private Scope() {}

    /** The field of an entity's state and creation event naming its project. */
    static String projectField(EntityKind<?, ?> kind) {
        return kind == EntityKind.ARTIFACT ? "parentId" : "project";
    }

    /** The project an entity's state (as JSON) belongs to, or null. */
    static String projectOf(EntityKind<?, ?> kind, JsonNode state) {
        JsonNode project = state.get(projectField(kind));
        return project != null && project.isTextual() ? project.asText() : null;
    }

    /** What {@link Access} decides on for a run's or artifact's state (as JSON), its room left out. */
    static Access.Resource resourceOf(EntityKind<?, ?> kind, JsonNode state) {
        String project = projectOf(kind, state);
        return kind == EntityKind.ARTIFACT ? new Access.ArtifactResource(project) : new Access.RunResource(project);
    }

    /** The answer for an entity outside the caller's reach: the one for an entity that does not exist. */
    static Problem hidden(EntityKind<?, ?> kind, String id) {
        return Problem.notFound(kind.name() + " " + id);
    }
}
