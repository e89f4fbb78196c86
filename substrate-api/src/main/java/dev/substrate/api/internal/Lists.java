package dev.substrate.api.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.substrate.entity.EntityKind;
import dev.substrate.streams.Instance;
import dev.substrate.streams.Page;
import dev.substrate.streams.StateQueries;
import dev.substrate.streams.StateUnavailable;
import io.javalin.http.Context;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
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
 * Lists and counts over every instance of the application: each instance that holds some of a kind's partitions
 * answers for them, and the parts are merged into one page whose cursor is sealed (it names no entity and cannot be
 * forged). A part is checked to cover exactly the partitions its instance holds: while partitions move the answer is
 * 503 with {@code Retry-After}, never a partial list. Read positions are honoured as {@link Reads} honours them.
 */
final class Lists {

    private final Cluster cluster;
    private final Reads reads;

    Lists(Cluster cluster, Reads reads) {
        this.cluster = cluster;
        this.reads = reads;
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
        gather(ctx, List.of(entity), "", local, merge);
    }

    /**
     * {@link #gather} over the partitions of several kinds: each instance's part holds one part per kind, under the
     * kind's name ({@code {"run": {...}, "room": {...}}}), each checked to cover the partitions of that kind it holds
     * (none, for a kind it holds nothing of). {@code alsoAsk} (such as {@code priceVersion=3}, or empty) is added to
     * the query the other instances are asked.
     */
    void gather(
            Context ctx,
            List<EntityKind<?, ?>> kinds,
            String alsoAsk,
            Supplier<ObjectNode> local,
            Function<List<JsonNode>, ObjectNode> merge)
            throws Exception {
        StateQueries queries = reads.queries();
        if (Cluster.isForwarded(ctx)) {
            reads.afterPosition(ctx, () -> {
                Requests.json(ctx, local.get());
                return null;
            });
            return;
        }
        Map<EntityKind<?, ?>, Map<Instance, Set<Integer>>> placements = new LinkedHashMap<>();
        Set<Instance> holders = new LinkedHashSet<>();
        try {
            for (EntityKind<?, ?> kind : kinds) {
                placements.put(kind, queries.placement(kind));
                holders.addAll(placements.get(kind).keySet());
            }
        } catch (StateUnavailable e) {
            throw Problem.unavailable(e.getMessage());
        }
        Map<Instance, CompletableFuture<Cluster.Answer>> asked = new LinkedHashMap<>();
        holders.stream()
                .filter(instance -> !instance.equals(cluster.self()))
                .forEach(instance ->
                        asked.put(instance, cluster.get(ctx, instance, ctx.path(), query(ctx, alsoAsk), Map.of())));
        reads.afterPosition(ctx, () -> {
            List<JsonNode> parts = new ArrayList<>();
            if (holders.contains(cluster.self())) {
                JsonNode mine = local.get();
                requireCovers(mine, placements, cluster.self());
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
                            parts.add(remotePart(remote.getKey(), remote.getValue(), placements));
                        }
                        Requests.json(ctx, merge.apply(parts));
                        return null;
                    });
        });
    }

    private static String query(Context ctx, String alsoAsk) {
        String query = ctx.queryString();
        if (alsoAsk.isEmpty()) {
            return query;
        }
        return query == null || query.isEmpty() ? alsoAsk : query + "&" + alsoAsk;
    }

    /** Another instance's part of a list, checked to cover the partitions it holds; the problem if it does not. */
    private static JsonNode remotePart(
            Instance instance,
            CompletableFuture<Cluster.Answer> asked,
            Map<EntityKind<?, ?>, Map<Instance, Set<Integer>>> placement) {
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
        requireCovers(answer.body(), placement, instance);
        return answer.body();
    }

    private static <T extends SpecificRecord> Page<T> localPage(Function<String, Page<T>> query, String cursor) {
        try {
            return query.apply(cursor);
        } catch (IllegalArgumentException e) {
            throw Problem.badRequest(e.getMessage(), "cursor");
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

    /**
     * 503 unless a part was read from exactly the partitions its instance holds: of its one kind, or (a part of
     * several kinds) of each kind, under the kind's name.
     */
    private static void requireCovers(
            JsonNode part, Map<EntityKind<?, ?>, Map<Instance, Set<Integer>>> placements, Instance instance) {
        if (placements.size() == 1) {
            Map<Instance, Set<Integer>> placement =
                    placements.values().iterator().next();
            requireCovers(part, placement.getOrDefault(instance, Set.of()), instance);
            return;
        }
        placements.forEach((kind, placement) ->
                requireCovers(part.path(kind.name()), placement.getOrDefault(instance, Set.of()), instance));
    }

    private static void requireCovers(JsonNode part, Set<Integer> expected, Instance instance) {
        Set<Integer> answered = new HashSet<>();
        part.path("partitions").forEach(partition -> answered.add(partition.asInt()));
        if (!answered.equals(expected)) {
            throw Problem.unavailable("partitions are moving between instances (one answered for partitions " + answered
                    + " and holds " + expected + ")");
        }
    }

    /** The instances' parts merged into one page ({@link Page#merge}), its cursor sealed by {@code cursorOf}. */
    private static ObjectNode merge(
            List<JsonNode> parts, boolean descending, int limit, Function<String, String> cursorOf) {
        List<Page<JsonNode>> pages = new ArrayList<>();
        for (JsonNode part : parts) {
            List<JsonNode> items = new ArrayList<>();
            part.path("items").forEach(items::add);
            List<String> keys = new ArrayList<>();
            part.path("keys").forEach(key -> keys.add(key.asText()));
            Set<Integer> partitions = new HashSet<>();
            part.path("partitions").forEach(partition -> partitions.add(partition.asInt()));
            pages.add(new Page<>(
                    items,
                    keys,
                    part.path("more").asBoolean(),
                    partitions,
                    part.path("scannedTo").asText(null),
                    part.path("scanned").asLong()));
        }
        Page<JsonNode> page = Page.merge(pages, descending, limit);
        ObjectNode answer = JsonNodeFactory.instance.objectNode();
        ArrayNode items = answer.putArray("items");
        page.items().forEach(items::add);
        String next = page.nextCursor();
        if (next == null) {
            answer.putNull("nextCursor");
        } else {
            answer.put("nextCursor", cursorOf.apply(next));
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
