package dev.substrate.api.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.substrate.api.auth.Principal;
import dev.substrate.api.auth.Role;
import dev.substrate.api.auth.TokenStore;
import dev.substrate.blob.BlobStore;
import dev.substrate.client.SubstrateClient;
import dev.substrate.config.BlobSettings;
import dev.substrate.config.EventSettings;
import dev.substrate.config.HttpSettings;
import dev.substrate.config.QuerySettings;
import dev.substrate.config.StreamSettings;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.entity.EntityKind;
import dev.substrate.events.room.RoomKind;
import dev.substrate.state.ArtifactState;
import dev.substrate.state.RoomState;
import dev.substrate.state.RunState;
import dev.substrate.streams.RunIndex;
import dev.substrate.streams.StateQueries;
import dev.substrate.streams.UsageMeter;
import dev.substrate.topic.Topics;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import io.javalin.http.HandlerType;
import io.javalin.websocket.WsHandlerType;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

/**
 * Every route of the API. Appends ({@link Appends}) answer once Kafka acknowledged the event; reads ({@link
 * Reads}) answer from whichever instance holds the state; artifact content lives in the {@link BlobStore}.
 */
public final class Routes implements AutoCloseable {

    /**
     * One registered route: its method, path and query parameters, as {@code /openapi.json} must document it; the
     * {@link Access.Permission} it is decided by; whether another instance may forward it here.
     */
    public record Endpoint(String method, String path, Set<String> params, String permission, boolean forwardable) {
        public Endpoint {
            params = Set.copyOf(params);
        }
    }

    /** Whether a route answers requests other instances forward in a caller's name. */
    private enum Forward {
        /** Only requests of callers with a token of their own. */
        NO,
        /** Also signed requests of other instances: the reads they forward to the owner of a key, and list parts. */
        YES
    }

    /** The largest body of a route that takes no event: anything bigger is a 413, unread. */
    static final long SMALL_BODY_BYTES = 64 * 1024;

    private final TokenStore tokens;
    private final TokenRoutes tokenRoutes;
    private final Cluster cluster;
    private final Reads reads;
    private final Lists lists;
    private final RoomAccess rooms;
    private final Appends appends;
    private final Contents contents;
    private final BlobStore blobs;
    private final RoomStreams streams;
    private final RoomSockets sockets;
    private final DurableStreams durable;
    private final WebhookRoutes webhooks;
    private final Metrics metrics;
    private final boolean metricsOnApiPort;
    /** The most run-index entries one count looks at on one instance ({@code query.count.budget}). */
    private final long countBudget;

    private final UsageRoutes usage;
    private final PriceTable prices;
    private final RetentionRoutes retention;
    private final Sealing sealing;
    private final ErasureRoutes erasures;
    private final OtlpIngest otlp;
    /** Finished runs out as OpenTelemetry traces, when an OTLP endpoint is configured; null otherwise. */
    private final OtlpExport otlpExport;

    private final List<Endpoint> endpoints = new ArrayList<>();

