package dev.substrate.api.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.substrate.api.auth.Principal;
import dev.substrate.api.auth.Role;
import dev.substrate.api.auth.TokenStore;
import dev.substrate.api.auth.TokensUnavailable;
import io.javalin.http.Context;
import java.util.Arrays;
import java.util.Locale;

/** What every route does with a request: read its body and parameters, check its token and roles, answer JSON. */
final class Requests {

    /** The largest page a list answers. */
    static final int MAX_PAGE = 1000;

    /** The longest a read waits for a position, or an append for its outcome. */
    static final long MAX_WAIT_MS = 30_000;

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PRINCIPAL = "substrate.principal";

    private Requests() {}

    /** Checks the request's bearer token; answers 401 unless it is one of ours. */
    static void authenticate(Context ctx, TokenStore tokens) {
        String header = ctx.header("Authorization");
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw Problem.unauthenticated("send Authorization: Bearer <token>");
        }
        Principal principal;
        try {
            principal = tokens.authenticate(header.substring(7).strip())
                    .orElseThrow(() -> Problem.unauthenticated("the token is not valid"));
        } catch (TokensUnavailable e) {
            throw Problem.unavailable(e.getMessage());
        }
        ctx.attribute(PRINCIPAL, principal);
    }

    /** Sets who the request acts as, once authenticated otherwise (a forwarded request's signed caller). */
    static void actAs(Context ctx, Principal principal) {
        ctx.attribute(PRINCIPAL, principal);
    }

    static Principal principal(Context ctx) {
        Principal principal = ctx.attribute(PRINCIPAL);
        if (principal == null) {
            throw Problem.unauthenticated("send Authorization: Bearer <token>");
        }
        return principal;
    }

    /** 403 unless the principal has one of {@code roles}. */
    static void require(Context ctx, Role... roles) {
        Principal principal = principal(ctx);
        if (!principal.hasAny(roles)) {
            throw Problem.forbidden(principal.name() + " needs one of the roles "
                    + Arrays.toString(roles).toLowerCase(Locale.ROOT));
        }
    }

    /** The JSON object the body holds; 400 otherwise. */
    static ObjectNode body(Context ctx) {
        JsonNode body = json(ctx);
        if (body == null || !body.isObject()) {
            throw Problem.badRequest("the body must be a JSON object", "body");
        }
        return (ObjectNode) body;
    }

    /** The JSON the body holds (an object or an array, say); 400 when it is not JSON. */
    static JsonNode json(Context ctx) {
        try {
            return JSON.readTree(ctx.body());
        } catch (JsonProcessingException e) {
            throw Problem.badRequest("the body is not valid JSON: " + e.getOriginalMessage(), "body");
        }
    }

    /** A whole-number query parameter, or {@code fallback} when absent; 400 when not a number. */
    static long longParam(Context ctx, String name, long fallback) {
        String value = ctx.queryParam(name);
        if (value == null) {
            return fallback;
        }
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw Problem.badRequest(name + " must be a whole number, was '" + value + "'", name);
        }
    }

    /** {@code limit}: 1 to {@value #MAX_PAGE}, 100 by default. */
    static int limit(Context ctx) {
        long limit = longParam(ctx, "limit", 100);
        if (limit < 1 || limit > MAX_PAGE) {
            throw Problem.badRequest("limit must be between 1 and " + MAX_PAGE, "limit");
        }
        return (int) limit;
    }

    /** How long a read waits for a position or an outcome unless {@code timeoutMs} says otherwise. */
    static final long DEFAULT_TIMEOUT_MS = 5_000;

    /** {@code timeoutMs}: how long to wait for a position or an outcome, 5 s by default, 30 s at most. */
    static long timeoutMs(Context ctx) {
        long timeoutMs = longParam(ctx, "timeoutMs", DEFAULT_TIMEOUT_MS);
        if (timeoutMs < 0 || timeoutMs > MAX_WAIT_MS) {
            throw Problem.badRequest("timeoutMs must be between 0 and " + MAX_WAIT_MS, "timeoutMs");
        }
        return timeoutMs;
    }

    /** A string field of {@code body}, or {@code fallback} when absent or null; 400 when not a string. */
    static String text(ObjectNode body, String field, String fallback) {
        JsonNode value = body.get(field);
        if (value == null || value.isNull()) {
            return fallback;
        }
        if (!value.isTextual()) {
            throw Problem.badRequest(field + " must be a string", field);
        }
        return value.asText();
    }

    static void json(Context ctx, JsonNode body) {
        ctx.contentType("application/json").result(body.toString());
    }
}
