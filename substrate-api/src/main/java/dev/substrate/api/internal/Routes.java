package dev.substrate.api.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.substrate.api.auth.Principal;
import dev.substrate.api.auth.Role;
import dev.substrate.api.auth.TokenStore;
import dev.substrate.client.Appended;
import dev.substrate.client.SubstrateClient;
import dev.substrate.event.EventIds;
import dev.substrate.event.InvalidEvent;
import dev.substrate.events.artifact.ArtifactEvent;
import dev.substrate.events.artifact.ArtifactRegistered;
import dev.substrate.events.room.RoomCreated;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.events.run.RunCreated;
import dev.substrate.events.run.RunEvent;
import dev.substrate.state.EventOutcome;
import dev.substrate.state.Outcome;
import dev.substrate.state.RoomState;
import dev.substrate.state.RunState;
import dev.substrate.state.RunStatus;
import dev.substrate.streams.Page;
import dev.substrate.streams.StateQueries;
import dev.substrate.streams.StoreNames;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.Base64;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.function.Function;
import java.util.function.Predicate;
import org.apache.avro.Schema;

/**
 * The append and read routes of runs, rooms and artifacts. Appends take the event's fields as JSON, plus the
 * envelope's optional {@code eventId}, {@code expectedVersion}, {@code actor}, {@code occurredAt},
 * {@code correlationId}, {@code causationId} and {@code traceparent}; they answer 202 once Kafka acknowledged the
 * event, with its {@code eventId} and {@code position}. Reads answer from this instance's part of the fold.
 */
public final class Routes {

    /** Envelope fields a request body may carry beside the event's own. */
    private static final Set<String> ENVELOPE =
            Set.of("eventId", "expectedVersion", "actor", "occurredAt", "correlationId", "causationId", "traceparent");

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_PAGE = 1000;

    private static final String PRINCIPAL = "substrate.principal";

    private final SubstrateClient client;
    private final StateQueries queries;
    private final TokenStore tokens;

    public Routes(SubstrateClient client, StateQueries queries, TokenStore tokens) {
        this.client = client;
        this.queries = queries;
        this.tokens = tokens;
    }

    /** Registers every route. */
    public void register(RoutesConfig routes) {
        routes.before("/v1/*", this::authenticate);
        routes.get("/ready", this::ready);
        routes.post("/v1/tokens", this::createToken);
        routes.post("/v1/runs", ctx -> created(ctx, "runId", "run", RunCreated.getClassSchema()));
        routes.post("/v1/runs/{runId}/events", ctx -> event(ctx, "runId", "run"));
        routes.get("/v1/runs", this::listRuns);
        routes.get("/v1/rooms", this::listRooms);
        routes.get("/v1/artifacts", this::listArtifacts);
        routes.get(
                "/v1/runs/{runId}",
                ctx -> json(
                        ctx,
                        AvroJson.toJson(queries.run(ctx.pathParam("runId"))
                                .orElseThrow(() -> Problem.notFound("run " + ctx.pathParam("runId"))))));
        routes.get("/v1/runs/{runId}/events", this::runEvents);
        routes.post("/v1/rooms", ctx -> created(ctx, "roomId", "room", RoomCreated.getClassSchema()));
        routes.post("/v1/rooms/{roomId}/events", ctx -> event(ctx, "roomId", "room"));
        routes.get("/v1/rooms/{roomId}", ctx -> json(ctx, AvroJson.toJson(readableRoom(ctx, ctx.pathParam("roomId")))));
        routes.get("/v1/rooms/{roomId}/transcript", this::transcript);
        routes.post(
                "/v1/artifacts", ctx -> created(ctx, "artifactId", "artifact", ArtifactRegistered.getClassSchema()));
        routes.post("/v1/artifacts/{artifactId}/events", ctx -> event(ctx, "artifactId", "artifact"));
        routes.get(
                "/v1/artifacts/{artifactId}",
                ctx -> json(
                        ctx,
                        AvroJson.toJson(queries.artifact(ctx.pathParam("artifactId"))
                                .orElseThrow(() -> Problem.notFound("artifact " + ctx.pathParam("artifactId"))))));
    }

    private void ready(Context ctx) {
        if (!queries.ready()) {
            throw Problem.unavailable("the fold is starting or rebalancing");
        }
        ctx.json(java.util.Map.of("status", "ready"));
    }