    public Routes(SubstrateConfig config, SubstrateClient client, TokenStore tokens, Cluster cluster, Metrics metrics) {
        this.tokens = tokens;
        this.tokenRoutes = new TokenRoutes(tokens);
        this.cluster = cluster;
        this.reads = new Reads(
                cluster,
                config.get(QuerySettings.STANDBY_MAX_LAG),
                queries -> new PositionWaits(
                        queries,
                        Topics.from(config),
                        Admin.create(
                                new HashMap<String, Object>(config.kafkaProperties(AdminClientConfig.configNames()))),
                        config.get(HttpSettings.POSITION_WAITS_PER_PRINCIPAL)));
        this.lists = new Lists(cluster, reads);
        this.rooms = new RoomAccess(reads);
        this.sealing = new Sealing(config, Topics.from(config));
        this.appends = new Appends(client, reads, rooms, sealing);
        this.blobs = BlobStore.start(config);
        this.contents = new Contents(
                blobs,
                config.get(BlobSettings.MAX_BYTES),
                reads,
                appends,
                rooms,
                config.get(BlobSettings.UPLOADS_MAX),
                config.get(BlobSettings.READS_MAX),
                config.get(HttpSettings.POSITION_WAITS_PER_PRINCIPAL),
                sealing);
        this.streams = new RoomStreams(config, rooms, tokens, appends, sealing);
        tokens.onRevoked(streams::revoked);
        this.sockets = new RoomSockets(cluster, tokens, rooms, streams, config.get(StreamSettings.HEARTBEAT));
        this.durable = new DurableStreams(config, rooms, streams);
        this.webhooks = new WebhookRoutes(config, cluster);
        this.metrics = metrics;
        this.metricsOnApiPort = config.get(HttpSettings.METRICS_PORT) < 0;
        this.countBudget = config.get(QuerySettings.COUNT_BUDGET);
        this.prices = new PriceTable(config, Topics.from(config));
        this.usage = new UsageRoutes(lists, reads, countBudget, prices);
        this.retention = new RetentionRoutes(config, Topics.from(config), lists, reads, countBudget);
        this.erasures = new ErasureRoutes(
                appends, reads, sealing, config.get(dev.substrate.config.TopicSettings.ERASURE_BOUND));
        this.otlpExport = OtlpExport.startIfConfigured(config, System.getenv());
        this.otlp = new OtlpIngest(
                appends, dev.substrate.api.HttpApi.maxRequestBytes(config.get(EventSettings.MAX_EVENT_BYTES)));
        metrics.addGauge("substrate_room_streams_open", "Room streams (SSE) open on this instance.", streams::clients);
        metrics.addGauge(
                "substrate_position_waits",
                "Reads waiting on this instance for the fold to reach their position.",
                reads::waitingForPosition);
        metrics.addGauge(
                "substrate_room_stream_consumers",
                "Kafka consumers feeding this instance's room streams: one per partition in use.",
                streams::consumers);
        metrics.addGauge(
                "substrate_room_stream_idle_consumers",
                "Kafka consumers of partitions no room stream follows now, kept 30 s for the next client.",
                streams::idleConsumers);
    }

    /** Starts answering reads from the fold's {@code queries}; until then they are 503. */
    public void serve(StateQueries queries) {
        reads.serve(queries.openingWith(sealing.opener()));
        metrics.addGauge(
                "substrate_fold_ready",
                "1 while this instance's fold is deciding events (GET /ready answers 200), 0 otherwise.",
                () -> queries.notReady().isEmpty() ? 1 : 0);
        queries.usageMeter().ifPresent(this::addUsageCounters);
        queries.health().ifPresent(health -> {
            metrics.addGauge(
                    "substrate_fold_thread_failures",
                    "Stream threads of the fold that failed (and were replaced) since start.",
                    health::threadFailures);
            metrics.addGauge(
                    "substrate_fold_records_dead_lettered",
                    "Records the fold could not write, sent to the dead-letter topic instead, since start.",
                    health::recordsDeadLettered);
        });
    }

    /** {@code substrate_usage_<kind>_tokens_total{project, model}}: the tokens this instance's fold counted. */
    private void addUsageCounters(UsageMeter meter) {
        Map<String, java.util.function.ToLongFunction<UsageMeter.Tokens>> kinds = new java.util.LinkedHashMap<>();
        kinds.put("input", UsageMeter.Tokens::input);
        kinds.put("output", UsageMeter.Tokens::output);
        kinds.put("cached_input", UsageMeter.Tokens::cachedInput);
        kinds.put("reasoning", UsageMeter.Tokens::reasoning);
        kinds.forEach((kind, tokens) -> metrics.addCounters(
                "substrate_usage_" + kind + "_tokens_total",
                "Tokens (" + kind.replace('_', ' ') + ") that events folded on this instance since start carried, by"
                        + " project and model; GET /v1/usage has the exact sums.",
                List.of("project", "model"),
                () -> {
                    Map<List<String>, Long> values = new java.util.LinkedHashMap<>();
                    meter.snapshot()
                            .forEach((series, counts) ->
                                    values.put(List.of(series.project(), series.model()), tokens.applyAsLong(counts)));
                    return values;
                }));
    }

    /** Ends every open room stream. */
    @Override
    public void close() {
        streams.close();
        webhooks.close();
        prices.close();
        retention.close();
        sealing.close();
        if (otlpExport != null) {
            otlpExport.close();
        }
        reads.close();
        blobs.close();
    }

    /** Every route registered, for the OpenAPI check. */
    public List<Endpoint> endpoints() {
        return List.copyOf(endpoints);
    }

