package dev.substrate.api.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.substrate.SubstrateException;
import dev.substrate.api.EventJson;
import dev.substrate.api.auth.Principal;
import dev.substrate.api.auth.Role;
import dev.substrate.blob.BlobStore;
import dev.substrate.client.Appended;
import dev.substrate.client.SubstrateClient;
import dev.substrate.entity.EntityKind;
import dev.substrate.event.EventIds;
import dev.substrate.event.InvalidEvent;
import dev.substrate.events.room.RoomEvent;
import io.javalin.http.Context;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificRecord;

/**
 * The append routes. They take the event's fields as JSON, plus the envelope's optional {@code eventId},
 * {@code expectedVersion}, {@code actor}, {@code occurredAt}, {@code correlationId}, {@code causationId} and
 * {@code traceparent}; they answer 202 once Kafka acknowledged the event, with its {@code eventId} and opaque
 * {@code position}, or, with {@code ?wait=applied}, with the fold's decision. A room event whose actor may not
 * append it ({@link RoomAccess}) is refused with 403 before it reaches the log.
 */
final class Appends {

    /**
     * The surface a run created over HTTP is recorded with when its {@code activation} names none: a program
     * calling the API, most often.
     */
    static final String DEFAULT_SURFACE = "automation";

    private final SubstrateClient client;
    private final Reads reads;
    private final RoomAccess rooms;
    private final Sealing sealing;

    Appends(SubstrateClient client, Reads reads, RoomAccess rooms, Sealing sealing) {
        this.client = client;
        this.reads = reads;
        this.rooms = rooms;
        this.sealing = sealing;
    }

    /** POST /v1/{kind}s: the create event's fields, with an optional id (a new one is made otherwise). */
    void create(Context ctx, EntityKind<?, ?> entity, Schema payloadSchema) {
        ObjectNode body = Requests.body(ctx);
        String idField = entity.idField();
        JsonNode id = body.remove(idField);
        if (id != null && !id.isTextual()) {
            throw Problem.badRequest(idField + " must be a string", idField);
        }
        String entityId = id == null ? entity.name() + "-" + EventIds.next() : id.asText();
        body.put("type", payloadSchema.getName());
        requireCreate(ctx, entity, body);
        if (entity == EntityKind.ARTIFACT) {
            requireArtifactEvent(ctx, body);
        }
        answer(ctx, append(ctx, entity, entityId, body));
    }

    /**
     * POST /v1/{kind}s/{id}/events: {@code type} names the event, the other fields are its own. A JSON array of such
     * events (at most {@value #MAX_BATCH}) is a batch: see {@link #batch}.
     */
    void event(Context ctx, EntityKind<?, ?> entity, String idParam) {
        String entityId = ctx.pathParam(idParam);
        JsonNode json = Requests.json(ctx);
        if (json != null && json.isArray()) {
            batch(ctx, entity, entityId, json);
            return;
        }
        if (json == null || !json.isObject()) {
            throw Problem.badRequest("the body must be a JSON object (one event) or an array of them", "body");
        }
        ObjectNode body = (ObjectNode) json;
        if (entity == EntityKind.RUN) {
            waitingDefaults(body);
        }
        requireReach(ctx, entity, entityId, body);
        answer(ctx, append(ctx, entity, entityId, body));
    }

    /**
     * POST /v1/runs/{runId}/interrupts/{interruptId}/answer: {@code {"status": "resolved" | "cancelled", "payload":
     * any JSON, "answeredBy": "..."}} (status resolved by default; answeredBy, who answered through the caller, by
     * default the caller). Appended as the run's {@code RunResumed} with the answer, and always awaited: 200 with the
     * run once applied ({@code outcome} {@code duplicate} for the same answer given again), 409 with the fold's
     * reason when refused ({@code no_such_interrupt}, {@code interrupt_expired}, {@code interrupt_answered}, {@code
     * invalid_answer} with what the payload breaks, {@code illegal_transition} for a finished run), 202 when the
     * decision did not come in time.
     */
    void answer(Context ctx) {
        answer(ctx, answer(ctx, ctx.pathParam("runId"), ctx.pathParam("interruptId"), Requests.body(ctx)));
    }

