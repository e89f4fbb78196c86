package dev.substrate.api;

import io.javalin.Javalin;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Substrate's HTTP front door. It serves {@code GET /health} (the process is up and answering); the query,
 * append and stream routes join it as they land.
 */
public final class HttpApi implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(HttpApi.class);

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
     */
    public static HttpApi start(String host, int port) {
        Objects.requireNonNull(host, "host");
        Javalin app = Javalin.create(config -> {
            config.startup.showJavalinBanner = false;
            config.jetty.host = host;
            config.jetty.port = port;
            config.routes.get("/health", ctx -> ctx.json(Map.of("status", "up")));
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