    /** Registers every route, each with the permission that decides who may call it. */
    public void register(RoutesConfig routes) {
        Access.Permission anyone = Access.Permission.PUBLIC;
        Access.Permission read = Access.Permission.READ;
        add(routes, HandlerType.GET, "/health", Params.NONE, anyone, Forward.NO, this::health);
        add(routes, HandlerType.GET, "/ready", Params.NONE, anyone, Forward.NO, this::ready);
        if (metricsOnApiPort) {
            // Behind a token (any role): the figures describe the deployment's load and its internals.
            add(
                    routes,
                    HandlerType.GET,
                    "/metrics",
                    Params.NONE,
                    Access.Permission.AUTHENTICATED,
                    Forward.NO,
                    metrics::write);
        }
        add(routes, HandlerType.GET, "/openapi.json", Params.NONE, anyone, Forward.NO, OpenApi::write);
        add(
                routes,
                HandlerType.GET,
                "/v1/whoami",
                Params.NONE,
                Access.Permission.AUTHENTICATED,
                Forward.NO,
                Routes::whoami);
        Access.Permission tokenAdmin = Access.Permission.MANAGE_TOKENS;
        add(routes, HandlerType.POST, "/v1/tokens", Params.NONE, tokenAdmin, Forward.NO, tokenRoutes::create);
        add(routes, HandlerType.GET, "/v1/tokens", Params.NONE, tokenAdmin, Forward.NO, tokenRoutes::list);
        add(
                routes,
                HandlerType.DELETE,
                "/v1/tokens/{tokenId}",
                Params.NONE,
                tokenAdmin,
                Forward.NO,
                tokenRoutes::revoke);

        Access.Permission webhookAdmin = Access.Permission.MANAGE_WEBHOOKS;
        add(routes, HandlerType.POST, "/v1/webhooks", Params.NONE, webhookAdmin, Forward.NO, webhooks::create);
        add(routes, HandlerType.GET, "/v1/webhooks", Params.NONE, webhookAdmin, Forward.NO, webhooks::list);
        String webhook = "/v1/webhooks/{webhookId}";
        add(routes, HandlerType.GET, webhook, Params.NONE, webhookAdmin, Forward.NO, webhooks::show);
        add(routes, HandlerType.DELETE, webhook, Params.NONE, webhookAdmin, Forward.NO, webhooks::delete);
        add(routes, HandlerType.POST, webhook + "/replay", Params.NONE, webhookAdmin, Forward.NO, webhooks::replay);

        // Before /v1/runs/{runId}, which would otherwise take "counts" for a run id.
        add(
                routes,
                HandlerType.GET,
                "/v1/runs/counts",
                RunQuery.COUNT,
                Access.Permission.LIST,
                Forward.YES,
                this::countRuns);
        addEntity(
                routes,
                EntityKind.RUN,
                RunQuery.LIST,
                this::listRuns,
                ctx -> state(ctx, EntityKind.RUN, ctx.pathParam("runId")));
        add(
                routes,
                HandlerType.GET,
                "/v1/runs/{runId}/events",
                Params.read("after", "limit"),
                read,
                Forward.YES,
                this::runEvents);
        add(
                routes,
                HandlerType.POST,
                "/v1/runs/{runId}/interrupts/{interruptId}/answer",
                Params.READ_ONLY,
                Access.Permission.APPEND,
                Forward.NO,
                appends::answer);

        add(
                routes,
                HandlerType.GET,
                "/v1/usage",
                UsageRoutes.PARAMS,
                Access.Permission.LIST,
                Forward.YES,
                usage::usage);

        add(
                routes,
                HandlerType.GET,
                "/v1/prices",
                Params.read("version"),
                Access.Permission.LIST,
                Forward.NO,
                this::showPrices);
        add(
                routes,
                HandlerType.PUT,
                "/v1/prices",
                Params.NONE,
                Access.Permission.MANAGE_PRICES,
                Forward.NO,
                ctx -> Requests.json(
                        ctx,
                        prices.set(Requests.body(ctx), Requests.principal(ctx).name())
                                .toJson()));
        add(
                routes,
                HandlerType.GET,
                "/v1/retention/policies",
                Params.NONE,
                Access.Permission.LIST,
                Forward.NO,
                retention::list);
        add(
                routes,
                HandlerType.GET,
                "/v1/retention/policies/{policyId}",
                Params.NONE,
                Access.Permission.LIST,
                Forward.NO,
                retention::show);
        add(
                routes,
                HandlerType.PUT,
                "/v1/retention/policies/{policyId}",
                Params.NONE,
                Access.Permission.MANAGE_RETENTION,
                Forward.NO,
                retention::set);
        add(
                routes,
                HandlerType.DELETE,
                "/v1/retention/policies/{policyId}",
                Params.NONE,
                Access.Permission.MANAGE_RETENTION,
                Forward.NO,
                retention::delete);
        add(
                routes,
                HandlerType.GET,
                "/v1/retention/plan",
                RetentionRoutes.PLAN_PARAMS,
                Access.Permission.MANAGE_RETENTION,
                Forward.YES,
                retention::plan);
        add(
                routes,
                HandlerType.POST,
                "/v1/erasures",
                Params.NONE,
                Access.Permission.ERASE,
                Forward.NO,
                erasures::erase);
        add(
                routes,
                HandlerType.POST,
                "/v1/keys/rewrap",
                Params.NONE,
                Access.Permission.ERASE,
                Forward.NO,
                erasures::rewrap);
        // OpenTelemetry's OTLP/HTTP trace exports: GenAI spans become runs, rooms, turns and usage.
        add(routes, HandlerType.POST, OtlpIngest.PATH, Params.NONE, Access.Permission.CREATE, Forward.NO, otlp::traces);

        addEntity(routes, EntityKind.ROOM, ROOM_LIST, this::listRooms, this::room);
        add(
                routes,
                HandlerType.GET,
                "/v1/rooms/{roomId}/transcript",
                Params.read("after", "limit"),
                read,
                Forward.YES,
                this::transcript);
        add(
                routes,
                HandlerType.GET,
                "/v1/rooms/{roomId}/stream",
                Params.read("view", "from", "after"),
                read,
                Forward.NO,
                streams::open);
        add(
                routes,
                HandlerType.GET,
                "/v1/rooms/{roomId}/ag-ui",
                Params.read("runId", "after"),
                read,
                Forward.NO,
                streams::openAgUi);
        add(
                routes,
                HandlerType.POST,
                "/v1/rooms/{roomId}/ag-ui",
                Params.read("after"),
                read,
                Forward.NO,
                streams::openAgUi);
        add(
                routes,
                HandlerType.GET,
                "/v1/rooms/{roomId}/ai-sdk/stream",
                Params.READ_ONLY,
                read,
                Forward.NO,
                streams::openAiSdk);
        add(
                routes,
                HandlerType.GET,
                "/v1/rooms/{roomId}/ai-sdk/messages",
                Params.READ_ONLY,
                read,
                Forward.NO,
                streams::messages);
        Params durableRead = Params.read("offset", "live", "cursor");
        add(routes, HandlerType.GET, "/v1/rooms/{roomId}/ds", durableRead, read, Forward.NO, durable::get);
        add(routes, HandlerType.HEAD, "/v1/rooms/{roomId}/ds", durableRead, read, Forward.NO, durable::head);
        for (HandlerType write : List.of(HandlerType.POST, HandlerType.PUT, HandlerType.DELETE)) {
            add(routes, write, "/v1/rooms/{roomId}/ds", Params.READ_ONLY, read, Forward.NO, durable::refuseWrite);
        }
        add(
                routes,
                HandlerType.POST,
                "/v1/rooms/{roomId}/ws-ticket",
                Params.READ_ONLY,
                read,
                Forward.NO,
                sockets::ticket);
        String socket = "/v1/rooms/{roomId}/ws";
        Params socketParams = Params.read("cursor", "ticket");
        add(routes, HandlerType.GET, socket, socketParams, read, Forward.NO, sockets::withoutUpgrade);
        // The upgrade is decided as the GET is, the token or a ticket authenticating it, before it becomes a socket.
        routes.addHttpHandler(
                HandlerType.WEBSOCKET_BEFORE_UPGRADE,
                socket,
                guarded(HandlerType.GET, socket, socketParams, read, Forward.NO, true, sockets::beforeUpgrade));
        routes.addWsHandler(WsHandlerType.WEBSOCKET, socket, sockets::configure);

        addEntity(routes, EntityKind.ARTIFACT, ARTIFACT_LIST, this::listArtifacts, this::artifact);
        add(
                routes,
                HandlerType.PUT,
                "/v1/artifacts/{artifactId}/content",
                APPEND,
                Access.Permission.APPEND,
                Forward.NO,
                contents::put);
        add(
                routes,
                HandlerType.GET,
                "/v1/artifacts/{artifactId}/content",
                Params.READ_ONLY,
                read,
                Forward.NO,
                contents::get);
        add(
                routes,
                HandlerType.GET,
                Reads.ENTITY_ROUTE,
                Params.read("eventId"),
                Access.Permission.INSTANCE,
                Forward.YES,
                reads::answerOwned);
    }