    /**
     * Answers interrupt {@code interruptId} of run {@code runId} with {@code body} (as {@link #answer(Context)} takes
     * it), in the caller's name: the decision, or the problem (403 for a caller that may not append, 409 refused).
     */
    Result answer(Context ctx, String runId, String interruptId, ObjectNode body) {
        // Asked here too, not only by the route table: AG-UI's resume answers through a route any reader may call.
        Access.mayCall(Requests.principal(ctx), Access.Permission.APPEND).require();
        body.fieldNames().forEachRemaining(field -> {
            if (!ANSWER_FIELDS.contains(field)) {
                throw Problem.badRequest(field + " is not a field of an answer; it takes " + ANSWER_FIELDS, field);
            }
        });
        ObjectNode answer = JsonNodeFactory.instance.objectNode();
        answer.put("interruptId", interruptId);
        JsonNode status = body.get("status");
        answer.set(
                "status", status == null || status.isNull() ? JsonNodeFactory.instance.textNode("resolved") : status);
        if (body.hasNonNull("payload")) {
            answer.set("payload", body.get("payload"));
        }
        String principal = Requests.principal(ctx).name();
        JsonNode answeredBy = body.get("answeredBy");
        answer.set(
                "answeredBy",
                answeredBy == null || answeredBy.isNull() ? JsonNodeFactory.instance.textNode(principal) : answeredBy);
        ObjectNode event = JsonNodeFactory.instance.objectNode();
        event.put("type", "RunResumed");
        event.set("answer", answer);
        requireReach(ctx, EntityKind.RUN, runId, event);
        return append(ctx, EntityKind.RUN, runId, event, Requests.timeoutMs(ctx));
    }

    /** What an answer's body takes. */
    private static final List<String> ANSWER_FIELDS = List.of("status", "payload", "answeredBy");

    /**
     * What a run created over HTTP need not say: it is {@code shared} (a run in the substrate is, by definition),
     * and it was activated through {@value #DEFAULT_SURFACE} by the token's principal, unless the body says
     * otherwise. The Java client and local runs keep their explicit forms.
     */
    private static void runDefaults(ObjectNode body, Principal principal) {
        if (!body.has("scope")) {
            body.put("scope", "shared");
        }
        JsonNode activation = body.get("activation");
        if (activation == null) {
            activation = body.putObject("activation");
        }
        if (activation.isObject()) {
            ObjectNode fields = (ObjectNode) activation;
            if (!fields.has("surface")) {
                fields.put("surface", DEFAULT_SURFACE);
            }
            if (!fields.has("actor")) {
                JsonNode actor = body.get("actor");
                fields.put("actor", actor != null && actor.isTextual() ? actor.asText() : principal.name());
            }
        }
    }

    /** A {@code RunWaiting} whose {@code waitingOn} gives no {@code since} began waiting when it happened. */
    private static void waitingDefaults(ObjectNode body) {
        JsonNode waitingOn = body.get("waitingOn");
        if (!"RunWaiting".equals(body.path("type").asText())
                || waitingOn == null
                || !waitingOn.isObject()
                || waitingOn.has("since")) {
            return;
        }
        JsonNode occurredAt = body.get("occurredAt");
        if (occurredAt == null || occurredAt.isNull()) {
            occurredAt = body.put(
                            "occurredAt",
                            Instant.now().truncatedTo(ChronoUnit.MILLIS).toString())
                    .get("occurredAt");
        }
        ((ObjectNode) waitingOn).set("since", occurredAt);
    }

