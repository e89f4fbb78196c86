package dev.substrate.api.internal;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.substrate.api.auth.Principal;
import dev.substrate.api.auth.TokenStore;
import dev.substrate.api.auth.TokensUnavailable;
import io.javalin.http.Context;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/** What every route does with a request: read its body and parameters, check its token and roles, answer JSON. */
final class Requests {

    /** The largest page a list answers. */
    static final int MAX_PAGE = 1000;

    /** The largest whole number a parameter takes: 2^53 - 1, the largest JSON numbers hold exactly. */
    static final long MAX_WHOLE_NUMBER = (1L << 53) - 1;

    /** The longest a read waits for a position, or an append for its outcome. */
    static final long MAX_WAIT_MS = 30_000;

    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private static final String PRINCIPAL = "substrate.principal";
    private static final String TOKEN_ID = "substrate.token-id";

    private Requests() {}

    /** Checks the request's bearer token; answers 401 unless it is one of ours. */
    static void authenticate(Context ctx, TokenStore tokens) {
        String header = ctx.header("Authorization");
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw Problem.unauthenticated("send Authorization: Bearer <token>");
        }
        TokenStore.Token token;
        try {
            token = tokens.authenticateToken(header.substring(7).strip())
                    .orElseThrow(() -> Problem.unauthenticated("the token is not valid"));
        } catch (TokensUnavailable e) {
            throw Problem.unavailable(e.getMessage());
        }
        actAs(ctx, token);
    }

    /**
     * Sets who a forwarded request acts as: the token its signed claims name, as this instance's own store holds it.
     * 401 when that token was revoked or does not match the claims; 503 while this instance has not read it yet.
     */
    static void actAsForwarded(Context ctx, InstanceSignature.Claims claims, TokenStore tokens) {
        TokenStore.Token token = tokens.find(claims.tokenId()).orElse(null);
        if (token == null) {
            if (tokens.wasRevoked(claims.tokenId())) {
                throw Problem.unauthenticated("the forwarded caller's token was revoked");
            }
            throw Problem.unavailable("the forwarded caller's token has not reached this instance yet");
        }
        if (!token.principal().equals(claims.principal())) {
            throw Problem.unauthenticated("the forwarded caller does not match its token");
        }
        actAs(ctx, token);
    }

    /** Sets who the request acts as: {@code token}'s principal. */
    static void actAs(Context ctx, TokenStore.Token token) {
        ctx.attribute(PRINCIPAL, token.principal());
        ctx.attribute(TOKEN_ID, token.tokenId());
    }

    /**
     * The id of the token the request was authenticated with: what limits per caller are counted by, since a
     * principal's name can be minted again by any admin.
     */
    static String tokenId(Context ctx) {
        String tokenId = ctx.attribute(TOKEN_ID);
        if (tokenId == null) {
            throw Problem.unauthenticated("send Authorization: Bearer <token>");
        }
        return tokenId;
    }

    static Principal principal(Context ctx) {
        Principal principal = ctx.attribute(PRINCIPAL);
        if (principal == null) {
            throw Problem.unauthenticated("send Authorization: Bearer <token>");
        }
        return principal;
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

    /** One value in the middle of a body being read: what follows it is the rest of the body, not trailing text. */
    private static final ObjectReader FIELD_VALUE =
            JSON.readerFor(JsonNode.class).without(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /**
     * The top-level string fields {@code names} of the JSON object the body holds, and the fields {@code trees} as
     * JSON values, read as a stream that keeps nothing else: the rest of the object (an AG-UI input's messages, say)
     * is skipped as it is read, so a body of any shape costs its reading time and no memory beyond the fields asked
     * for. 413 past {@code maxBytes}; 400 when it is not one JSON object.
     */
    static Map<String, JsonNode> streamedFields(Context ctx, long maxBytes, Set<String> names, Set<String> trees) {
        if (ctx.contentLength() > maxBytes) {
            throw Problem.tooLarge("the body is " + ctx.contentLength() + " bytes; the limit is " + maxBytes);
        }
        Map<String, JsonNode> fields = new HashMap<>();
        try (InputStream body = new BoundedInputStream(ctx.req().getInputStream(), maxBytes);
                JsonParser parser = JSON.getFactory().createParser(body)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                throw Problem.badRequest("the body must be a JSON object", "body");
            }
            for (JsonToken token = parser.nextToken(); token != JsonToken.END_OBJECT; token = parser.nextToken()) {
                String name = parser.currentName();
                JsonToken value = parser.nextToken();
                if (names.contains(name) && value == JsonToken.VALUE_STRING) {
                    fields.put(name, JsonNodeFactory.instance.textNode(parser.getText()));
                } else if (trees.contains(name)) {
                    fields.put(name, FIELD_VALUE.readValue(parser));
                } else if (names.contains(name) && value != JsonToken.VALUE_NULL) {
                    throw Problem.badRequest(name + " must be a string", name);
                } else {
                    parser.skipChildren();
                }
            }
            if (parser.nextToken() != null) {
                throw Problem.badRequest("the body holds more than one JSON value", "body");
            }
        } catch (BoundedInputStream.TooLarge e) {
            throw Problem.tooLarge("the body is longer than " + maxBytes + " bytes");
        } catch (JsonProcessingException e) {
            throw Problem.badRequest("the body is not valid JSON: " + e.getOriginalMessage(), "body");
        } catch (IOException e) {
            throw Problem.badRequest("the body could not be read: " + e.getMessage(), "body");
        }
        return fields;
    }

    /** A stream that fails once more than its bound was read from it. */
    private static final class BoundedInputStream extends FilterInputStream {

        /** More was sent than the bound. */
        static final class TooLarge extends IOException {
            private static final long serialVersionUID = 1L;

            TooLarge() {
                super("the body is too large");
            }
        }

        private long left;

        BoundedInputStream(InputStream in, long bound) {
            super(in);
            this.left = bound;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0 && --left < 0) {
                throw new TooLarge();
            }
            return b;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            int n = super.read(buffer, offset, length);
            if (n > 0 && (left -= n) < 0) {
                throw new TooLarge();
            }
            return n;
        }
    }

    /** A whole-number query parameter, or {@code fallback} when absent; 400 when not a number. */
    static long longParam(Context ctx, String name, long fallback) {
        String value = ctx.queryParam(name);
        if (value == null) {
            return fallback;
        }
        long parsed;
        try {
            parsed = Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw Problem.badRequest(name + " must be a whole number, was '" + value + "'", name);
        }
        if (Math.abs(parsed) > MAX_WHOLE_NUMBER) {
            // Offsets, versions and waits are far below it; anything near Long.MAX_VALUE would overflow the moment
            // one is added to it.
            throw Problem.badRequest(
                    name + " must be between -" + MAX_WHOLE_NUMBER + " and " + MAX_WHOLE_NUMBER + ", was " + value,
                    name);
        }
        return parsed;
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