    /** What {@code GET /v1/rooms} takes. */
    static final Params ROOM_LIST =
            Params.read("cursor", "limit", "kind", "runId", "parentRoomId", "project", "status", "member");

    /** What {@code GET /v1/artifacts} takes. */
    static final Params ARTIFACT_LIST =
            Params.read("cursor", "limit", "parent", "runId", "roomId", "kind", "mediaType", "digest", "name");

    /**
     * What an append takes: {@code ?wait=applied}, how long to wait, and a position at which a scoped token's reach is
     * checked.
     */
    static final Params APPEND = Params.read("wait");

    /**
     * The routes every kind has, under {@code /v1/<kind>s}: create (POST), list (GET), one entity's state (GET
     * {@code /{id}}), append an event (POST {@code /{id}/events}) and an event's outcome (GET {@code
     * /{id}/outcomes/{eventId}}).
     */
    private void addEntity(RoutesConfig routes, EntityKind<?, ?> kind, Params listParams, Handler list, Handler state) {
        String base = "/v1/" + kind.name() + "s";
        String one = base + "/{" + kind.idField() + "}";
        add(
                routes,
                HandlerType.POST,
                base,
                APPEND,
                Access.Permission.CREATE,
                Forward.NO,
                ctx -> appends.create(ctx, kind, kind.creationSchema()));
        add(routes, HandlerType.GET, base, listParams, Access.Permission.LIST, Forward.YES, list);
        add(routes, HandlerType.GET, one, Params.READ_ONLY, Access.Permission.READ, Forward.YES, state);
        add(
                routes,
                HandlerType.POST,
                one + "/events",
                APPEND,
                Access.Permission.APPEND,
                Forward.NO,
                ctx -> appends.event(ctx, kind, kind.idField()));
        add(
                routes,
                HandlerType.GET,
                one + "/outcomes/{eventId}",
                Params.read("state"),
                Access.Permission.READ,
                Forward.YES,
                ctx -> outcome(ctx, kind, kind.idField()));
    }

