package dev.substrate.api.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.substrate.entity.EntityKind;
import dev.substrate.state.EventOutcome;
import dev.substrate.streams.Instance;
import dev.substrate.streams.StateQueries;
import dev.substrate.streams.StateUnavailable;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Key reads over every instance of the application. A route's key lookup runs on the instance that holds the key,
 * forwarded there when it is another (or answered from a standby replica); a read inside another request ({@link
 * #owned}) reads the owner's stores through one internal route. Both honour a read-your-writes position ({@link
 * ReadPosition}), waiting without holding a thread where they can. While partitions move between instances the answer
 * is 503 with {@code Retry-After}. Lists and counts are {@link Lists}.
 */
final class Reads {

    private final Cluster cluster;
    private final long standbyMaxLag;
    private final PositionWaits waits;
    private volatile StateQueries queries;

    /**
     * @param standbyMaxLag the most records a standby replica may lag and still answer; -1 for never
     * @param waits where reads at a position wait
     */
    Reads(Cluster cluster, long standbyMaxLag, Function<Supplier<StateQueries>, PositionWaits> waits) {
        this.cluster = cluster;
        this.standbyMaxLag = standbyMaxLag;
        this.waits = waits.apply(this::queries);
    }

    /** Reads waiting for a position on this instance. */
    int waitingForPosition() {
        return waits.waiting();
    }

    /** Fails the reads still waiting for a position. */
    void close() {
        waits.close();
    }

    /** Starts answering from {@code queries} (until then every read is a 503). */
    void serve(StateQueries queries) {
        this.queries = queries;
    }

    /** The fold's queries, once served. */
    java.util.Optional<StateQueries> queriesIfServed() {
        return java.util.Optional.ofNullable(queries);
    }

    /** The fold's queries; 503 while the fold has not started. */
    StateQueries queries() {
        StateQueries current = queries;
        if (current == null) {
            throw Problem.unavailable("the fold is starting");
        }
        return current;
    }

    /**
     * Answers with {@code local} on the instance holding {@code entity} {@code id}, once its state reached the
     * request's position; forwards the request there when that is another instance.
     */
    void keyed(Context ctx, EntityKind<?, ?> entity, String id, Handler local) throws Exception {
        StateQueries queries = queries();
        Instance owner = owner(queries, entity, id);
        if (!owner.equals(cluster.self())) {
            if (Cluster.isForwarded(ctx)) {
                throw Problem.unavailable(entity.name() + " " + id + " is moving to another instance (rebalancing)");
            }
            if (ReadPosition.from(ctx) != null) {
                // The owner may wait for the position: this instance holds no thread meanwhile.
                cluster.forwardAsync(ctx, owner);
            } else {
                cluster.forward(ctx, owner);
            }
            return;
        }
        afterPosition(ctx, () -> {
            ctx.header(Cluster.ANSWERED_BY, owner.toString());
            local.handle(ctx);
            return null;
        });
    }

    /** What a read does once its position is reached. */
    @FunctionalInterface
    interface Answer {
        /** Answers, or starts answering: a future to finish first (other instances' parts), or null when done. */
        CompletableFuture<?> answer() throws Exception;
    }

    /**
     * Runs {@code then} at once when the request carries no position or the state already reached it; otherwise
     * once it does, with no thread held meanwhile (the request goes on asynchronously).
     */
    void afterPosition(Context ctx, Answer then) throws Exception {
        ReadPosition position = ReadPosition.from(ctx);
        if (position == null) {
            answerNow(ctx, then);
            return;
        }
        CompletableFuture<Void> reached = waits.await(Requests.tokenId(ctx), position, Requests.timeoutMs(ctx));
        if (reached.isDone()) {
            try {
                reached.join();
            } catch (CompletionException e) {
                throw e.getCause() instanceof Problem problem ? problem : e;
            }
            answerNow(ctx, then);
            return;
        }
        ctx.future(() -> reached.thenCompose(done -> {
            try {
                CompletableFuture<?> more = then.answer();
                return more == null ? CompletableFuture.completedFuture(null) : more;
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new CompletionException(e);
            }
        }));
    }

    /** Runs {@code then} on this thread; when it leaves something to finish, the request ends when that does. */
    private static void answerNow(Context ctx, Answer then) throws Exception {
        CompletableFuture<?> more = then.answer();
        if (more != null) {
            ctx.future(() -> more);
        }
    }

