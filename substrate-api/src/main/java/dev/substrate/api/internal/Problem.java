package dev.substrate.api.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.substrate.SubstrateException;
import dev.substrate.client.AppendFailed;
import io.javalin.http.Context;

/**
 * An RFC 9457 {@code application/problem+json} answer: {@code type}, {@code title}, {@code status},
 * {@code detail}, and, for bad input, the offending {@code field}.
 */
public final class Problem extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** The media type of every error answer. */
    public static final String MEDIA_TYPE = "application/problem+json";

    private final int status;
    private final String type;
    private final String title;
    private final String field;
    private final String reason;
    /** More members of the answer, beyond the standard ones (such as a batch's {@code appended}). */
    private final ObjectNode more = JsonNodeFactory.instance.objectNode();

    Problem(int status, String type, String title, String detail, String field) {
        this(status, type, title, detail, field, null);
    }

    Problem(int status, String type, String title, String detail, String field, String reason) {
        super(detail);
        this.reason = reason;
        this.status = status;
        this.type = type;
        this.title = title;
        this.field = field;
    }

    /** 400: the request is malformed or a field is wrong. */
    public static Problem badRequest(String detail, String field) {
        return new Problem(400, "invalid-request", "The request is not valid", detail, field);
    }

    /** 401: no token, or a token that is not ours. */
    public static Problem unauthenticated(String detail) {
        return new Problem(401, "unauthenticated", "Authentication required", detail, null);
    }

    /** 403: the principal may not do this. */
    public static Problem forbidden(String detail) {
        return new Problem(403, "forbidden", "Not permitted", detail, null);
    }

    /** 409: the fold refused the event; {@code reason} is its code, such as {@code version_conflict}. */
    public static Problem rejected(String reason, String detail) {
        return new Problem(409, "rejected", "The event was refused: " + reason, detail, null, reason);
    }

    /** 404: no such entity (on this instance). */
    public static Problem notFound(String what) {
        return new Problem(404, "not-found", "Not found", what + " does not exist", null);
    }

    /** 503: try again shortly. */
    public static Problem unavailable(String detail) {
        return new Problem(503, "unavailable", "Not available right now", detail, null);
    }

    /**
     * 503: the state has not reached the position the request carries within its wait; the write is not lost,
     * the fold is behind.
     */
    public static Problem positionNotReached(String detail) {
        return new Problem(503, "position-not-reached", "The state is not yet at the requested position", detail, null);
    }

    /** 429: the caller has too much under way already; try again once some of it is answered. */
    public static Problem tooManyRequests(String detail) {
        return new Problem(429, "too-many-requests", "Too many requests under way", detail, null);
    }

    /** 507: the store has no room for this; a retry helps only once room is made. */
    public static Problem insufficientStorage(String detail) {
        return new Problem(507, "insufficient-storage", "No room to store this", detail, null);
    }

    /** 416: the range asked for is not within the content (the answer's {@code Content-Range} says its size). */
    public static Problem rangeNotSatisfiable(String detail) {
        return new Problem(416, "range-not-satisfiable", "The range is not within the content", detail, null);
    }

    /** 413: the body is larger than the limit. */
    public static Problem tooLarge(String detail) {
        return new Problem(413, "too-large", "The content is too large", detail, null);
    }

    /**
     * The answer to an append Kafka did not take, by what went wrong, with {@code failure} as the cause: 413 when
     * the broker refuses records that large (sending again cannot help), 503 with {@code Retry-After} when trying
     * again may help (the client is overloaded, a broker is away), 500 naming the cause otherwise (the server's
     * producer is not authorized, say: a fault of the deployment that retrying does not mend).
     */
    public static Problem appendFailed(Throwable failure) {
        Throwable cause = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
                ? failure.getCause()
                : failure;
        Problem problem;
        if (cause instanceof AppendFailed failed && failed.isTooLarge()) {
            problem = new Problem(
                    413,
                    "too-large",
                    "The event is too large for Kafka",
                    "Kafka refused the event as larger than its topic accepts ("
                            + failed.getCause().getMessage()
                            + "); sending it again cannot help: raise the topic's max.message.bytes or send less",
                    null);
        } else if (cause instanceof SubstrateException substrate && substrate.isRetriable()) {
            problem = unavailable(cause.getMessage()
                    + (cause.getCause() == null ? "" : ": " + cause.getCause().getMessage()) + "; try again");
        } else if (cause instanceof dev.substrate.client.ClientClosed) {
            problem = unavailable("this instance is shutting down; send the append to another instance");
        } else {
            problem = new Problem(
                    500,
                    "append-failed",
                    "Kafka did not take the event",
                    cause.getMessage()
                            + (cause.getCause() == null
                                    ? ""
                                    : ": " + cause.getCause().getMessage())
                            + "; trying again will fail the same way until the deployment is fixed",
                    null);
        }
        problem.initCause(cause);
        return problem;
    }

    /** 500: a fault of the server, logged with its cause; the answer says nothing more. */
    public static Problem internal() {
        return new Problem(500, "internal", "Internal error", "the server failed to answer; see its log", null);
    }

    /**
     * A problem for an HTTP status that the server's machinery chose (Jetty's or Javalin's: a URI it cannot parse,
     * headers or a body over the limit, a method a route does not take).
     */
    public static Problem ofStatus(int status, String title, String detail) {
        String type = status == 413
                ? "too-large"
                : status == 404 ? "not-found" : status >= 500 ? "internal" : "invalid-request";
        return new Problem(status, type, title, detail == null || detail.isBlank() ? title : detail, null);
    }

    /** The problem another instance answered with ({@code body}, {@code status}), to pass on as it is. */
    static Problem relayed(int status, JsonNode body, String fallbackDetail) {
        String type = body.path("type").asText("urn:substrate:problem:unavailable");
        return new Problem(
                status,
                type.substring(type.lastIndexOf(':') + 1),
                body.path("title").asText("Not available right now"),
                body.path("detail").asText(fallbackDetail),
                body.hasNonNull("field") ? body.get("field").asText() : null,
                body.hasNonNull("reason") ? body.get("reason").asText() : null);
    }

    /** The fold's reason code, for a refused event; null otherwise. */
    public String reason() {
        return reason;
    }

    /** This problem with one more member {@code name} in its JSON body. */
    Problem with(String name, long value) {
        more.put(name, value);
        return this;
    }

    /** The HTTP status. */
    public int status() {
        return status;
    }

    /** The problem type, without its {@code urn:substrate:problem:} prefix. */
    public String type() {
        return type;
    }

    /** Writes the problem as the response. */
    public void writeTo(Context ctx) {
        if (status == 401) {
            ctx.header("WWW-Authenticate", "Bearer realm=\"substrate\"");
        }
        if (status == 503 || status == 429) {
            ctx.header("Retry-After", "1");
        }
        ctx.status(status).contentType(MEDIA_TYPE).result(toJson(ctx.path()).toString());
    }

    /** The problem as its JSON body; {@code instance} is the request path. */
    public ObjectNode toJson(String instance) {
        ObjectNode body = JsonNodeFactory.instance.objectNode();
        body.put("type", "urn:substrate:problem:" + type);
        body.put("title", title);
        body.put("status", status);
        body.put("detail", getMessage());
        if (field != null) {
            body.put("field", field);
        }
        if (reason != null) {
            body.put("reason", reason);
        }
        body.put("instance", instance);
        body.setAll(more);
        return body;
    }
}