    /**
     * Registers one route behind the checks every route has, in this order: who the caller is (a bearer token, or for
     * a route other instances forward to, their signed claims), whether its roles may call a route of {@code
     * permission} at all ({@link Access#mayCall}), the size of its body by what the route takes, and its query
     * parameters. The handler then asks {@link Access#decide} about the resource it touches.
     */
    private void add(
            RoutesConfig routes,
            HandlerType method,
            String path,
            Params params,
            Access.Permission permission,
            Forward forward,
            Handler handler) {
        endpoints.add(new Endpoint(method.name(), path, params.names(), permission.name(), forward == Forward.YES));
        routes.addHttpHandler(
                method, path, metrics.timed(path, guarded(method, path, params, permission, forward, false, handler)));
    }

    /**
     * {@code handler} behind the checks every route has ({@link #add}); with {@code ticket}, a request without an
     * {@code Authorization} header may be authenticated by a WebSocket ticket ({@link RoomSockets#authenticate}).
     */
    private Handler guarded(
            HandlerType method,
            String path,
            Params params,
            Access.Permission permission,
            Forward forward,
            boolean ticket,
            Handler handler) {
        // Events are bounded by the server's request size; an AG-UI input is read as a stream that keeps nothing
        // (RoomStreams), bounded by the same size; every other route takes a small body or none.
        boolean largeBody = permission == Access.Permission.CREATE
                || permission == Access.Permission.APPEND
                || path.endsWith("/ag-ui");
        return ctx -> {
            if (permission != Access.Permission.PUBLIC) {
                if (Cluster.isForwarded(ctx)) {
                    if (forward != Forward.YES) {
                        throw Problem.forbidden("instances do not forward " + method + " " + path);
                    }
                    // Another instance's request, in a caller's name: its signature, not a token, authenticates it.
                    Requests.actAsForwarded(ctx, cluster.verifyForwarded(ctx), tokens);
                } else if (permission == Access.Permission.INSTANCE) {
                    throw Problem.forbidden(method + " " + path + " answers other instances of the application alone");
                } else if (ticket && ctx.header("Authorization") == null && ctx.queryParam("ticket") != null) {
                    sockets.authenticate(ctx, ctx.queryParam("ticket"));
                } else {
                    Requests.authenticate(ctx, tokens);
                }
                Access.mayCall(Requests.principal(ctx), permission).require();
            }
            if (!largeBody && ctx.contentLength() > SMALL_BODY_BYTES) {
                // Refused unread.
                throw Problem.tooLarge("this route takes a body of at most " + SMALL_BODY_BYTES + " bytes");
            }
            params.check(ctx);
            handler.handle(ctx);
        };
    }