    /**
     * Asks {@link Access} whether the caller may append to the entity, read where it is held: an artifact is changed by
     * writers and owners of its room (404 when it is outside a scoped token's reach, 403 for others); a run, by any
     * appender within reach. A room event is decided by {@link RoomAccess#checkAppend}. An entity that does not exist
     * is left to the fold, except for a scoped token, which appends only to what it reaches.
     */
    private void requireReach(Context ctx, EntityKind<?, ?> entity, String entityId, ObjectNode body) {
        Principal principal = Requests.principal(ctx);
        requireProjectInReach(principal, entity, body);
        if (entity == EntityKind.ARTIFACT) {
            requireArtifactEvent(ctx, body);
        }
        if (entity == EntityKind.ROOM || (entity == EntityKind.RUN && !principal.scoped())) {
            // RoomAccess.checkAppend reads the room anyway; an unscoped token appends to any run.
            return;
        }
        JsonNode state = reads.owned(
                        Cluster.caller(ctx), entity, entityId, null, ReadPosition.from(ctx), Requests.timeoutMs(ctx))
                .get("state");
        if (state == null) {
            if (principal.scoped()) {
                throw Scope.hidden(entity, entityId);
            }
            return;
        }
        if (entity == EntityKind.ARTIFACT) {
            rooms.requireArtifact(Cluster.caller(ctx), principal, Access.Action.APPEND, state);
        } else {
            Access.decide(principal, Access.Action.APPEND, Scope.resourceOf(entity, state))
                    .require(entity, entityId);
        }
    }

    /**
     * What an artifact event may not do over HTTP: point at stored content ({@code blob:} locators are set by {@code
     * PUT /v1/artifacts/{id}/content} alone, from bytes the caller sent, so that no one reaches content by naming
     * its digest), or register an artifact in a room the caller may not append to.
     */
    private void requireArtifactEvent(Context ctx, ObjectNode body) {
        JsonNode locator = body.get("locator");
        if (locator != null && locator.isTextual() && locator.asText().startsWith(BlobStore.LOCATOR_PREFIX)) {
            throw Problem.forbidden("a blob: locator is set by PUT /v1/artifacts/{artifactId}/content, which stores"
                    + " the bytes sent; an event may not name stored content");
        }
        JsonNode roomId = body.path("provenance").path("roomId");
        if (roomId.isTextual()) {
            rooms.requireInRoom(
                    Cluster.caller(ctx),
                    Requests.principal(ctx),
                    Access.Action.APPEND,
                    "the artifact",
                    roomId.asText());
        }
    }

    /** The most events one batch append takes. */
    static final int MAX_BATCH = 1000;

    /**
     * A batch: events of one entity, appended in the array's order. Every event is checked before any is appended
     * (a 400 names the first bad one as {@code [i].field}, and nothing is appended); then all are sent at once and
     * the answer lists each event's {@code eventId} and {@code position} in order (202), or, with {@code
     * ?wait=applied}, each decision once the fold reached the last one (200 when every one is decided, 202
     * otherwise), an item refused by the fold carrying its {@code reason}. An append Kafka does not take fails the
     * answer as a single append does, with {@code appended}: how many of the first events Kafka took before it.
     */
    private void batch(Context ctx, EntityKind<?, ?> entity, String entityId, JsonNode events) {
        if (events.isEmpty() || events.size() > MAX_BATCH) {
            throw Problem.badRequest(
                    "a batch holds 1 to " + MAX_BATCH + " events; this one holds " + events.size(), "body");
        }
        long waitMs = waitTimeout(ctx);
        List<ObjectNode> bodies = new ArrayList<>(events.size());
        for (int i = 0; i < events.size(); i++) {
            JsonNode item = events.get(i);
            if (!item.isObject()) {
                throw Problem.badRequest("each event of a batch must be a JSON object", "[" + i + "]");
            }
            bodies.add((ObjectNode) item);
        }
        List<Appended> appended = appendChecked(ctx, entity, entityId, bodies);
        ObjectNode answer = JsonNodeFactory.instance.objectNode();
        answer.put(entity.idField(), entityId);
        ArrayNode items = answer.putArray("items");
        boolean allDecided = true;
        for (Appended each : appended) {
            ReadPosition position = new ReadPosition(
                    entity, each.position().partition(), each.position().offset());
            ObjectNode item = items.addObject();
            item.put("eventId", each.eventId());
            item.put("position", position.encode());
            if (waitMs < 0) {
                item.put("outcome", "pending");
                continue;
            }
            // Positions of one entity grow in order: once the last is reached the others are too.
            Result decided;
            try {
                decided = awaitOutcome(ctx, entity, each, position, item, waitMs);
            } catch (Problem problem) {
                if (problem.status() != 409) {
                    throw problem;
                }
                item.put("outcome", "rejected");
                item.put("reason", problem.reason());
                item.put("detail", problem.getMessage());
                continue;
            }
            item.remove("state");
            allDecided &= decided.status() == 200;
        }
        if (waitMs >= 0 && !appended.isEmpty()) {
            // The state once the last event was decided.
            JsonNode last = items.get(items.size() - 1);
            if (last.path("outcome").asText().equals("applied")) {
                reads.stateJson(entity, entityId).ifPresent(state -> answer.set("state", state));
            }
        }
        answer.put("position", items.get(items.size() - 1).path("position").asText());
        answer.put("count", items.size());
        answer(ctx, new Result(waitMs >= 0 && allDecided ? 200 : 202, answer));
    }

