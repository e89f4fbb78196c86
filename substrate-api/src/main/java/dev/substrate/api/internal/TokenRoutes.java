package dev.substrate.api.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.substrate.api.auth.Principal;
import dev.substrate.api.auth.Role;
import dev.substrate.api.auth.TokenStore;
import dev.substrate.event.InvalidEvent;
import io.javalin.http.Context;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * {@code /v1/tokens} (admins only): mint ({@code POST}, the token shown once), list ({@code GET}, never secrets)
 * and revoke ({@code DELETE /{tokenId}}). Every instance holds every token, so these answer locally. An admin
 * token scoped to projects mints only tokens inside its scope (its own scope when none is asked for), and lists and
 * revokes only those; the others are not found.
 */
final class TokenRoutes {

    private final TokenStore tokens;

    TokenRoutes(TokenStore tokens) {
        this.tokens = tokens;
    }

    /** POST /v1/tokens: {@code {principal, roles, projects?}} -> {@code {tokenId, token, principal, roles, ...}}. */
    void create(Context ctx) {
        Principal caller = Requests.principal(ctx);
        ObjectNode body = Requests.body(ctx);
        JsonNode principal = body.get("principal");
        if (principal == null || !principal.isTextual()) {
            throw Problem.badRequest("principal is required: the name the token acts as", "principal");
        }
        JsonNode roles = body.get("roles");
        if (roles == null || !roles.isArray() || roles.isEmpty()) {
            throw Problem.badRequest("roles is required: a list of admin, operator, service, observer", "roles");
        }
        Set<Role> granted = EnumSet.noneOf(Role.class);
        for (JsonNode role : roles) {
            try {
                granted.add(Role.of(role.asText()));
            } catch (IllegalArgumentException e) {
                throw Problem.badRequest(e.getMessage(), "roles");
            }
        }
        List<String> projects = projects(body, caller);
        if (!Access.mayManageToken(caller, projects)) {
            throw Problem.forbidden(caller.name() + " is limited to " + caller.projects()
                    + " and may mint tokens only inside that scope, not for "
                    + (projects.isEmpty() ? "every project" : projects));
        }
        String createdBy = caller.name();
        TokenStore.Minted minted;
        try {
            minted = tokens.create(principal.asText(), granted, projects, createdBy);
        } catch (InvalidEvent e) {
            throw Problem.badRequest(e.getMessage(), e.field());
        } catch (IllegalArgumentException e) {
            throw Problem.badRequest(e.getMessage(), "projects");
        }
        ObjectNode answer = minted.info().toJson();
        answer.put("token", minted.token());
        ctx.status(201);
        Requests.json(ctx, answer);
    }

    /** GET /v1/tokens: every token the caller may see, oldest first, without secrets. */
    void list(Context ctx) {
        Principal caller = Requests.principal(ctx);
        ObjectNode answer = JsonNodeFactory.instance.objectNode();
        ArrayNode items = answer.putArray("items");
        tokens.list().stream()
                .filter(token -> Access.mayManageToken(caller, token.principal().projects()))
                .forEach(token -> items.add(token.toJson()));
        Requests.json(ctx, answer);
    }

    /** DELETE /v1/tokens/{tokenId}: revokes it on every instance; 204. */
    void revoke(Context ctx) {
        Principal caller = Requests.principal(ctx);
        String tokenId = ctx.pathParam("tokenId");
        boolean visible = tokens.find(tokenId)
                .filter(token -> Access.mayManageToken(caller, token.principal().projects()))
                .isPresent();
        if (!visible || !tokens.revoke(tokenId)) {
            throw Problem.notFound("token " + tokenId);
        }
        ctx.status(204);
    }

    /** The {@code projects} asked for: a list of patterns; absent, the caller's own scope. */
    private static List<String> projects(ObjectNode body, Principal caller) {
        JsonNode projects = body.get("projects");
        if (projects == null || projects.isNull()) {
            return caller.projects();
        }
        if (!projects.isArray()) {
            throw Problem.badRequest("projects must be a list of project patterns such as project:acme/*", "projects");
        }
        List<String> patterns = new ArrayList<>();
        for (JsonNode project : projects) {
            if (!project.isTextual()) {
                throw Problem.badRequest("projects must be a list of strings", "projects");
            }
            try {
                patterns.add(Principal.requireProjectPattern(project.asText()));
            } catch (IllegalArgumentException e) {
                throw Problem.badRequest(e.getMessage(), "projects");
            }
        }
        if (patterns.size() > Principal.MAX_PROJECTS) {
            throw Problem.badRequest("a token carries at most " + Principal.MAX_PROJECTS + " patterns", "projects");
        }
        return List.copyOf(patterns);
    }
}