    /**
     * GET /v1/prices?version=: the price table's latest version (or the one asked for): {@code {"version", "currency",
     * "models": {model: {"inputPerMillion", "outputPerMillion", "cachedInputPerMillion"}}, "setBy", "setAt"}}; before
     * any was set, {@code {"version": null, "models": {}}}.
     */
    private void showPrices(Context ctx) {
        String asked = ctx.queryParam("version");
        java.util.Optional<PriceTable.Version> version;
        if (asked == null) {
            version = prices.latest();
        } else {
            try {
                version = prices.version(Long.parseLong(asked));
            } catch (NumberFormatException e) {
                throw Problem.badRequest("version must be a whole number", "version");
            }
            if (version.isEmpty()) {
                throw Problem.notFound("price table version " + asked);
            }
        }
        Requests.json(ctx, version.map(PriceTable.Version::toJson).orElseGet(() -> {
            ObjectNode none = JsonNodeFactory.instance.objectNode();
            none.putNull("version");
            none.putObject("models");
            return none;
        }));
    }

    /** GET /v1/whoami: who the token acts as, its roles and the projects it reaches (what the console shows). */
    private static void whoami(Context ctx) {
        Principal principal = Requests.principal(ctx);
        ObjectNode answer = JsonNodeFactory.instance.objectNode();
        answer.put("principal", principal.name());
        ArrayNode roles = answer.putArray("roles");
        principal.roles().stream().map(Role::id).sorted().forEach(roles::add);
        ArrayNode projects = answer.putArray("projects");
        principal.projects().forEach(projects::add);
        answer.put("mayAppend", principal.hasAny(Access.APPENDERS));
        Requests.json(ctx, answer);
    }

    private static ObjectNode status(String status) {
        return JsonNodeFactory.instance.objectNode().put("status", status);
    }

    /**
     * GET /ready (readiness): 200 while the tokens and the blob index are read and the fold decides events
     * (restored once; running or in an ordinary rebalance; no stream thread failed in the last 30 s), else 503
     * with the reason.
     */
    private void ready(Context ctx) {
        tokens.notReady().or(blobs::notReady).ifPresent(reason -> {
            throw Problem.unavailable(reason);
        });
        StateQueries queries = reads.queries();
        queries.notReady().ifPresent(reason -> {
            throw Problem.unavailable(reason);
        });
        // "rebalancing" while partitions move between instances: ready, but some keys answer 503 until it ends.
        Requests.json(ctx, status("ready").put("fold", queries.ready() ? "running" : "rebalancing"));
    }

    /**
     * GET /health (liveness): 200 while the process answers and can recover by itself; 503 once the fold has
     * stopped for good after an error, when only a restart helps.
     */
    private void health(Context ctx) {
        reads.queriesIfServed().flatMap(StateQueries::notLive).ifPresent(reason -> {
            throw Problem.unavailable(reason);
        });
        Requests.json(ctx, status("up"));
    }

    /** GET /v1/{kind}s/{id}: the entity's current state, if within the caller's reach. */
    private void state(Context ctx, EntityKind<?, ?> entity, String id) throws Exception {
        Principal principal = Requests.principal(ctx);
        reads.keyedOrStandby(
                ctx,
                entity,
                id,
                queries -> Reads.stateJson(queries, entity, id)
                        .filter(state -> Access.decide(principal, Access.Action.READ, Scope.resourceOf(entity, state))
                                .allowed()));
    }

    /** GET /v1/artifacts/{id}: the artifact's state, if the caller may read its room (when it names one). */
    private void artifact(Context ctx) throws Exception {
        String artifactId = ctx.pathParam("artifactId");
        Principal principal = Requests.principal(ctx);
        Map<String, String> caller = Cluster.caller(ctx);
        reads.keyedOrStandby(
                ctx,
                EntityKind.ARTIFACT,
                artifactId,
                queries -> Reads.stateJson(queries, EntityKind.ARTIFACT, artifactId)
                        .map(artifact -> {
                            rooms.requireArtifact(caller, principal, Access.Action.READ, artifact);
                            return artifact;
                        }));
    }