    /** POST /v1/{kind}s: the create event's fields, with an optional id (a new one is made otherwise). */
    private void created(Context ctx, String idField, String kind, Schema payloadSchema) {
        require(ctx, Role.ADMIN, Role.OPERATOR, Role.SERVICE);
        ObjectNode body = body(ctx);
        JsonNode id = body.remove(idField);
        if (id != null && !id.isTextual()) {
            throw Problem.badRequest(idField + " must be a string", idField);
        }
        String entityId = id == null ? kind + "-" + EventIds.next() : id.asText();
        ObjectNode fields = payloadFields(body);
        fields.put("type", payloadSchema.getName());
        append(ctx, kind, entityId, body, fields);
    }

    /** POST /v1/{kind}s/{id}/events: {@code type} names the event, the other fields are its own. */
    private void event(Context ctx, String idParam, String kind) {
        require(ctx, Role.ADMIN, Role.OPERATOR, Role.SERVICE);
        ObjectNode body = body(ctx);
        if (!body.hasNonNull("type")) {
            throw Problem.badRequest("type is required: the event's name, such as RunStarted", "type");
        }
        ObjectNode fields = payloadFields(body);
        fields.set("type", body.get("type"));
        append(ctx, kind, ctx.pathParam(idParam), body, fields);
    }

    private void append(Context ctx, String kind, String entityId, ObjectNode body, ObjectNode payload) {
        String actor = actor(ctx, body);
        long waitMs = waitTimeout(ctx);
        Appended appended;
        try {
            appended = switch (kind) {
                case "run" ->
                    client.append(RunEvent.newBuilder(
                                            Routes.<RunEvent>envelope(body, actor, RunEvent.getClassSchema(), entityId))
                                    .setPayload(payload(payload, RunEvent.getClassSchema()))
                                    .build())
                            .join();
                case "room" ->
                    client.append(RoomEvent.newBuilder(Routes.<RoomEvent>envelope(
                                            body, actor, RoomEvent.getClassSchema(), entityId))
                                    .setPayload(payload(payload, RoomEvent.getClassSchema()))
                                    .build())
                            .join();
                default ->
                    client.append(ArtifactEvent.newBuilder(Routes.<ArtifactEvent>envelope(
                                            body, actor, ArtifactEvent.getClassSchema(), entityId))
                                    .setPayload(payload(payload, ArtifactEvent.getClassSchema()))
                                    .build())
                            .join();
            };
        } catch (InvalidEvent e) {
            throw Problem.badRequest(e.getMessage(), e.field());
        } catch (CompletionException e) {
            throw Problem.unavailable(
                    "Kafka did not acknowledge the event: " + e.getCause().getMessage());
        }
        ObjectNode answer = JsonNodeFactory.instance.objectNode();
        answer.put(kind + "Id", appended.entityId());
        answer.put("eventId", appended.eventId());
        ObjectNode position = answer.putObject("position");
        position.put("topic", appended.position().topic());
        position.put("partition", appended.position().partition());
        position.put("offset", appended.position().offset());
        if (waitMs >= 0) {
            awaitOutcome(ctx, kind, appended, answer, waitMs);
            return;
        }
        answer.put("outcome", "pending");
        ctx.status(202);
        json(ctx, answer);
    }

    /**
     * {@code ?wait=applied}: waits (up to {@code timeoutMs}, 5 s by default, 30 s at most) for the fold's
     * decision. Applied: 200 with the new state. A repeat of an event already decided: 200, outcome
     * {@code duplicate}. Refused: 409 with the reason. Not decided in time: 202, outcome {@code pending}.
     */
    private void awaitOutcome(Context ctx, String kind, Appended appended, ObjectNode answer, long timeoutMs) {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        while (true) {
            Optional<EventOutcome> outcome = queries.outcome(kind, appended.eventId());
            if (outcome.isPresent()) {
                EventOutcome decided = outcome.get();
                boolean same = decided.getPartition() == appended.position().partition()
                        && decided.getOffset() == appended.position().offset();
                if (same && decided.getOutcome() == Outcome.rejected) {
                    throw Problem.rejected(decided.getReason(), decided.getMessage());
                }
                answer.put("outcome", same ? "applied" : "duplicate");
                if (decided.getVersion() != null) {
                    answer.put("version", decided.getVersion());
                }
                state(kind, appended.entityId()).ifPresent(state -> answer.set("state", state));
                json(ctx.status(200), answer);
                return;
            }
            if (System.nanoTime() > deadline) {
                answer.put("outcome", "pending");
                json(ctx.status(202), answer);
                return;
            }
            try {
                // The outcome store is polled: the fold decides within its commit interval (100 ms by default).
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw Problem.unavailable("interrupted while waiting for the fold");
            }
        }
    }