    /**
     * Appends events of one entity in order, each checked as a batch's are: the caller's reach by the entity as it is
     * (read where it is held) before the first, every event built and checked before any is sent; then all are sent
     * at once. 400 names the first bad one as {@code [i].field} (nothing appended); an append Kafka does not take
     * fails with {@code appended}, how many of the first events it took before it.
     */
    List<Appended> appendChecked(Context ctx, EntityKind<?, ?> entity, String entityId, List<ObjectNode> bodies) {
        List<SpecificRecord> built = new ArrayList<>(bodies.size());
        for (int i = 0; i < bodies.size(); i++) {
            ObjectNode body = bodies.get(i);
            if (entity == EntityKind.RUN) {
                waitingDefaults(body);
            }
            if (i == 0) {
                requireReach(ctx, entity, entityId, body);
            } else {
                requireProjectInReach(Requests.principal(ctx), entity, body);
                if (entity == EntityKind.ARTIFACT) {
                    requireArtifactEvent(ctx, body);
                }
            }
            try {
                built.add(build(ctx, entity, entityId, body, actor(ctx, body)));
            } catch (InvalidEvent e) {
                throw Problem.badRequest("[" + i + "] " + e.getMessage(), "[" + i + "]." + e.field());
            } catch (Problem problem) {
                throw problem.status() == 400
                        ? Problem.badRequest("[" + i + "] " + problem.getMessage(), "[" + i + "]")
                        : problem;
            }
        }
        List<CompletableFuture<Appended>> sent = new ArrayList<>(built.size());
        for (SpecificRecord event : built) {
            sent.add(send(entity, event));
        }
        List<Appended> appended = new ArrayList<>(sent.size());
        for (CompletableFuture<Appended> each : sent) {
            try {
                appended.add(each.join());
            } catch (CompletionException | SubstrateException e) {
                Problem failed = Problem.appendFailed(e);
                throw failed.with("appended", appended.size());
            }
        }
        return appended;
    }

    /** A run's defaults filled in, then 403 unless the caller may create {@code entity} in the project it names. */
    private static void requireCreate(Context ctx, EntityKind<?, ?> entity, ObjectNode creation) {
        if (entity == EntityKind.RUN) {
            runDefaults(creation, Requests.principal(ctx));
        }
        JsonNode project = creation.get(Scope.projectField(entity));
        Access.mayCreateIn(
                        Requests.principal(ctx),
                        entity,
                        project != null && project.isTextual() ? project.asText() : null)
                .require();
    }

    /**
     * Creates {@code entityId} from {@code creation} (a create event's body, {@code type} included) unless it
     * exists: checked as {@code POST /v1/{kind}s} is, and awaited up to {@code waitMs} (-1: not awaited), so that
     * events appended after it find the entity (a scoped caller appends only to what exists and it reaches; others'
     * events follow it on the entity's partition anyway). Whether it was created
     * now, existed already (the same creation again, or another one) or was refused is not an error: what follows is
     * checked against the entity as it is.
     */
    void ensureCreated(Context ctx, EntityKind<?, ?> entity, String entityId, ObjectNode creation, long waitMs) {
        requireCreate(ctx, entity, creation);
        try {
            append(ctx, entity, entityId, creation, waitMs);
        } catch (Problem problem) {
            if (problem.status() != 409) {
                throw problem;
            }
        }
    }

