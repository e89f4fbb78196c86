package dev.substrate.api;

import dev.substrate.api.auth.TokenStore;
import dev.substrate.api.internal.Problem;
import dev.substrate.api.internal.Routes;
import dev.substrate.client.SubstrateClient;
import dev.substrate.event.InvalidEvent;
import dev.substrate.streams.StateQueries;
import dev.substrate.streams.StateUnavailable;
import io.javalin.Javalin;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Substrate's HTTP front door: appends of run, room and artifact events, reads of their state from the fold,
 * {@code GET /health} (the process answers) and {@code GET /ready} (the fold is running). Every {@code /v1}
 * request carries a bearer token ({@link TokenStore}); the token's roles decide what it may do. Errors are
 * {@code application/problem+json}; a client's mistake is a 4xx, never a 500.
 */
public final class HttpApi implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(HttpApi.class);

    /** The largest request body accepted: the largest event and its JSON overhead. */
    public static final long MAX_REQUEST_BYTES = 4L * 1024 * 1024;

    private final Javalin app;
    private final String host;

    private HttpApi(Javalin app, String host) {
        this.app = app;
        this.host = host;
    }

    /**
     * Binds the API to {@code host:port} and starts serving.
     *
     * @param port the port, or 0 for any free one (see {@link #port()})
     * @param client appends events
     * @param queries reads the fold's state
     * @param tokens authenticates the bearer token of every {@code /v1} request
     */
    public static HttpApi start(
            String host, int port, SubstrateClient client, StateQueries queries, TokenStore tokens) {
        Objects.requireNonNull(host, "host");
        Routes routes = new Routes(client, queries, tokens);
        Javalin app = Javalin.create(config -> {
            config.startup.showJavalinBanner = false;
            config.jetty.host = host;
            config.jetty.port = port;
            config.http.maxRequestSize = MAX_REQUEST_BYTES;
            config.routes.get("/health", ctx -> ctx.json(Map.of("status", "up")));
            routes.register(config.routes);
            config.routes.exception(Problem.class, (problem, ctx) -> problem.writeTo(ctx));
            config.routes.exception(
                    InvalidEvent.class,
                    (e, ctx) -> Problem.badRequest(e.getMessage(), e.field()).writeTo(ctx));
            config.routes.exception(
                    StateUnavailable.class,
                    (e, ctx) -> Problem.unavailable(e.getMessage()).writeTo(ctx));
            config.routes.exception(Exception.class, (e, ctx) -> {
                log.error("Unexpected error answering {} {}", ctx.method(), ctx.path(), e);
                Problem.internal().writeTo(ctx);
            });
        });
        app.start();
        HttpApi api = new HttpApi(app, host);
        log.info("HTTP API listening on {}", api.baseUrl());
        return api;
    }

    /** The port the API listens on. */
    public int port() {
        return app.port();
    }

    /** The URL the API answers at, e.g. {@code http://localhost:8080}. */
    public String baseUrl() {
        return "http://" + host + ":" + port();
    }

    /** Stops accepting requests and closes the server. */
    @Override
    public void close() {
        app.stop();
    }
}
