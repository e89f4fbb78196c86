package dev.substrate.api.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.substrate.entity.EntityKind;
import dev.substrate.state.EventOutcome;
import dev.substrate.streams.Instance;
import dev.substrate.streams.Page;
import dev.substrate.streams.StateQueries;
import dev.substrate.streams.StateUnavailable;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Function;
import java.util.function.Supplier;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.apache.avro.specific.SpecificRecord;

/**
 * Reads over every instance of the application. A key lookup runs on the instance that holds the key, forwarded
 * there when it is another; a list asks every instance for its part and merges the parts into one page whose
 * cursor is the store key of its last entry. Both honour a read-your-writes position ({@link ReadPosition}).
 * While partitions move between instances the answer is 503 with {@code Retry-After}, never a partial list.
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
    private void afterPosition(Context ctx, Answer then) throws Exception {
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

    /**
     * Answers a list: this instance's part and every other instance's, merged in key order ({@code descending}
     * for newest-first lists), cut at {@code limit}. A forwarded request gets this instance's part alone. The
     * answer's {@value #SCANNED} header says how many store entries all parts looked at.
     *
     * @param query this instance's page after a raw cursor (null for the first page)
     */
    <T extends SpecificRecord> void list(
            Context ctx, EntityKind<?, ?> entity, boolean descending, Function<String, Page<T>> query)
            throws Exception {
        String fingerprint = queryFingerprint(ctx);
        String cursor = decodeCursor(ctx.queryParam("cursor"), fingerprint);
        int limit = Requests.limit(ctx);
        gather(ctx, entity, () -> part(localPage(query, cursor)), parts -> {
            ctx.header(SCANNED, Long.toString(scanned(parts)));
            return merge(parts, descending, limit, key -> encodeCursor(key, fingerprint));
        });
    }

    /** The header that says how many store entries a list or count looked at, over every instance. */
    static final String SCANNED = "X-Substrate-Scanned";

    private static long scanned(List<JsonNode> parts) {
        long scanned = 0;
        for (JsonNode part : parts) {
            scanned += part.path("scanned").asLong();
        }
        return scanned;
    }

    /**
     * Counts {@code entity}'s runs over every instance: each counts the partitions it holds ({@code local}); the
     * answer is {@code {"counts": {group: n, ...}, "total": n}}, and says in {@value #SCANNED} what it looked at.
     */
    void count(Context ctx, EntityKind<?, ?> entity, Supplier<StateQueries.Counts> local) throws Exception {
        gather(
                ctx,
                entity,
                () -> {
                    StateQueries.Counts counts;
                    try {
                        counts = local.get();
                    } catch (StateQueries.TooMuchToCount e) {
                        throw Problem.ofStatus(422, "Count too large", e.getMessage());
                    }
                    ObjectNode part = JsonNodeFactory.instance.objectNode();
                    ObjectNode groups = part.putObject("counts");
                    new TreeMap<>(counts.counts()).forEach(groups::put);
                    part.put("scanned", counts.scanned());
                    ArrayNode partitions = part.putArray("partitions");
                    counts.partitions().stream().sorted().forEach(partitions::add);
                    return part;
                },
                parts -> {
                    TreeMap<String, Long> counts = new TreeMap<>();
                    for (JsonNode part : parts) {
                        part.path("counts")
                                .properties()
                                .forEach(group -> counts.merge(
                                        group.getKey(), group.getValue().asLong(), Long::sum));
                    }
                    ObjectNode answer = JsonNodeFactory.instance.objectNode();
                    ObjectNode groups = answer.putObject("counts");
                    counts.forEach(groups::put);
                    answer.put(
                            "total",
                            counts.values().stream().mapToLong(Long::longValue).sum());
                    ctx.header(SCANNED, Long.toString(scanned(parts)));
                    return answer;
                });
    }

    /**
     * Answers with what every instance holding part of {@code entity}'s partitions says of its part ({@code local}
     * here, the same route forwarded elsewhere), each checked to cover exactly the partitions its instance holds,
     * combined by {@code merge}. A forwarded request gets this instance's part alone.
     */
    private void gather(
            Context ctx,
            EntityKind<?, ?> entity,
            Supplier<ObjectNode> local,
            Function<List<JsonNode>, ObjectNode> merge)
            throws Exception {
        StateQueries queries = queries();
        if (Cluster.isForwarded(ctx)) {
            afterPosition(ctx, () -> {
                Requests.json(ctx, local.get());
                return null;
            });
            return;
        }
        Map<Instance, Set<Integer>> placement;
        try {
            placement = queries.placement(entity);
        } catch (StateUnavailable e) {
            throw Problem.unavailable(e.getMessage());
        }
        Map<Instance, CompletableFuture<Cluster.Answer>> asked = new LinkedHashMap<>();
        placement.keySet().stream()
                .filter(instance -> !instance.equals(cluster.self()))
                .forEach(instance ->
                        asked.put(instance, cluster.get(ctx, instance, ctx.path(), ctx.queryString(), Map.of())));
        afterPosition(ctx, () -> {
            List<JsonNode> parts = new ArrayList<>();
            if (placement.containsKey(cluster.self())) {
                JsonNode mine = local.get();
                requireCovers(mine, placement.get(cluster.self()), cluster.self());
                parts.add(mine);
            }
            if (asked.isEmpty()) {
                Requests.json(ctx, merge.apply(parts));
                return null;
            }
            // The other instances may wait for the position too: no thread is held for their parts.
            return CompletableFuture.allOf(asked.values().toArray(CompletableFuture[]::new))
                    .handle((done, failure) -> {
                        for (Map.Entry<Instance, CompletableFuture<Cluster.Answer>> remote : asked.entrySet()) {
                            parts.add(remotePart(remote.getKey(), remote.getValue(), placement));
                        }
                        Requests.json(ctx, merge.apply(parts));
                        return null;
                    });
        });
    }

    /** Another instance's part of a list, checked to cover the partitions it holds; the problem if it does not. */
    private static JsonNode remotePart(
            Instance instance, CompletableFuture<Cluster.Answer> asked, Map<Instance, Set<Integer>> placement) {
        Cluster.Answer answer;
        try {
            answer = asked.join();
        } catch (CompletionException e) {
            throw Cluster.unreachable(instance, e.getCause());
        }
        if (answer.status() != 200) {
            throw Problem.relayed(
                    answer.status() >= 500 ? 503 : answer.status(),
                    answer.body(),
                    "another instance answered " + answer.status());
        }
        requireCovers(answer.body(), placement.get(instance), instance);
        return answer.body();
    }

    private static <T extends SpecificRecord> Page<T> localPage(Function<String, Page<T>> query, String cursor) {
        try {
            return query.apply(cursor);
        } catch (IllegalArgumentException e) {
            throw Problem.badRequest(e.getMessage(), "cursor");
        }
    }

    private static Instance owner(StateQueries queries, EntityKind<?, ?> entity, String id) {
        try {
            return queries.ownerOf(entity, id);
        } catch (StateUnavailable e) {
            throw Problem.unavailable(e.getMessage());
        }
    }

    /** One instance's part of a list, as it travels between instances. */
    private static <T extends SpecificRecord> ObjectNode part(Page<T> page) {
        ObjectNode part = JsonNodeFactory.instance.objectNode();
        ArrayNode items = part.putArray("items");
        page.items().forEach(item -> items.add(AvroJson.toJson(item)));
        ArrayNode keys = part.putArray("keys");
        page.keys().forEach(keys::add);
        part.put("more", page.more());
        part.put("scanned", page.scanned());
        if (page.scannedTo() != null) {
            part.put("scannedTo", page.scannedTo());
        }
        ArrayNode partitions = part.putArray("partitions");
        page.partitions().stream().sorted().forEach(partitions::add);
        return part;
    }

    /** 503 unless a part was read from exactly the partitions its instance holds. */
    private static void requireCovers(JsonNode part, Set<Integer> expected, Instance instance) {
        Set<Integer> answered = new HashSet<>();
        part.path("partitions").forEach(partition -> answered.add(partition.asInt()));
        if (!answered.equals(expected)) {
            throw Problem.unavailable("partitions are moving between instances (one answered for partitions " + answered
                    + " and holds " + expected + ")");
        }
    }

    private static ObjectNode merge(
            List<JsonNode> parts, boolean descending, int limit, Function<String, String> cursorOf) {
        List<Map.Entry<String, JsonNode>> entries = new ArrayList<>();
        boolean more = false;
        // Where the first part that stopped at its scan budget stopped: the merged page goes no further.
        String stop = null;
        for (JsonNode part : parts) {
            JsonNode items = part.path("items");
            JsonNode keys = part.path("keys");
            for (int i = 0; i < items.size(); i++) {
                entries.add(Map.entry(keys.get(i).asText(), items.get(i)));
            }
            more |= part.path("more").asBoolean();
            String scannedTo = part.path("scannedTo").asText(null);
            if (scannedTo != null
                    && (stop == null || (descending ? scannedTo.compareTo(stop) > 0 : scannedTo.compareTo(stop) < 0))) {
                stop = scannedTo;
            }
        }
        Comparator<Map.Entry<String, JsonNode>> byKey = Map.Entry.comparingByKey();
        entries.sort(descending ? byKey.reversed() : byKey);
        if (stop != null) {
            String last = stop;
            entries.removeIf(entry -> descending
                    ? entry.getKey().compareTo(last) < 0
                    : entry.getKey().compareTo(last) > 0);
        }
        List<Map.Entry<String, JsonNode>> page = entries.subList(0, Math.min(limit, entries.size()));
        boolean full = entries.size() > limit;
        more |= full;
        ObjectNode answer = JsonNodeFactory.instance.objectNode();
        ArrayNode items = answer.putArray("items");
        page.forEach(entry -> items.add(entry.getValue()));
        if (stop != null && !full) {
            // The scan stopped at its budget: fewer items than asked (maybe none), and a cursor to go on from.
            answer.put("nextCursor", cursorOf.apply(stop));
        } else if (more && !page.isEmpty()) {
            answer.put("nextCursor", cursorOf.apply(page.get(page.size() - 1).getKey()));
        } else {
            answer.putNull("nextCursor");
        }
        return answer;
    }

    /** The form of the cursors this API gives out: {@value}, then the sealed key. */
    private static final String CURSOR_VERSION = "c2.";

    private static final int NONCE_BYTES = 12;
    private static final SecureRandom RANDOM = new SecureRandom();

    /**
     * What a list's cursor is bound to: its path and every parameter but the cursor itself, the page size and the
     * read position. A cursor carried over to another query, or made up, is refused rather than read as a key.
     */
    private static String queryFingerprint(Context ctx) {
        TreeMap<String, List<String>> params = new TreeMap<>(ctx.queryParamMap());
        params.keySet().removeAll(Set.of("cursor", "limit", "position", "timeoutMs"));
        StringBuilder query = new StringBuilder(ctx.path());
        params.forEach((name, values) -> values.forEach(
                value -> query.append('\n').append(name).append('=').append(value)));
        return query.toString();
    }

    /**
     * A cursor for the store key {@code key}: the key encrypted and authenticated (AES-GCM) under a key derived from
     * the cluster key, bound to the query. It names no entity (a list that stopped at its scan budget may stop at one
     * the caller cannot see), and one that was not given out for this query, or was altered, is refused.
     */
    private String encodeCursor(String key, String fingerprint) {
        byte[] nonce = new byte[NONCE_BYTES];
        RANDOM.nextBytes(nonce);
        byte[] sealed;
        try {
            sealed = cursorCipher(Cipher.ENCRYPT_MODE, nonce, fingerprint, key.getBytes(StandardCharsets.UTF_8));
        } catch (AEADBadTagException e) {
            throw new IllegalStateException("sealing checks no tag", e);
        }
        byte[] cursor = new byte[NONCE_BYTES + sealed.length];
        System.arraycopy(nonce, 0, cursor, 0, NONCE_BYTES);
        System.arraycopy(sealed, 0, cursor, NONCE_BYTES, sealed.length);
        return CURSOR_VERSION + Base64.getUrlEncoder().withoutPadding().encodeToString(cursor);
    }

    /** The store key a cursor names; 400 for one this API did not give out for this query. */
    private String decodeCursor(String cursor, String fingerprint) {
        if (cursor == null) {
            return null;
        }
        if (!cursor.startsWith(CURSOR_VERSION) || cursor.length() > 4096) {
            throw Problem.badRequest("cursor is not one this API gave out", "cursor");
        }
        byte[] bytes;
        try {
            bytes = Base64.getUrlDecoder().decode(cursor.substring(CURSOR_VERSION.length()));
        } catch (IllegalArgumentException e) {
            throw Problem.badRequest("cursor is not one this API gave out", "cursor");
        }
        if (bytes.length <= NONCE_BYTES) {
            throw Problem.badRequest("cursor is not one this API gave out", "cursor");
        }
        try {
            byte[] key = cursorCipher(
                    Cipher.DECRYPT_MODE,
                    Arrays.copyOf(bytes, NONCE_BYTES),
                    fingerprint,
                    Arrays.copyOfRange(bytes, NONCE_BYTES, bytes.length));
            return new String(key, StandardCharsets.UTF_8);
        } catch (AEADBadTagException e) {
            throw Problem.badRequest(
                    "cursor was not given out for this query: pass back the nextCursor of the same path and filters",
                    "cursor");
        }
    }

    private byte[] cursorCipher(int mode, byte[] nonce, String fingerprint, byte[] input) throws AEADBadTagException {
        try {
            byte[] key = Arrays.copyOf(cluster.mac("cursor", new byte[0]), 16);
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(mode, new SecretKeySpec(key, "AES"), new GCMParameterSpec(128, nonce));
            cipher.updateAAD(fingerprint.getBytes(StandardCharsets.UTF_8));
            return cipher.doFinal(input);
        } catch (AEADBadTagException e) {
            throw e;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("every JDK has AES/GCM", e);
        }
    }
}