    /**
     * Answers {@code entity} {@code id}'s state with {@code read}, as {@link #keyed} does; and when the instance
     * holding its active state does not answer (gone, or the key is between instances), from a standby replica
     * that lags at most {@code query.standby.max.lag} records: this instance's, or another's. Such an answer
     * carries {@value Cluster#STANDBY_LAG}. A read at a position never comes from a standby.
     */
    void keyedOrStandby(
            Context ctx, EntityKind<?, ?> entity, String id, Function<StateQueries, Optional<JsonNode>> read)
            throws Exception {
        if (Cluster.isStandbyRead(ctx)) {
            Optional<StateQueries.Location> location = locate(entity, id);
            if (location.isEmpty() || !answerFromStandby(ctx, entity, location.get(), id, read)) {
                throw Problem.unavailable("no standby of " + entity.name() + " " + id + " close enough here");
            }
            return;
        }
        try {
            keyed(ctx, entity, id, local -> Requests.json(local, found(read.apply(queries()), entity, id)));
        } catch (Problem problem) {
            boolean mayUseStandby = problem.status() == 503
                    && standbyMaxLag >= 0
                    && !Cluster.isForwarded(ctx)
                    && ReadPosition.from(ctx) == null;
            if (!mayUseStandby) {
                throw problem;
            }
            Optional<StateQueries.Location> location = locate(entity, id);
            if (location.isEmpty()
                    || !(answerFromStandby(ctx, entity, location.get(), id, read)
                            || askStandbys(ctx, location.get()))) {
                throw problem;
            }
        }
    }

    /** Where the key is, or empty while not even its partition is known. */
    private Optional<StateQueries.Location> locate(EntityKind<?, ?> entity, String id) {
        try {
            return Optional.of(queries().locate(entity, id));
        } catch (StateUnavailable e) {
            return Optional.empty();
        }
    }

    /** Asks the other instances keeping a standby of the key to answer from it; false if none does. */
    private boolean askStandbys(Context ctx, StateQueries.Location location) {
        for (Instance standby : location.standbys()) {
            if (!standby.equals(cluster.self()) && cluster.forwardToStandby(ctx, standby)) {
                return true;
            }
        }
        return false;
    }

    /** Answers from this instance's standby replica if it keeps one close enough; false if not. */
    private boolean answerFromStandby(
            Context ctx,
            EntityKind<?, ?> entity,
            StateQueries.Location location,
            String id,
            Function<StateQueries, Optional<JsonNode>> read) {
        Optional<StateQueries.Standby> standby = queries().standbyOf(entity, location);
        if (standby.isEmpty() || standby.get().lag() > standbyMaxLag) {
            return false;
        }
        JsonNode state;
        try {
            state = found(read.apply(standby.get().queries()), entity, id);
        } catch (StateUnavailable e) {
            return false;
        }
        ctx.header(Cluster.ANSWERED_BY, cluster.self().toString());
        ctx.header(Cluster.STANDBY_LAG, Long.toString(standby.get().lag()));
        Requests.json(ctx, state);
        return true;
    }

    /** The entity's state as JSON, if this instance holds it. */
    Optional<JsonNode> stateJson(EntityKind<?, ?> entity, String entityId) {
        return stateJson(queries(), entity, entityId);
    }

    /** The entity's state as JSON, read with {@code queries} (the active state's, or a standby's). */
    static Optional<JsonNode> stateJson(StateQueries queries, EntityKind<?, ?> entity, String entityId) {
        return queries.state(entity, entityId).map(AvroJson::toJson);
    }

    /**
     * The fold's decision about an event of {@code entityId} as JSON; 404 when it has made none for this entity (or
     * has forgotten it). Another entity's event with the same id is not shown.
     */
    JsonNode outcomeJson(EntityKind<?, ?> entity, String entityId, String eventId) {
        return queries()
                .outcomeOf(entity, entityId, eventId)
                .map(AvroJson::toJson)
                .orElseThrow(() ->
                        Problem.notFound("an outcome of event " + eventId + " of " + entity.name() + " " + entityId));
    }

    /**
     * The fold's decision about an event with, when it has one, the entity's state as it is now (under {@code
     * state}): what {@code ?wait=applied} answers, read in one hop from the instance holding the entity.
     */
    JsonNode outcomeWithStateJson(EntityKind<?, ?> entity, String entityId, String eventId) {
        Optional<EventOutcome> decided = queries().outcome(entity, entityId, eventId);
        if (decided.isPresent() && !decided.get().getEntityId().equals(entityId)) {
            // The id was another entity's first: this event was refused as a reuse (and the other is not named).
            ObjectNode reused = JsonNodeFactory.instance.objectNode();
            reused.put("outcome", "rejected");
            reused.put("reason", "event_id_reused");
            reused.put(
                    "message",
                    "event id " + eventId + " was already used by an event of another entity; give each event an id"
                            + " of its own");
            reused.put("reused", true);
            return reused;
        }
        ObjectNode outcome = (ObjectNode) outcomeJson(entity, entityId, eventId);
        stateJson(entity, entityId).ifPresent(state -> outcome.set("state", state));
        return outcome;
    }