    /** GET /v1/{kind}s/{id}/outcomes/{eventId}: the fold's decision about one event. */
    private void outcome(Context ctx, EntityKind<?, ?> entity, String idParam) throws Exception {
        String id = ctx.pathParam(idParam);
        String eventId = ctx.pathParam("eventId");
        reads.keyed(ctx, entity, id, local -> {
            // A decision names its entity: it is read by whoever may read the entity (and, of one that does not
            // exist, such as a refused creation, by any caller: it hides nothing).
            if (entity == EntityKind.ROOM) {
                if (reads.queries().room(id).isPresent()) {
                    readableRoom(local, id);
                }
            } else {
                Principal principal = Requests.principal(local);
                Optional<JsonNode> state = reads.stateJson(entity, id);
                if (state.isPresent()) {
                    Access.Decision decision =
                            Access.decide(principal, Access.Action.READ, Scope.resourceOf(entity, state.get()));
                    if (!decision.allowed()) {
                        throw Scope.hidden(entity, id);
                    }
                    if (entity == EntityKind.ARTIFACT) {
                        rooms.requireArtifact(Cluster.caller(local), principal, Access.Action.READ, state.get());
                    }
                }
            }
            // ?state=true adds the entity's state: how ?wait=applied reads both in one hop.
            Requests.json(
                    local,
                    "true".equals(local.queryParam("state"))
                            ? reads.outcomeWithStateJson(entity, id, eventId)
                            : reads.outcomeJson(entity, id, eventId));
        });
    }

    /**
     * GET /v1/runs/{runId}/events?after=&limit=: the run's applied events after version {@code after}, oldest
     * first, each with the {@code version} it gave the run; {@code next} is the {@code after} of the next page.
     */
    private void runEvents(Context ctx) throws Exception {
        String runId = ctx.pathParam("runId");
        long after = Requests.longParam(ctx, "after", 0);
        if (after < 0) {
            throw Problem.badRequest("after must be a version (0 or more)", "after");
        }
        int limit = Requests.limit(ctx);
        reads.keyed(ctx, EntityKind.RUN, runId, local -> {
            StateQueries queries = reads.queries();
            Principal principal = Requests.principal(local);
            if (queries.run(runId).filter(run -> Access.mayRead(principal, run)).isEmpty()) {
                throw Problem.notFound("run " + runId);
            }
            StateQueries.HistoryPage page = queries.runHistory(runId, after, limit);
            ObjectNode answer = JsonNodeFactory.instance.objectNode();
            ArrayNode items = answer.putArray("items");
            page.entries()
                    .forEach(entry -> items.add(AvroJson.toJson(entry.event()).put("version", entry.version())));
            if (page.more()) {
                answer.put("next", page.entries().get(page.entries().size() - 1).version());
            }
            Requests.json(local, answer);
        });
    }

    private void room(Context ctx) throws Exception {
        String roomId = ctx.pathParam("roomId");
        reads.keyed(
                ctx,
                EntityKind.ROOM,
                roomId,
                local -> Requests.json(local, AvroJson.toJson(readableRoom(local, roomId))));
    }

    /** GET /v1/rooms/{roomId}/transcript?after=&limit=: entries after an offset, oldest first. */
    private void transcript(Context ctx) throws Exception {
        String roomId = ctx.pathParam("roomId");
        long after = Requests.longParam(ctx, "after", -1);
        int limit = Requests.limit(ctx);
        reads.keyed(ctx, EntityKind.ROOM, roomId, local -> {
            readableRoom(local, roomId);
            var page = reads.queries().transcript(roomId, after, limit);
            var entries = page.entries();
            ObjectNode answer = JsonNodeFactory.instance.objectNode();
            ArrayNode items = answer.putArray("items");
            entries.forEach(entry -> items.add(AvroJson.toJson(entry)));
            if (page.more() && !entries.isEmpty()) {
                answer.put("next", entries.get(entries.size() - 1).getOffset());
            }
            Requests.json(local, answer);
        });
    }

    /** The room, if the principal may read it: operators and admins read every room, others their own. */
    private RoomState readableRoom(Context ctx, String roomId) {
        return rooms.readableHere(Requests.principal(ctx), roomId);
    }

    /**
     * GET /v1/runs with {@link RunQuery}'s filters: newest update first, or newest creation first with {@code
     * order=created}.
     */
    private void listRuns(Context ctx) throws Exception {
        RunQuery query = RunQuery.from(ctx);
        RunIndex index = query.index();
        Predicate<RunState> also = query.forPrincipal(Requests.principal(ctx));
        int limit = Requests.limit(ctx);
        lists.list(ctx, EntityKind.RUN, true, cursor -> reads.queries().runs(index, also, cursor, limit));
    }

