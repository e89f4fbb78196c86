package dev.substrate.api.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.substrate.api.auth.Principal;
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
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads across instances: forwards a request to the instance that holds its key, or asks another instance for
 * its part of a list. A forwarded request carries the caller's position, {@value #FORWARDED} (so that the receiver
 * answers from its own state and never forwards again) and, in place of the caller's token, the caller's name and
 * roles signed by this instance ({@link InstanceSignature}): the token never leaves the instance it was sent to.
 * Over HTTPS when the API serves HTTPS ({@code http.tls.keystore}), trusting {@code http.tls.truststore}.
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

    /** Headers a forwarded request keeps (the caller is stated by {@link InstanceSignature#CLAIMS}). */
    private static final List<String> REQUEST_HEADERS =
            List.of(InstanceSignature.CLAIMS, ReadPosition.HEADER, "Accept");

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
    private static final Logger log = LoggerFactory.getLogger(Cluster.class);

    private final HttpClient http;
    private final String scheme;
    private final Supplier<InstanceSignature> signer;
    private final boolean keyShared;
    private volatile Instance self;

    /**
     * @param tls the trust for forwarding over HTTPS, or null to forward over plain HTTP
     * @param key the application's key for signing forwarded requests, read each time (it may be rotated)
     * @param keyShared whether the other instances have the key ({@code cluster.secret}); without it this instance
     *     answers what it holds and a read of another's state is a 503 that says to set the secret
     */
    public Cluster(SSLContext tls, Supplier<byte[]> key, boolean keyShared) {
        HttpClient.Builder builder =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).version(HttpClient.Version.HTTP_1_1);
        if (tls != null) {
            builder.sslContext(tls);
        }
        this.http = builder.build();
        this.scheme = tls != null ? "https" : "http";
        this.signer = () -> new InstanceSignature(key.get());
        this.keyShared = keyShared;
    }

    /**
     * The caller of a forwarded request, as the forwarding instance vouches for it; 401 when the request is not
     * signed by an instance of this application.
     */
    InstanceSignature.Claims verifyForwarded(Context ctx) {
        try {
            return signer.get().verify(ctx, System.currentTimeMillis());
        } catch (IllegalArgumentException e) {
            throw Problem.unauthenticated("the forwarded caller is malformed: " + e.getMessage());
        }
    }

    /** The MAC of {@code text} under a key of this application's own for {@code purpose}. */
    byte[] mac(String purpose, byte[] text) {
        return signer.get().derivedMac(purpose, text);
    }

    /** Whether every instance has this one's key ({@code cluster.secret}), so that what it derives outlives it. */
    boolean keyShared() {
        return keyShared;
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
        headers.put(InstanceSignature.CLAIMS, claims(Requests.principal(ctx), Requests.tokenId(ctx)));
        return headers;
    }

    /** Claims encoded lately, by token id: a streaming caller sends many requests a second with one token. */
    private static final Map<String, EncodedClaims> RECENT_CLAIMS = new ConcurrentHashMap<>();

    /** How long encoded claims are used again: their validity ({@code MAX_SKEW_MS}, a minute) ends that much sooner. */
    private static final long CLAIMS_REUSE_MS = 1_000;

    /** The most tokens whose claims are remembered; past it they are all forgotten (and encoded again when used). */
    private static final int RECENT_CLAIMS_MAX = 10_000;

    private record EncodedClaims(Principal principal, long atMs, String encoded) {}

    /** The claims of {@code principal} presenting token {@code tokenId}, encoded now or within the last second. */
    private static String claims(Principal principal, String tokenId) {
        long now = System.currentTimeMillis();
        EncodedClaims recent = tokenId == null ? null : RECENT_CLAIMS.get(tokenId);
        if (recent != null && recent.principal().equals(principal) && now - recent.atMs() < CLAIMS_REUSE_MS) {
            return recent.encoded();
        }
        String encoded = InstanceSignature.Claims.of(principal, tokenId, now).encode();
        if (tokenId != null) {
            if (RECENT_CLAIMS.size() >= RECENT_CLAIMS_MAX) {
                RECENT_CLAIMS.clear();
            }
            RECENT_CLAIMS.put(tokenId, new EncodedClaims(principal, now, encoded));
        }
        return encoded;
    }

    /** The id of the token the {@link #caller} presented: what limits per caller count by. */
    static String tokenIdOf(Map<String, String> caller) {
        return InstanceSignature.Claims.decode(caller.get(InstanceSignature.CLAIMS))
                .tokenId();
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
        if (!keyShared) {
            return false;
        }
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
            throw Problem.unavailable("interrupted while asking another instance");
        }
        ctx.status(answer.statusCode());
        for (String header : RESPONSE_HEADERS) {
            answer.headers().firstValue(header).ifPresent(value -> ctx.header(header, value));
        }
        ctx.result(answer.body());
    }

    /**
     * {@link #forward}, without holding this instance's thread while the owner answers (it may wait for a
     * position): the request goes on asynchronously and ends with the owner's answer.
     */
    public void forwardAsync(Context ctx, Instance owner) {
        HttpRequest request = request(caller(ctx), owner, ctx.path(), ctx.queryString(), Map.of());
        ctx.future(() -> http.sendAsync(request, HttpResponse.BodyHandlers.ofByteArray())
                .handle((answer, failure) -> {
                    if (failure != null) {
                        throw unreachable(owner, failure instanceof CompletionException ? failure.getCause() : failure);
                    }
                    ctx.status(answer.statusCode());
                    for (String header : RESPONSE_HEADERS) {
                        answer.headers().firstValue(header).ifPresent(value -> ctx.header(header, value));
                    }
                    ctx.result(answer.body());
                    return null;
                }));
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
        String pathAndQuery = path + (query == null || query.isEmpty() ? "" : "?" + query);
        String claims = caller.get(InstanceSignature.CLAIMS);
        if (claims == null) {
            throw new IllegalStateException("a forwarded request needs its caller");
        }
        if (!keyShared) {
            log.warn("Cannot ask instance {}: cluster.secret is not set", target);
            throw Problem.unavailable("this state is held by another instance, and this one cannot ask it: every"
                    + " instance of an application needs the same cluster.secret");
        }
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(scheme + "://" + target + pathAndQuery))
                .timeout(Duration.ofSeconds(45))
                .header(FORWARDED, self().toString())
                .header(
                        InstanceSignature.SIGNATURE,
                        signer.get().sign("GET", pathAndQuery, claims, System.currentTimeMillis()))
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

    /**
     * The 503 for an instance that did not answer. Its address is logged for operators, not told to the caller:
     * internal host names and ports are not the caller's business.
     */
    static Problem unreachable(Instance instance, Throwable cause) {
        log.warn("Instance {} did not answer a forwarded request: {}", instance, cause.toString());
        return Problem.unavailable("the instance that holds this state did not answer; try again");
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