    private static JsonNode found(Optional<JsonNode> state, EntityKind<?, ?> entity, String id) {
        return state.orElseThrow(() -> Problem.notFound(entity.name() + " " + id));
    }

    /**
     * One entity's state ({@code eventId} null) or an event's outcome with the state, read at {@code position} wherever
     * the entity is held: from this instance's stores, or from its owner's {@link #ENTITY_ROUTE} in the name of {@code
     * caller} ({@link Cluster#caller}). No access is decided here: the caller's instance decides on what comes back.
     * The answer is {@code {"state": ...}} (no {@code state} when the entity does not exist) or, for an outcome, {@code
     * {"outcome": ...}} with the state in the outcome ({@link #outcomeWithStateJson}).
     *
     * @throws Problem 503 while the entity's partition moves or its position is not reached, 429 past the caller's
     *     waits, 404 for an outcome the fold has not recorded
     */
    JsonNode owned(
            Map<String, String> caller,
            EntityKind<?, ?> entity,
            String id,
            String eventId,
            ReadPosition position,
            long timeoutMs) {
        Instance owner = owner(queries(), entity, id);
        if (!owner.equals(cluster.self())) {
            Cluster.Answer answer = cluster.getNow(
                    caller,
                    owner,
                    ENTITY_PATH + entity.name() + "/" + id,
                    "timeoutMs=" + timeoutMs + (eventId == null ? "" : "&eventId=" + eventId),
                    position == null ? Map.of() : Map.of(ReadPosition.HEADER, position.encode()));
            if (answer.status() != 200) {
                throw Problem.relayed(answer.status(), answer.body(), entity.name() + " " + id + " could not be read");
            }
            return answer.body();
        }
        if (position != null) {
            waits.awaitBlocking(Cluster.tokenIdOf(caller), position, timeoutMs);
        }
        try {
            return ownedHere(entity, id, eventId);
        } catch (StateUnavailable e) {
            throw Problem.unavailable(e.getMessage());
        }
    }

    /**
     * The room's project and members when this instance holds the room, at {@code position} (waiting for it as {@link
     * #owned} does), as the room fold keeps them in memory ({@link StateQueries#roomMembership}): the append door
     * decides without decoding the room's whole state or turning it into JSON. Empty when another instance holds the
     * room; then read it with {@link #owned}.
     *
     * @throws Problem as {@link #owned}
     */
    Optional<Access.RoomResource> roomHeldHere(
            Map<String, String> caller, String roomId, ReadPosition position, long timeoutMs) {
        StateQueries queries = queries();
        try {
            StateQueries.Location location = queries.locate(EntityKind.ROOM, roomId);
            if (location.owner() == null) {
                throw Problem.unavailable("No instance holds room " + roomId + " now (rebalancing)");
            }
            if (!location.owner().equals(cluster.self())) {
                return Optional.empty();
            }
            if (position != null) {
                waits.awaitBlocking(Cluster.tokenIdOf(caller), position, timeoutMs);
            }
            return Optional.of(queries.roomMembership(roomId, location.partition())
                    .map(room -> new Access.RoomResource(roomId, room.project(), room.members(), true))
                    .orElse(Access.RoomResource.missing(roomId)));
        } catch (StateUnavailable e) {
            throw Problem.unavailable(e.getMessage());
        }
    }

    /** The route instances ask each other for {@link #owned} reads: forwarded, signed requests alone. */
    static final String ENTITY_ROUTE = "/internal/entities/{kind}/{id}";

    private static final String ENTITY_PATH = "/internal/entities/";

    /** {@value #ENTITY_ROUTE}{@code ?eventId=}: the answer of {@link #owned} from this instance's stores. */
    void answerOwned(Context ctx) throws Exception {
        EntityKind<?, ?> entity;
        try {
            entity = EntityKind.of(ctx.pathParam("kind"));
        } catch (IllegalArgumentException e) {
            throw Problem.badRequest(e.getMessage(), "kind");
        }
        String id = ctx.pathParam("id");
        String eventId = ctx.queryParam("eventId");
        afterPosition(ctx, () -> {
            Requests.json(ctx, ownedHere(entity, id, eventId));
            return null;
        });
    }

    private JsonNode ownedHere(EntityKind<?, ?> entity, String id, String eventId) {
        ObjectNode answer = JsonNodeFactory.instance.objectNode();
        if (eventId != null) {
            answer.set("outcome", outcomeWithStateJson(entity, id, eventId));
        } else {
            stateJson(entity, id).ifPresent(state -> answer.set("state", state));
        }
        return answer;
    }

    private static Instance owner(StateQueries queries, EntityKind<?, ?> entity, String id) {
        try {
            return queries.ownerOf(entity, id);
        } catch (StateUnavailable e) {
            throw Problem.unavailable(e.getMessage());
        }
    }
}