    /**
     * GET /v1/runs/counts?groupBy=status|project|surface with {@link RunQuery}'s filters: {@code {"counts": {...},
     * "total": n}} over every instance, of the runs the caller reaches.
     */
    private void countRuns(Context ctx) throws Exception {
        RunQuery query = RunQuery.from(ctx);
        Function<RunState, String> groupBy = RunQuery.groupBy(ctx);
        RunIndex index = query.index();
        Predicate<RunState> also = query.forPrincipal(Requests.principal(ctx));
        lists.count(ctx, EntityKind.RUN, () -> reads.queries().countRuns(index, also, groupBy, countBudget));
    }

    /**
     * GET /v1/rooms?kind=&runId=&parentRoomId=&project=&status=open|closed&member=: by room id; only rooms the
     * caller may read.
     */
    private void listRooms(Context ctx) throws Exception {
        Principal principal = Requests.principal(ctx);
        RoomKind kind = RunQuery.choice(ctx, "kind", RoomKind.class);
        String runId = ctx.queryParam("runId");
        String parent = ctx.queryParam("parentRoomId");
        String project = ctx.queryParam("project");
        String status = ctx.queryParam("status");
        if (status != null && !status.equals("open") && !status.equals("closed")) {
            throw Problem.badRequest("status must be open or closed", "status");
        }
        Boolean closed = status == null ? null : status.equals("closed");
        String member = ctx.queryParam("member");
        StateQueries.Filter filter = runId != null
                ? StateQueries.Filter.roomsByRun(runId)
                : parent != null
                        ? StateQueries.Filter.roomsByParent(parent)
                        : kind != null ? StateQueries.Filter.roomsByKind(kind.name()) : StateQueries.Filter.all();
        Predicate<RoomState> also = room -> (kind == null || room.getKind() == kind)
                && (runId == null || runId.equals(room.getRunId()))
                && (parent == null || parent.equals(room.getParentRoomId()))
                && (project == null || project.equals(room.getProject()))
                && (closed == null || closed == room.getClosed())
                && (member == null || room.getMembers().containsKey(member))
                && Access.mayRead(principal, room);
        int limit = Requests.limit(ctx);
        lists.list(ctx, EntityKind.ROOM, false, cursor -> reads.queries().rooms(filter, also, cursor, limit));
    }

    /**
     * GET /v1/artifacts?parent=&runId=&roomId=&kind=&mediaType=&digest=&name=(prefix): by artifact id. A room's
     * artifacts are listed for its members under {@code ?roomId=} (403 for others); the other lists leave them out
     * unless the caller reads every room.
     */
    private void listArtifacts(Context ctx) throws Exception {
        String parent = ctx.queryParam("parent");
        String runId = ctx.queryParam("runId");
        String roomId = ctx.queryParam("roomId");
        String kind = ctx.queryParam("kind");
        String mediaType = ctx.queryParam("mediaType");
        String digest = ctx.queryParam("digest");
        String name = ctx.queryParam("name");
        Principal principal = Requests.principal(ctx);
        if (roomId != null) {
            rooms.readable(Cluster.caller(ctx), principal, roomId, ReadPosition.from(ctx), Requests.timeoutMs(ctx));
        }
        Predicate<ArtifactState> also = artifact -> Access.mayList(principal, artifact, roomId)
                && (runId == null || runId.equals(artifact.getProvenance().getRunId()))
                && (roomId == null || roomId.equals(artifact.getProvenance().getRoomId()))
                && (parent == null || parent.equals(artifact.getParentId()))
                && (kind == null || kind.equals(artifact.getKind()))
                && (mediaType == null || mediaType.equals(artifact.getMediaType()))
                && (digest == null || digest.equals(artifact.getDigest()))
                && (name == null || artifact.getName().startsWith(name));
        StateQueries.Filter filter = parent != null
                ? StateQueries.Filter.artifactsByParent(parent)
                : runId != null
                        ? StateQueries.Filter.artifactsByRun(runId)
                        : roomId != null ? StateQueries.Filter.artifactsByRoom(roomId) : StateQueries.Filter.all();
        int limit = Requests.limit(ctx);
        lists.list(ctx, EntityKind.ARTIFACT, false, cursor -> reads.queries().artifacts(filter, also, cursor, limit));
    }
}
