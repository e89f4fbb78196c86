package dev.substrate.api.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.substrate.streams.Instance;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Reads across instances: forwards a request to the instance that holds its key, or asks another instance for
 * its part of a list. A forwarded request carries the caller's token and position, and {@value #FORWARDED},
 * so that the receiver answers from its own state and never forwards again.
 */
public final class Cluster {

    /** Marks a request one instance sent to another; the receiver answers for itself alone. */
    public static final String FORWARDED = "X-Substrate-Forwarded";

    /** Names the instance whose state answered a key lookup, for operators following a request. */
    public static final String ANSWERED_BY = "X-Substrate-Answered-By";

    /**
     * On an answer: it came from a standby replica of the state, this many records behind its changelog. On a
     * forwarded request: answer from a standby replica, or not at all.
     */
    public static final String STANDBY_LAG = "X-Substrate-Standby-Lag";

    /** Headers a forwarded request keeps. */
    private static final List<String> REQUEST_HEADERS = List.of("Authorization", ReadPosition.HEADER, "Accept");

    /** Headers of the owner's answer passed back to the caller. */
    private static final List<String> RESPONSE_HEADERS = List.of(
            "Content-Type",
            "Content-Length",
            "Retry-After",
            "ETag",
            "WWW-Authenticate",
            ANSWERED_BY,
            STANDBY_LAG,
            "X-Substrate-Digest");

    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpClient http;
    private volatile Instance self;

    public Cluster() {
        this.http = HttpClient.newBuilder()
                .connectTimeout(Duration.ofSeconds(5))
                .version(HttpClient.Version.HTTP_1_1)
                .build();
    }

    /** Sets where the others reach this instance, once its port is bound. */
    public void bind(Instance instance) {
        this.self = instance;
    }

    /** This instance, as the others reach it. */
    public Instance self() {
        Instance current = self;
        if (current == null) {
            throw Problem.unavailable("the API is starting");
        }
        return current;
    }

    /** Whether the request came from another instance. */
    public static boolean isForwarded(Context ctx) {
        return ctx.header(FORWARDED) != null;
    }

    /**
     * The headers of the caller's request that a request in its name carries (its token, position and {@code
     * Accept}), captured so that it can be asked for after the request's own handling returned.
     */
    public static Map<String, String> caller(Context ctx) {
        Map<String, String> headers = new HashMap<>();
        for (String header : REQUEST_HEADERS) {
            String value = ctx.header(header);
            if (value != null) {
                headers.put(header, value);
            }
        }
        return headers;
    }

    /** Whether the request came from another instance asking for a standby replica's answer. */
    public static boolean isStandbyRead(Context ctx) {
        return isForwarded(ctx) && ctx.header(STANDBY_LAG) != null;
    }

    /**
     * Asks {@code standby} to answer the GET request from its standby replica; if it does (200), its answer is
     * this request's answer and this returns true. False when it cannot or does not answer.
     */
    public boolean forwardToStandby(Context ctx, Instance standby) {
        HttpRequest request = request(caller(ctx), standby, ctx.path(), ctx.queryString(), Map.of(STANDBY_LAG, "any"));
        HttpResponse<byte[]> answer;
        try {
            answer = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        if (answer.statusCode() != 200) {
            return false;
        }
        ctx.status(200);
        for (String header : RESPONSE_HEADERS) {
            answer.headers().firstValue(header).ifPresent(value -> ctx.header(header, value));
        }
        ctx.result(answer.body());
        return true;
    }

    /** Sends the GET request to {@code owner} and streams its answer back as this request's answer. */
    public void forward(Context ctx, Instance owner) {
        HttpRequest request = request(caller(ctx), owner, ctx.path(), ctx.queryString(), Map.of());
        HttpResponse<InputStream> answer;
        try {
            answer = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
        } catch (IOException e) {
            throw unreachable(owner, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw Problem.unavailable("interrupted while asking " + owner);
        }
        ctx.status(answer.statusCode());
        for (String header : RESPONSE_HEADERS) {
            answer.headers().firstValue(header).ifPresent(value -> ctx.header(header, value));
        }
        ctx.result(answer.body());
    }

    /**
     * Asks {@code instance} for a JSON answer to the GET of {@code path}, in the name of the caller.
     *
     * @param headers headers to send in place of the caller's
     */
    public CompletableFuture<Answer> get(
            Context ctx, Instance instance, String path, String query, Map<String, String> headers) {
        return get(caller(ctx), instance, path, query, headers);
    }

    /**
     * Asks {@code instance} for the JSON answer to the GET of {@code path} in the name of a {@link #caller},
     * waiting for it; an instance that does not answer is a 503.
     *
     * @param headers headers to send in place of the caller's
     */
    public Answer getNow(
            Map<String, String> caller, Instance instance, String path, String query, Map<String, String> headers) {
        try {
            return get(caller, instance, path, query, headers).join();
        } catch (CompletionException e) {
            throw unreachable(instance, e.getCause());
        }
    }

    private CompletableFuture<Answer> get(
            Map<String, String> caller, Instance instance, String path, String query, Map<String, String> headers) {
        return http.sendAsync(request(caller, instance, path, query, headers), HttpResponse.BodyHandlers.ofString())
                .thenApply(response -> new Answer(response.statusCode(), parse(response.body())));
    }

    private HttpRequest request(
            Map<String, String> caller, Instance target, String path, String query, Map<String, String> headers) {
        HttpRequest.Builder request = HttpRequest.newBuilder(
                        URI.create("http://" + target + path + (query == null || query.isEmpty() ? "" : "?" + query)))
                .timeout(Duration.ofSeconds(45))
                .header(FORWARDED, self().toString())
                .GET();
        for (String header : REQUEST_HEADERS) {
            String value = headers.containsKey(header) ? headers.get(header) : caller.get(header);
            if (value != null) {
                request.header(header, value);
            }
        }
        headers.forEach((header, value) -> {
            if (!REQUEST_HEADERS.contains(header)) {
                request.header(header, value);
            }
        });
        return request.build();
    }

    static Problem unreachable(Instance instance, Throwable cause) {
        return Problem.unavailable("instance " + instance + " holds this state but did not answer: " + cause);
    }

    private static JsonNode parse(String body) {
        try {
            return JSON.readTree(body);
        } catch (IOException e) {
            return JSON.getNodeFactory().textNode(body);
        }
    }

    /** Another instance's answer: its status and JSON body. */
    public record Answer(int status, JsonNode body) {}
}