    /** How long {@code ?wait=applied} may wait, checked before anything is appended; -1 without a wait. */
    private static long waitTimeout(Context ctx) {
        String wait = ctx.queryParam("wait");
        if (wait == null) {
            return -1;
        }
        if (!"applied".equals(wait)) {
            throw Problem.badRequest("wait must be 'applied'", "wait");
        }
        long timeoutMs = longParam(ctx, "timeoutMs", 5_000);
        if (timeoutMs < 0 || timeoutMs > 30_000) {
            throw Problem.badRequest("timeoutMs must be between 0 and 30000", "timeoutMs");
        }
        return timeoutMs;
    }

    private Optional<JsonNode> state(String kind, String entityId) {
        return switch (kind) {
            case "run" -> queries.run(entityId).map(AvroJson::toJson);
            case "room" -> queries.room(entityId).map(AvroJson::toJson);
            default -> queries.artifact(entityId).map(AvroJson::toJson);
        };
    }

    private static Object payload(ObjectNode payload, Schema envelope) {
        return AvroJson.fromJson(payload, envelope.getField("payload").schema(), "");
    }

    /** The envelope fields of a request body, as a record of the envelope schema with a placeholder payload. */
    @SuppressWarnings("unchecked")
    private static <T> T envelope(ObjectNode body, String actor, Schema envelope, String entityId) {
        ObjectNode fields = JsonNodeFactory.instance.objectNode();
        String idField = envelope.getFields().get(1).name();
        fields.put("eventId", text(body, "eventId", EventIds.next()));
        fields.put(idField, entityId);
        fields.put(
                "occurredAt",
                text(
                        body,
                        "occurredAt",
                        Instant.now().truncatedTo(ChronoUnit.MILLIS).toString()));
        fields.put("actor", actor);
        if (body.has("expectedVersion")) {
            fields.set("expectedVersion", body.get("expectedVersion"));
        }
        ObjectNode correlation = fields.putObject("correlation");
        for (String part : new String[] {"correlationId", "causationId", "traceparent"}) {
            if (body.has(part)) {
                correlation.set(part, body.get(part));
            }
        }
        ObjectNode placeholder = payloadPlaceholder(envelope);
        fields.set("payload", placeholder);
        return (T) AvroJson.fromJson(fields, envelope, "");
    }

    /** The smallest payload the envelope schema accepts, replaced by the real one right after. */
    private static ObjectNode payloadPlaceholder(Schema envelope) {
        for (Schema branch : envelope.getField("payload").schema().getTypes()) {
            if (branch.getFields().stream().allMatch(Schema.Field::hasDefaultValue)) {
                ObjectNode node = JsonNodeFactory.instance.objectNode();
                node.put("type", branch.getName());
                return node;
            }
        }
        throw new IllegalStateException("no payload of " + envelope.getName() + " has all-default fields");
    }

    private static String text(ObjectNode body, String field, String fallback) {
        JsonNode value = body.get(field);
        if (value == null || value.isNull()) {
            return fallback;
        }
        if (!value.isTextual()) {
            throw Problem.badRequest(field + " must be a string", field);
        }
        return value.asText();
    }

    private static ObjectNode payloadFields(ObjectNode body) {
        ObjectNode fields = body.deepCopy();
        fields.remove(ENVELOPE);
        fields.remove("type");
        return fields;
    }

    private void runEvents(Context ctx) {
        String runId = ctx.pathParam("runId");
        if (queries.run(runId).isEmpty()) {
            throw Problem.notFound("run " + runId);
        }
        ArrayNode items = JsonNodeFactory.instance.arrayNode();
        queries.runHistory(runId).forEach(event -> items.add(AvroJson.toJson(event)));
        ObjectNode answer = JsonNodeFactory.instance.objectNode();
        answer.set("items", items);
        json(ctx, answer);
    }

    private void transcript(Context ctx) {
        String roomId = ctx.pathParam("roomId");
        long after = longParam(ctx, "after", -1);
        long limit = longParam(ctx, "limit", 100);
        if (limit < 1 || limit > MAX_PAGE) {
            throw Problem.badRequest("limit must be between 1 and " + MAX_PAGE, "limit");
        }
        readableRoom(ctx, roomId);
        ArrayNode items = JsonNodeFactory.instance.arrayNode();
        var entries = queries.transcript(roomId, after, (int) limit);
        entries.forEach(entry -> items.add(AvroJson.toJson(entry)));
        ObjectNode answer = JsonNodeFactory.instance.objectNode();
        answer.set("items", items);
        if (entries.size() == limit) {
            answer.put("next", entries.get(entries.size() - 1).getOffset());
        }
        json(ctx, answer);
    }

