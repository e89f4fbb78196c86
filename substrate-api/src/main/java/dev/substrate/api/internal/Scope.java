package dev.substrate.api.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.substrate.api.auth.Principal;
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

    /** Whether {@code principal} reaches the entity whose state {@code state} is. */
    static boolean reaches(Principal principal, EntityKind<?, ?> kind, JsonNode state) {
        return !principal.scoped() || principal.reaches(projectOf(kind, state));
    }

    /** The answer for an entity outside the caller's reach: the one for an entity that does not exist. */
    static Problem hidden(EntityKind<?, ?> kind, String id) {
        return Problem.notFound(kind.name() + " " + id);
    }

    /**
     * 403 unless a scoped principal reaches {@code project}, the project an event it appends names (a run's or
     * room's creation, an artifact's registration): a scoped token creates nothing outside its scope.
     */
    static void requireCreatable(Principal principal, EntityKind<?, ?> kind, String project) {
        if (principal.scoped() && !principal.reaches(project)) {
            throw Problem.forbidden(principal.name() + " is limited to the projects " + principal.projects() + "; "
                    + projectField(kind) + " " + (project == null ? "(none)" : project) + " is not one of them");
        }
    }
}
