package dev.substrate.api;

import dev.substrate.api.auth.TokenStore;
import dev.substrate.api.auth.TokensUnavailable;
import dev.substrate.api.internal.Cluster;
import dev.substrate.api.internal.Console;
import dev.substrate.api.internal.JettyProblems;
import dev.substrate.api.internal.Metrics;
import dev.substrate.api.internal.Problem;
import dev.substrate.api.internal.Routes;
import dev.substrate.api.internal.Tls;
import dev.substrate.client.SubstrateClient;
import dev.substrate.config.EventSettings;
import dev.substrate.config.HttpSettings;
import dev.substrate.config.InvalidConfiguration;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.event.InvalidEvent;
import dev.substrate.streams.Instance;
import dev.substrate.streams.StateQueries;
import dev.substrate.streams.StateUnavailable;
import io.javalin.Javalin;
import io.javalin.http.HandlerType;
import io.javalin.http.HttpResponseException;
import io.javalin.http.HttpStatus;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.function.Supplier;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.eclipse.jetty.server.AbstractConnector;
import org.eclipse.jetty.server.Connector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Substrate's HTTP front door: appends of run, room and artifact events, reads of their state from the fold
 * (forwarded to, or gathered from, the instances that hold it), artifact content, {@code GET /health} (the
 * process answers), {@code GET /ready} (the fold is running), {@code GET /metrics} (Prometheus; behind a token, or
 * on {@code metrics.port} alone) and {@code GET /openapi.json}, and the operator console at {@code /}. HTTPS only
 * when {@code http.tls.keystore} is set. Every {@code /v1} request carries a bearer token
 * ({@link TokenStore}); the token's roles decide what it may do. Errors are {@code application/problem+json},
 * Jetty's own included; a client's mistake is a 4xx, never a 5xx.
 *
 * <p>It starts before the fold, so that the fold can advertise where it answers ({@link #instance()}), and
 * answers reads once {@link #serve} hands it the fold's queries; until then they are 503.
 */
public final class HttpApi implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(HttpApi.class);

    /**
     * The largest JSON request body accepted with the default {@code max.event.bytes}: the largest event and its
     * JSON overhead. A larger {@code max.event.bytes} raises it to twice that plus 64 KiB ({@link
     * #maxRequestBytes}), so that every event the client accepts can be sent over HTTP too.
     */
    public static final long MAX_REQUEST_BYTES = 4L * 1024 * 1024;

    /** The largest JSON request body accepted for events of up to {@code maxEventBytes}. */
    public static long maxRequestBytes(int maxEventBytes) {
        return Math.max(MAX_REQUEST_BYTES, 2L * maxEventBytes + 64 * 1024);
    }

    private final Javalin app;
    private final Javalin metricsApp;
    private final Routes routes;
    private final Metrics metrics;
    private final String host;
    private final boolean tls;
    private final Instance instance;

    private HttpApi(
            Javalin app,
            Javalin metricsApp,
            Routes routes,
            Metrics metrics,
            String host,
            boolean tls,
            Instance instance) {
        this.app = app;
        this.metricsApp = metricsApp;
        this.routes = routes;
        this.metrics = metrics;
        this.host = host;
        this.tls = tls;
        this.instance = instance;
    }

    /**
     * Binds the API to {@code http.host:http.port} of {@code config} and starts serving; artifact content goes
     * to the blob topics in Kafka ({@link dev.substrate.blob.BlobStore}).
     *
     * @param client appends events
     * @param tokens authenticates the bearer token of every {@code /v1} request (and holds the cluster key unless
     *     {@code cluster.secret} sets one)
     */
    public static HttpApi start(SubstrateConfig config, SubstrateClient client, TokenStore tokens) {
        Metrics metrics = new Metrics();
        metrics.addKafkaMetrics(client::metrics);
        Cluster cluster = new Cluster(
                Tls.clientContext(config),
                clusterKey(config),
                !config.get(HttpSettings.CLUSTER_SECRET).isEmpty());
        Routes routes = new Routes(config, client, tokens, cluster, metrics);
        String host = config.get(HttpSettings.HOST);
        Javalin app = Javalin.create(javalin -> {
            javalin.startup.showJavalinBanner = false;
            javalin.jetty.host = host;
            javalin.jetty.port = config.get(HttpSettings.PORT);
            if (!config.get(HttpSettings.TLS_KEYSTORE).isBlank()) {
                // HTTPS only: the one connector is TLS; there is no plain port beside it.
                javalin.jetty.addConnector((server, http) -> Tls.connector(server, http, config, host));
            }
            javalin.http.maxRequestSize = maxRequestBytes(config.get(EventSettings.MAX_EVENT_BYTES));
            javalin.jetty.modifyServer(server -> server.setErrorHandler(new JettyProblems()));
            javalin.requestLogger.http(metrics::record);
            routes.register(javalin.routes);
            Console console = Console.register(javalin);
            javalin.routes.addHttpHandler(HandlerType.GET, "/", console::page);
            javalin.routes.exception(Problem.class, (problem, ctx) -> {
                if (problem.status() >= 500 && problem.getCause() != null) {
                    log.warn(
                            "{} {} answered {}: {}",
                            ctx.method(),
                            ctx.path(),
                            problem.status(),
                            problem.getMessage(),
                            problem.getCause());
                }
                problem.writeTo(ctx);
            });
            javalin.routes.exception(
                    InvalidEvent.class,
                    (e, ctx) -> Problem.badRequest(e.getMessage(), e.field()).writeTo(ctx));
            javalin.routes.exception(
                    TokensUnavailable.class,
                    (e, ctx) -> Problem.unavailable(e.getMessage()).writeTo(ctx));
            javalin.routes.exception(
                    StateUnavailable.class,
                    (e, ctx) -> Problem.unavailable(e.getMessage()).writeTo(ctx));
            javalin.routes.exception(
                    HttpResponseException.class,
                    (e, ctx) -> Problem.ofStatus(
                                    e.getStatus(),
                                    HttpStatus.forStatus(e.getStatus()).getMessage(),
                                    e.getMessage())
                            .writeTo(ctx));
            javalin.routes.exception(Exception.class, (e, ctx) -> {
                log.error("Unexpected error answering {} {}", ctx.method(), ctx.path(), e);
                Problem.internal().writeTo(ctx);
            });
        });
        app.start();
        // A connection that sends and receives nothing for this long is closed: stalled and slow clients
        // (a slow-loris attack) cannot hold the server's connections.
        for (Connector connector : app.jettyServer().server().getConnectors()) {
            if (connector instanceof AbstractConnector accepting) {
                accepting.setIdleTimeout(config.get(HttpSettings.IDLE_TIMEOUT).toMillis());
            }
        }
        Instance instance = new Instance(config.get(HttpSettings.ADVERTISED_HOST), app.port());
        cluster.bind(instance);
        Javalin metricsApp = null;
        if (config.get(HttpSettings.METRICS_PORT) >= 0) {
            // Its own port, without a token: for a scraper on a network the API's callers do not reach.
            metricsApp = Javalin.create(javalin -> {
                javalin.startup.showJavalinBanner = false;
                javalin.jetty.host = host;
                javalin.jetty.port = config.get(HttpSettings.METRICS_PORT);
                javalin.routes.addHttpHandler(HandlerType.GET, "/metrics", metrics::write);
            });
            metricsApp.start();
            log.info("Metrics served on port {} (GET /metrics, no token)", metricsApp.port());
        }
        HttpApi api = new HttpApi(
                app,
                metricsApp,
                routes,
                metrics,
                host,
                !config.get(HttpSettings.TLS_KEYSTORE).isBlank(),
                instance);
        log.info("HTTP API listening on {} (other instances reach it at {})", api.baseUrl(), instance);
        return api;
    }

    /**
     * Starts answering reads from the fold's {@code queries}, and exporting its Kafka metrics.
     *
     * @param fold the fold's own metrics ({@code KafkaStreams::metrics})
     */
    public void serve(StateQueries queries, Supplier<Map<MetricName, ? extends Metric>> fold) {
        metrics.addKafkaMetrics(fold);
        routes.serve(queries);
    }

    /** Where the other instances reach this one: the advertised host and the bound port. */
    public Instance instance() {
        return instance;
    }

    /** Every route, as method, path and query parameters: what {@code /openapi.json} documents. */
    public List<Endpoint> endpoints() {
        return routes.endpoints().stream()
                .map(endpoint -> new Endpoint(
                        endpoint.method(),
                        endpoint.path(),
                        endpoint.params(),
                        endpoint.permission(),
                        endpoint.forwardable()))
                .toList();
    }

    /**
     * One route of the API.
     *
     * @param method the HTTP method, such as {@code GET}
     * @param path the path, with {@code {name}} for its parameters
     * @param params the query parameters it takes (any other is a 400)
     * @param permission what decides who may call it: {@code PUBLIC}, {@code AUTHENTICATED}, {@code MANAGE_TOKENS},
     *     {@code CREATE}, {@code APPEND}, {@code READ} or {@code LIST} (see the README's permission table)
     * @param forwardable whether another instance may forward it here in a caller's name
     */
    public record Endpoint(String method, String path, Set<String> params, String permission, boolean forwardable) {
        public Endpoint {
            params = Set.copyOf(params);
        }
    }

    /** The port {@code GET /metrics} is served on without a token, when {@code metrics.port} gives it one. */
    public OptionalInt metricsPort() {
        return metricsApp == null ? OptionalInt.empty() : OptionalInt.of(metricsApp.port());
    }

    /** The port the API listens on. */
    public int port() {
        return app.port();
    }

    /** The URL the API answers at, e.g. {@code http://localhost:8080} ({@code https} with a keystore). */
    public String baseUrl() {
        return (tls ? "https://" : "http://") + host + ":" + port();
    }

    /**
     * The key forwarded requests are signed with: {@code cluster.secret}. Without one, a key of this process alone,
     * so that a signed value (a cursor) is still unforgeable; it cannot ask other instances, and says so.
     */
    private static Supplier<byte[]> clusterKey(SubstrateConfig config) {
        String secret = config.get(HttpSettings.CLUSTER_SECRET);
        if (!secret.isEmpty()) {
            byte[] key = secret.getBytes(StandardCharsets.UTF_8);
            if (key.length < 16) {
                throw new InvalidConfiguration(HttpSettings.CLUSTER_SECRET.key(), "must have at least 16 bytes", null);
            }
            return () -> key;
        }
        log.warn("cluster.secret is not set: this instance answers what it holds, and cannot ask other instances of"
                + " the application; set the same cluster.secret on every instance to run more than one");
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        return () -> key;
    }

    /** Ends the open room streams, stops accepting requests and closes the server. */
    @Override
    public void close() {
        routes.close();
        app.stop();
        if (metricsApp != null) {
            metricsApp.stop();
        }
    }
}