    /** 403 when a scoped principal's event names a project outside its reach. */
    private static void requireProjectInReach(Principal principal, EntityKind<?, ?> entity, ObjectNode body) {
        if (!principal.scoped()) {
            return;
        }
        JsonNode project = body.get(Scope.projectField(entity));
        if (project != null && !project.isNull()) {
            Access.mayCreateIn(principal, entity, project.isTextual() ? project.asText() : null)
                    .require();
        }
    }

    /** An append's answer: the status and body to send. */
    record Result(int status, ObjectNode body) {}

    /**
     * Appends the event {@code body} describes ({@link EventJson}), and, with {@code ?wait=applied}, waits for the
     * fold's decision.
     */
    Result append(Context ctx, EntityKind<?, ?> entity, String entityId, ObjectNode body) {
        return append(ctx, entity, entityId, body, waitTimeout(ctx));
    }

    /** As {@link #append(Context, EntityKind, String, ObjectNode)}, waiting {@code waitMs} (-1: not) for the decision. */
    private Result append(Context ctx, EntityKind<?, ?> entity, String entityId, ObjectNode body, long waitMs) {
        String actor = actor(ctx, body);
        SpecificRecord event;
        try {
            event = build(ctx, entity, entityId, body, actor);
        } catch (InvalidEvent e) {
            throw Problem.badRequest(e.getMessage(), e.field());
        }
        return sendAndAnswer(ctx, entity, event, waitMs);
    }

    /** Appends a built event; the answer as {@link #append} gives it. */
    private Result sendAndAnswer(Context ctx, EntityKind<?, ?> entity, SpecificRecord event, long waitMs) {
        Appended appended;
        try {
            appended = send(entity, event).join();
        } catch (InvalidEvent e) {
            throw Problem.badRequest(e.getMessage(), e.field());
        } catch (CompletionException | SubstrateException e) {
            throw Problem.appendFailed(e);
        }
        ReadPosition position = new ReadPosition(
                entity, appended.position().partition(), appended.position().offset());
        ObjectNode answer = JsonNodeFactory.instance.objectNode();
        answer.put(entity.idField(), appended.entityId());
        answer.put("eventId", appended.eventId());
        answer.put("position", position.encode());
        if (waitMs >= 0) {
            return awaitOutcome(ctx, entity, appended, position, answer, waitMs);
        }
        answer.put("outcome", "pending");
        return new Result(202, answer);
    }

    /**
     * Appends {@code event} as Substrate's own (no caller's permission asked: the route has decided) and waits up to
     * {@code waitMs} for the fold's decision, as {@code ?wait=applied} does.
     */
    Result appendOwn(Context ctx, EntityKind<?, ?> entity, SpecificRecord event, long waitMs) {
        return sendAndAnswer(ctx, entity, event, waitMs);
    }

    /** The event {@code body} describes, checked (a room event's permission too); not yet appended. */
    private <E extends SpecificRecord> SpecificRecord buildTyped(
            Context ctx, EntityKind<E, ?> kind, String entityId, ObjectNode body, String actor) {
        E event = EventJson.event(kind.envelopeSchema(), body, entityId, actor);
        if (kind != EntityKind.ROOM) {
            return event;
        }
        RoomEvent roomEvent = EntityKind.ROOM.cast(event);
        String project = rooms.checkAppend(ctx, roomEvent);
        return sealing.seal(roomEvent, project);
    }

    private SpecificRecord build(Context ctx, EntityKind<?, ?> kind, String entityId, ObjectNode body, String actor) {
        return buildTyped(ctx, kind, entityId, body, actor);
    }

    @SuppressWarnings("unchecked")
    private <E extends SpecificRecord> CompletableFuture<Appended> send(EntityKind<E, ?> kind, SpecificRecord event) {
        return client.append(kind, (E) event);
    }