    /** Checks the request's bearer token; answers 401 unless it is one of ours. */
    private void authenticate(Context ctx) {
        String header = ctx.header("Authorization");
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw Problem.unauthenticated("send Authorization: Bearer <token>");
        }
        Principal principal = tokens.authenticate(header.substring(7).strip())
                .orElseThrow(() -> Problem.unauthenticated("the token is not valid"));
        ctx.attribute(PRINCIPAL, principal);
    }

    private static Principal principal(Context ctx) {
        Principal principal = ctx.attribute(PRINCIPAL);
        if (principal == null) {
            throw Problem.unauthenticated("send Authorization: Bearer <token>");
        }
        return principal;
    }

    private static void require(Context ctx, Role... roles) {
        Principal principal = principal(ctx);
        if (!principal.hasAny(roles)) {
            throw Problem.forbidden(principal.name() + " needs one of the roles "
                    + java.util.Arrays.toString(roles).toLowerCase(java.util.Locale.ROOT));
        }
    }

    /**
     * The actor an append is recorded under: the authenticated principal, or, for operators and admins acting
     * on someone's behalf, the {@code actor} the body names.
     */
    private static String actor(Context ctx, ObjectNode body) {
        Principal principal = principal(ctx);
        JsonNode named = body.get("actor");
        if (named == null || named.isNull() || named.asText().equals(principal.name())) {
            return principal.name();
        }
        if (!principal.hasAny(Role.ADMIN, Role.OPERATOR)) {
            throw Problem.forbidden(principal.name() + " may append only as itself, not as " + named.asText());
        }
        if (!named.isTextual()) {
            throw Problem.badRequest("actor must be a string", "actor");
        }
        return named.asText();
    }

    /** The room, if the principal may read it: operators and admins read every room, others their own. */
    private RoomState readableRoom(Context ctx, String roomId) {
        Principal principal = principal(ctx);
        RoomState room = queries.room(roomId).orElseThrow(() -> Problem.notFound("room " + roomId));
        if (!principal.hasAny(Role.ADMIN, Role.OPERATOR) && !room.getMembers().containsKey(principal.name())) {
            throw Problem.forbidden(principal.name() + " is not a member of room " + roomId);
        }
        return room;
    }

    /** POST /v1/tokens (admin): {@code {principal, roles}} -> {@code {token}}, shown once. */
    private void createToken(Context ctx) {
        require(ctx, Role.ADMIN);
        ObjectNode body = body(ctx);
        JsonNode principal = body.get("principal");
        if (principal == null || !principal.isTextual()) {
            throw Problem.badRequest("principal is required: the name the token acts as", "principal");
        }
        JsonNode roles = body.get("roles");
        if (roles == null || !roles.isArray() || roles.isEmpty()) {
            throw Problem.badRequest("roles is required: a list of admin, operator, service, observer", "roles");
        }
        java.util.Set<Role> granted = java.util.EnumSet.noneOf(Role.class);
        for (JsonNode role : roles) {
            try {
                granted.add(Role.of(role.asText()));
            } catch (IllegalArgumentException e) {
                throw Problem.badRequest(e.getMessage(), "roles");
            }
        }
        String token;
        try {
            token = tokens.create(principal.asText(), granted);
        } catch (InvalidEvent e) {
            throw Problem.badRequest(e.getMessage(), e.field());
        }
        ObjectNode answer = JsonNodeFactory.instance.objectNode();
        answer.put("principal", principal.asText());
        answer.put("token", token);
        ctx.status(201);
        json(ctx, answer);
    }

    /** GET /v1/runs?status=&project=&label=k:v&limit=&cursor=: newest update first when filtered. */
    private void listRuns(Context ctx) {
        String status = ctx.queryParam("status");
        if (status != null
                && Arrays.stream(RunStatus.values()).noneMatch(s -> s.name().equals(status))) {
            throw Problem.badRequest("status must be one of " + Arrays.toString(RunStatus.values()), "status");
        }
        String project = ctx.queryParam("project");
        String label = ctx.queryParam("label");
        String labelKey = null;
        String labelValue = null;
        if (label != null) {
            int colon = label.indexOf(':');
            if (colon < 1) {
                throw Problem.badRequest("label must be key:value", "label");
            }
            labelKey = label.substring(0, colon);
            labelValue = label.substring(colon + 1);
        }
        String filter;
        String value;
        if (label != null) {
            filter = StoreNames.RUNS_BY_LABEL;
            value = labelKey + "=" + labelValue;
        } else if (project != null) {
            filter = StoreNames.RUNS_BY_PROJECT;
            value = project;
        } else if (status != null) {
            filter = StoreNames.RUNS_BY_STATUS;
            value = status;
        } else {
            filter = null;
            value = null;
        }
        String wantedKey = labelKey;
        String wantedValue = labelValue;
        Predicate<RunState> also = run -> (status == null
                        || run.getStatus().name().equals(status))
                && (project == null || run.getProject().equals(project))
                && (wantedKey == null || wantedValue.equals(run.getLabels().get(wantedKey)));
        page(ctx, cursor -> queries.runs(filter, value, also, cursor, limit(ctx)));
    }

    /** GET /v1/rooms?kind=&runId=&parentRoomId=: by room id; only rooms the caller may read. */
    private void listRooms(Context ctx) {
        Principal principal = principal(ctx);
        String kind = ctx.queryParam("kind");
        String runId = ctx.queryParam("runId");
        String parent = ctx.queryParam("parentRoomId");
        String filter = runId != null
                ? StoreNames.ROOMS_BY_RUN
                : parent != null ? StoreNames.ROOMS_BY_PARENT : kind != null ? StoreNames.ROOMS_BY_KIND : null;
        String value = runId != null ? runId : parent != null ? parent : kind;
        Predicate<RoomState> also =
                room -> (kind == null || room.getKind().name().equals(kind))
                        && (runId == null || runId.equals(room.getRunId()))
                        && (parent == null || parent.equals(room.getParentRoomId()))
                        && (principal.hasAny(Role.ADMIN, Role.OPERATOR)
                                || room.getMembers().containsKey(principal.name()));
        page(ctx, cursor -> queries.rooms(filter, value, also, cursor, limit(ctx)));
    }

    /** GET /v1/artifacts?parent=&runId=&roomId=: by artifact id. */
    private void listArtifacts(Context ctx) {
        String parent = ctx.queryParam("parent");
        String runId = ctx.queryParam("runId");
        String roomId = ctx.queryParam("roomId");
        String filter = parent != null
                ? StoreNames.ARTIFACTS_BY_PARENT
                : runId != null ? StoreNames.ARTIFACTS_BY_RUN : roomId != null ? StoreNames.ARTIFACTS_BY_ROOM : null;
        String value = parent != null ? parent : runId != null ? runId : roomId;
        page(ctx, cursor -> queries.artifacts(filter, value, cursor, limit(ctx)));
    }

    private static <T extends org.apache.avro.specific.SpecificRecord> void page(
            Context ctx, Function<String, Page<T>> query) {
        String cursor = ctx.queryParam("cursor");
        String raw = null;
        if (cursor != null) {
            try {
                raw = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                throw Problem.badRequest("cursor is not one this API gave out", "cursor");
            }
        }
        Page<T> page;
        try {
            page = query.apply(raw);
        } catch (IllegalArgumentException e) {
            throw Problem.badRequest(e.getMessage(), "cursor");
        }
        ObjectNode answer = JsonNodeFactory.instance.objectNode();
        ArrayNode items = answer.putArray("items");
        page.items().forEach(item -> items.add(AvroJson.toJson(item)));
        if (page.nextCursor() == null) {
            answer.putNull("nextCursor");
        } else {
            answer.put(
                    "nextCursor",
                    Base64.getUrlEncoder()
                            .withoutPadding()
                            .encodeToString(page.nextCursor().getBytes(StandardCharsets.UTF_8)));
        }
        json(ctx, answer);
    }

    private static int limit(Context ctx) {
        long limit = longParam(ctx, "limit", 100);
        if (limit < 1 || limit > MAX_PAGE) {
            throw Problem.badRequest("limit must be between 1 and " + MAX_PAGE, "limit");
        }
        return (int) limit;
    }

    private static long longParam(Context ctx, String name, long fallback) {
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

    private static ObjectNode body(Context ctx) {
        JsonNode body;
        try {
            body = JSON.readTree(ctx.body());
        } catch (JsonProcessingException e) {
            throw Problem.badRequest("the body is not valid JSON: " + e.getOriginalMessage(), "body");
        }
        if (body == null || !body.isObject()) {
            throw Problem.badRequest("the body must be a JSON object", "body");
        }
        return (ObjectNode) body;
    }

    private static void json(Context ctx, JsonNode body) {
        ctx.contentType("application/json").result(body.toString());
    }
}