    static void answer(Context ctx, Result result) {
        ctx.status(result.status());
        Requests.json(ctx, result.body());
    }

    /**
     * {@code ?wait=applied}: waits (up to {@code timeoutMs}) for the fold's decision, on whichever instance
     * holds the entity. Applied: 200 with the new state. A repeat of an event already decided: 200, outcome
     * {@code duplicate}. Refused: 409 with the reason. Not decided in time: 202, outcome {@code pending}.
     */
    private Result awaitOutcome(
            Context ctx,
            EntityKind<?, ?> entity,
            Appended appended,
            ReadPosition position,
            ObjectNode answer,
            long timeoutMs) {
        String entityId = appended.entityId();
        Map<String, String> caller = Cluster.caller(ctx);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        JsonNode outcome;
        while (true) {
            long remainingMs = Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
            try {
                outcome = reads.owned(caller, entity, entityId, appended.eventId(), position, remainingMs)
                        .path("outcome");
                break;
            } catch (Problem problem) {
                // The entity's partition moving between instances (a rebalance) answers 503 for a moment; the event
                // is appended, and the caller asked to wait for its decision: wait on, within the same timeout.
                if (problem.type().equals("unavailable") && System.nanoTime() - deadline < 0 && pause()) {
                    continue;
                }
                // The event is appended whatever the wait met (the decision not reached in time, too many waits,
                // the partition moving): the truthful answer is 202 with its position, never an error that invites
                // a retry which would append it twice.
                answer.put("outcome", "pending");
                if (!problem.type().equals("position-not-reached")) {
                    answer.put(
                            "detail",
                            "appended; its decision could not be awaited (" + problem.getMessage() + "): read it at GET"
                                    + " /v1/" + entity.name() + "s/" + entityId + "/outcomes/" + appended.eventId());
                }
                return new Result(202, answer);
            }
        }
        if (outcome.path("reused").asBoolean()) {
            throw Problem.rejected(
                    outcome.path("reason").asText(), outcome.path("message").asText());
        }
        boolean same = outcome.path("partition").asInt() == appended.position().partition()
                && outcome.path("offset").asLong() == appended.position().offset();
        if (same && outcome.path("outcome").asText().equals("rejected")) {
            throw Problem.rejected(
                    outcome.path("reason").asText(), outcome.path("message").asText());
        }
        // An event the rules found to repeat one decided before (the same answer to an interrupt, say) is a
        // duplicate of its own, at its own position.
        boolean duplicate = !same || outcome.path("outcome").asText().equals("duplicate");
        answer.put("outcome", duplicate ? "duplicate" : "applied");
        if (outcome.hasNonNull("version")) {
            answer.set("version", outcome.get("version"));
        }
        if (outcome.hasNonNull("state")) {
            answer.set("state", outcome.get("state"));
        }
        return new Result(200, answer);
    }

    /**
     * A pause before asking for a decision again, so that a rebalance of seconds is not asked about in a busy loop;
     * false when interrupted.
     */
    private static boolean pause() {
        try {
            Thread.sleep(UNAVAILABLE_RETRY.toMillis());
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** How long a {@code ?wait=applied} waits before it reads the decision again after a 503 "unavailable". */
    private static final Duration UNAVAILABLE_RETRY = Duration.ofMillis(100);

    /** How long {@code ?wait=applied} may wait, checked before anything is appended; -1 without a wait. */
    private static long waitTimeout(Context ctx) {
        String wait = ctx.queryParam("wait");
        if (wait == null) {
            return -1;
        }
        if (!"applied".equals(wait)) {
            throw Problem.badRequest("wait must be 'applied'", "wait");
        }
        return Requests.timeoutMs(ctx);
    }

    /**
     * The actor an append is recorded under: the authenticated principal, or, for operators and admins acting
     * on someone's behalf, the {@code actor} the body names.
     */
    private static String actor(Context ctx, ObjectNode body) {
        Principal principal = Requests.principal(ctx);
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
}
