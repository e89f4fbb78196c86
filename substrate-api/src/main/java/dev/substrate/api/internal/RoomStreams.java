package dev.substrate.api.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.substrate.api.HttpApi;
import dev.substrate.api.auth.Principal;
import dev.substrate.api.auth.TokenStore;
import dev.substrate.config.EventSettings;
import dev.substrate.config.StreamSettings;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.entity.EntityKind;
import dev.substrate.event.EventValidator;
import dev.substrate.events.room.MemberRevoked;
import dev.substrate.events.room.RoomDeleted;
import dev.substrate.fold.FoldLimits;
import dev.substrate.stream.AgUiTranslator;
import dev.substrate.stream.RoomStream;
import dev.substrate.stream.SessionEventsTranslator;
import dev.substrate.stream.UiMessageTranslator;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A room's live views: {@code GET /v1/rooms/{roomId}/stream} (SSE), its AG-UI and AI SDK views, the Durable Streams
 * reads ({@link DurableStreams}) and the WebSocket ({@link RoomSockets}), each a {@link StreamView} written through a
 * {@link Transport}; what follows is said of the SSE stream and holds for every view.
 *
 * <p>{@code GET /v1/rooms/{roomId}/stream}: a room's events as server-sent events, caught up from where the client
 * asks and then live. Each event's {@code id:} is its cursor (its offset in the room's partition), so a client
 * that reconnects with {@code Last-Event-ID} (or {@code ?after=}) gets exactly the events after it.
 *
 * <p>All clients of an instance share one {@link RoomStream}: one Kafka consumer per partition in use, however
 * many clients follow rooms on it (a client that starts behind it catches up on a consumer of its own, so a replay
 * does not hold up the rooms that are live). Each client has its own bounded buffer and writer thread; a client
 * that falls {@value RoomStream#BUFFER} events or {@code stream.max.buffered.bytes} behind is sent an {@code end}
 * event with reason {@code slow-consumer} and closed (it resumes from its last id), so one slow client neither
 * slows the others nor grows memory; all the streams of one token together hold at most {@code
 * stream.max.buffered.bytes.per.principal}. One token may have {@code stream.max.clients.per.principal} streams open
 * on an instance; one more is a 429, so that one token cannot take every slot. A revoked token's streams end at
 * once, with reason {@code token-revoked}.
 *
 * <p>A member whose membership is revoked gets an {@code end} event with reason {@code revoked} at the revocation,
 * once the fold has applied it, and nothing after it.
 */
final class RoomStreams implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(RoomStreams.class);

    /** How long a check of the reader's membership, at a revocation, waits for the fold to apply it. */
    private static final long RECHECK_TIMEOUT_MS = 10_000;

    /** What EventSource clients wait before reconnecting after the connection drops. */
    private static final int RETRY_MS = 1_000;

    private final SubstrateConfig config;
    private final RoomAccess access;
    private final Appends appends;
    private final TokenStore tokens;
    private final Duration heartbeat;
    private final Semaphore slots;
    private final Admission perToken;
    private final Map<String, RoomStream.Budget> budgets = new ConcurrentHashMap<>();
    private final Set<Client> clients = ConcurrentHashMap.newKeySet();
    private final ExecutorService writers;
    private RoomStream stream;
    private boolean closed;

    /** Opens the content of encrypted rooms as their events are read. */
    private final Sealing sealing;

    RoomStreams(SubstrateConfig config, RoomAccess access, TokenStore tokens, Appends appends, Sealing sealing) {
        this.sealing = sealing;
        this.config = config;
        this.appends = appends;
        this.tokens = tokens;
        this.access = access;
        this.heartbeat = config.get(StreamSettings.HEARTBEAT);
        this.slots = new Semaphore(config.get(StreamSettings.MAX_CLIENTS));
        this.perToken = new Admission(
                "room streams",
                "stream.max.clients.per.principal",
                config.get(StreamSettings.MAX_CLIENTS_PER_PRINCIPAL));
        AtomicInteger threads = new AtomicInteger();
        this.writers = Executors.newCachedThreadPool(task -> {
            Thread thread = new Thread(task, "substrate-sse-" + threads.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
    }

    /**
     * Ends, within moments, every stream opened with the token {@code tokenId}, which was just revoked: each is sent
     * an {@code end} event with reason {@code token-revoked}.
     */
    void revoked(String tokenId) {
        budgets.remove(tokenId);
        for (Client client : clients) {
            if (client.reader.tokenId().equals(tokenId)) {
                client.stop("token-revoked");
            }
        }
    }

    /** Streams open on this instance. */
    int clients() {
        return clients.size();
    }

    /** Kafka consumers feeding them: one per partition in use. */
    synchronized int consumers() {
        return stream == null ? 0 : stream.consumers();
    }

    /** Kafka consumers of partitions no client follows now, kept for a while for the next one. */
    synchronized int idleConsumers() {
        return stream == null ? 0 : stream.idleConsumers();
    }

    /**
     * What a client sees: every event as written, blocks assembled from their deltas, AG-UI events, the seeds'
     * session events (WebSocket), the AI SDK's UI message stream of the active turn, or a Durable Streams SSE read.
     */
    enum View {
        RAW,
        BLOCKS,
        AG_UI,
        SESSION,
        AI_SDK,
        DURABLE
    }

    /** Who reads: the principal, the token it was authenticated with, and its claims for forwarded reads. */
    record Reader(Principal principal, String tokenId, Map<String, String> caller) {

        static Reader of(Context ctx) {
            return new Reader(Requests.principal(ctx), Requests.tokenId(ctx), Cluster.caller(ctx));
        }
    }

    /**
     * GET /v1/rooms/{roomId}/stream?view=raw|blocks&from=start|now&after=CURSOR: checks the caller may read the
     * room (403, 404 before the stream starts), then streams.
     */
    void open(Context ctx) {
        String roomId = ctx.pathParam("roomId");
        View view = view(ctx.queryParam("view"));
        Long after = resumeCursor(ctx);
        String from = ctx.queryParam("from");
        if (from != null && !from.equals("start") && !from.equals("now")) {
            throw Problem.badRequest("from must be start or now", "from");
        }
        if (from != null && after != null) {
            throw Problem.badRequest(
                    "from and a cursor to resume after (after, Last-Event-ID) exclude each other", "from");
        }
        stream(ctx, roomId, view, after, from, null);
    }

    /**
     * POST /v1/rooms/{roomId}/ag-ui with AG-UI's {@code RunAgentInput} (as {@code HttpAgent} sends it; its {@code
     * threadId} is the room, its {@code runId} is echoed), or GET with {@code ?runId=} for {@code EventSource}: the
     * room as AG-UI events. The input's messages, tools and state are not taken: the view reads the room, it does not
     * append to it (appends are {@code POST /v1/rooms/{roomId}/events}).
     */
    void openAgUi(Context ctx) {
        String roomId = ctx.pathParam("roomId");
        String runId;
        JsonNode resume = null;
        if ("POST".equals(ctx.method().name())) {
            // Read as a stream, keeping three fields: the input's messages, tools and state can be large, and an
            // observer's request must cost this instance no more memory than a small one.
            Map<String, JsonNode> input = Requests.streamedFields(
                    ctx,
                    HttpApi.maxRequestBytes(config.get(EventSettings.MAX_EVENT_BYTES)),
                    Set.of("threadId", "runId"),
                    Set.of("resume"));
            String threadId =
                    input.containsKey("threadId") ? input.get("threadId").asText() : null;
            if (threadId != null && !threadId.equals(roomId)) {
                throw Problem.badRequest(
                        "threadId is the room the AG-UI view follows; it must be " + roomId + ", not " + threadId,
                        "threadId");
            }
            runId = input.containsKey("runId") ? input.get("runId").asText() : "";
            if (runId.isBlank()) {
                throw Problem.badRequest("runId is required (RunAgentInput.runId)", "runId");
            }
            resume = input.get("resume");
        } else {
            String asked = ctx.queryParam("runId");
            runId = asked == null || asked.isBlank() ? UUID.randomUUID().toString() : asked;
        }
        if (runId.length() > FoldLimits.MAX_ID_CHARS) {
            throw Problem.badRequest("runId is longer than " + FoldLimits.MAX_ID_CHARS + " characters", "runId");
        }
        Reader reader = Reader.of(ctx);
        JsonNode room = access.readable(
                reader.caller(), reader.principal(), roomId, ReadPosition.from(ctx), Requests.timeoutMs(ctx));
        answerResume(ctx, roomId, room, resume);
        follow(ctx, roomId, room, View.AG_UI, resumeCursor(ctx), null, runId);
    }

    /**
     * AG-UI's {@code RunAgentInput.resume}: answers to the interrupts of the room's run, each recorded as {@code POST
     * /v1/runs/{runId}/interrupts/{interruptId}/answer} records it, in order, before the view starts (so it starts
     * with the run resumed, or ended again by the interrupts still open). The first one refused ends the request
     * with its problem (409 with the reason, {@code answered}: how many before it were recorded; 403 for a caller
     * that may not append); the same answer again is a duplicate, so a client may send them all again.
     */
    private void answerResume(Context ctx, String roomId, JsonNode room, JsonNode resume) {
        if (resume == null || resume.isNull() || (resume.isArray() && resume.isEmpty())) {
            return;
        }
        if (!resume.isArray() || resume.size() > EventValidator.MAX_OPEN_INTERRUPTS) {
            throw Problem.badRequest(
                    "resume must be an array of at most " + EventValidator.MAX_OPEN_INTERRUPTS + " answers", "resume");
        }
        String runId = room.path("runId").asText(null);
        if (runId == null) {
            throw Problem.badRequest(
                    "room " + roomId + " belongs to no run; the interrupts resume answers are a run's", "resume");
        }
        for (int i = 0; i < resume.size(); i++) {
            JsonNode entry = resume.get(i);
            JsonNode interruptId = entry.path("interruptId");
            if (!interruptId.isTextual()) {
                throw Problem.badRequest("resume[" + i + "].interruptId must be a string", "resume[" + i + "]");
            }
            ObjectNode answer = JsonNodeFactory.instance.objectNode();
            answer.set("status", entry.get("status"));
            if (entry.hasNonNull("payload")) {
                answer.set("payload", entry.get("payload"));
            }
            try {
                appends.answer(ctx, runId, interruptId.asText(), answer);
            } catch (Problem problem) {
                throw problem.status() == 409 ? problem.with("answered", i) : problem;
            }
        }
    }

    /**
     * The open interrupts of run {@code runId} as AG-UI {@code Interrupt} objects, when it waits on any and {@code
     * reader} may read it; empty otherwise, or when it cannot be read now (the next turn's end or reconnect asks
     * again).
     */
    private List<ObjectNode> openInterrupts(Reader reader, String runId) {
        Optional<JsonNode> run;
        try {
            run = access.readableRun(reader.caller(), reader.principal(), runId, RUN_READ_MS);
        } catch (RuntimeException e) {
            log.debug("The interrupts of run {} could not be read for an AG-UI view: {}", runId, e.toString());
            return List.of();
        }
        if (run.isEmpty() || !"waiting".equals(run.get().path("status").asText())) {
            return List.of();
        }
        List<ObjectNode> interrupts = new ArrayList<>();
        for (JsonNode held : run.get().path("interrupts")) {
            if (!"open".equals(held.path("status").asText())) {
                continue;
            }
            ObjectNode interrupt = JsonNodeFactory.instance.objectNode();
            interrupt.put("id", held.path("interruptId").asText());
            interrupt.put("reason", held.path("reason").asText());
            for (String optional : List.of("message", "toolCallId", "expiresAt")) {
                if (held.path(optional).isTextual()) {
                    interrupt.put(optional, held.get(optional).asText());
                }
            }
            if (held.path("responseSchema").isObject()) {
                interrupt.set("responseSchema", held.get("responseSchema"));
            }
            interrupts.add(interrupt);
        }
        return interrupts;
    }

    /** How long an AG-UI view waits for its room's run to be read. */
    private static final long RUN_READ_MS = 2_000;

    private void stream(Context ctx, String roomId, View view, Long after, String from, String runId) {
        Reader reader = Reader.of(ctx);
        JsonNode room = access.readable(
                reader.caller(), reader.principal(), roomId, ReadPosition.from(ctx), Requests.timeoutMs(ctx));
        follow(ctx, roomId, room, view, after, from, runId);
    }

    /**
     * Streams {@code roomId}, which the caller may read ({@code room}: its state), as server-sent events of {@code
     * view} ({@link #admit} says what the other arguments are).
     */
    void follow(Context ctx, String roomId, JsonNode room, View view, Long after, String from, String label) {
        Client client = admit(Reader.of(ctx), roomId, room, view, after, from, label);
        ctx.status(200);
        ctx.contentType("text/event-stream; charset=utf-8");
        ctx.header("Cache-Control", "no-cache");
        ctx.header("X-Accel-Buffering", "no");
        if (view == View.AI_SDK) {
            ctx.header("x-vercel-ai-ui-message-stream", "v1");
        }
        ctx.future(() -> client.done);
        try {
            serve(client, new SseTransport(ctx.res().getOutputStream(), client.renderer));
        } catch (IOException | RuntimeException e) {
            client.finish();
        }
    }

    /**
     * GET /v1/rooms/{roomId}/ai-sdk/stream: the UI message stream (the Vercel AI SDK's) of the room's active turn,
     * replayed from its start, then live until it ends; 204 when no turn is active, as {@code useChat}'s resume
     * expects.
     */
    void openAiSdk(Context ctx) {
        String roomId = ctx.pathParam("roomId");
        Reader reader = Reader.of(ctx);
        JsonNode room = access.readable(
                reader.caller(), reader.principal(), roomId, ReadPosition.from(ctx), Requests.timeoutMs(ctx));
        JsonNode turn = room.path("activeTurn");
        if (!turn.isObject()) {
            ctx.status(204);
            return;
        }
        stream(ctx, roomId, View.AI_SDK, null, null, turn.path("turnId").asText());
    }

    /**
     * GET /v1/rooms/{roomId}/ai-sdk/messages: the room as the AI SDK's {@code UIMessage[]} (for {@code useChat}'s
     * initial messages), read from the room's log with the chunks of {@code /ai-sdk/stream} assembled, so a message
     * equals the one a client assembles from the stream. Within {@code stream.max.buffered.bytes} of text: past it the
     * oldest messages are left out and {@code Substrate-Messages-Left-Out} says how many.
     */
    void messages(Context ctx) throws InterruptedException {
        String roomId = ctx.pathParam("roomId");
        Reader reader = Reader.of(ctx);
        JsonNode room = access.readable(
                reader.caller(), reader.principal(), roomId, ReadPosition.from(ctx), Requests.timeoutMs(ctx));
        UiMessageTranslator translator = new UiMessageTranslator(config.get(StreamSettings.MAX_BUFFERED_BYTES), true);
        long after = -1;
        while (true) {
            // One pass over the room, unless a reader that fell behind ended it: then on from where it stopped.
            Scanned scanned = scan(reader, roomId, room, after, false, 0, entry -> {
                translator.next(entry.event());
                return true;
            });
            if (scanned.upToDate()) {
                break;
            }
            if (scanned.next() - 1 == after) {
                throw Problem.unavailable("the room's events could not be read to its end; try again");
            }
            after = scanned.next() - 1;
        }
        if (translator.messagesLeftOut() > 0) {
            ctx.header("Substrate-Messages-Left-Out", Integer.toString(translator.messagesLeftOut()));
        }
        ctx.json(translator.messages());
    }

    /**
     * A client admitted to follow {@code roomId}, which {@code reader} may read ({@code room}: its state): counted
     * against the instance's and the token's limits (503, 429), its subscription open from where {@code view} reads.
     * The caller serves it ({@link #serve}) or, if it cannot, {@linkplain Client#finish finishes} it. {@code label}
     * is the view's own: AG-UI's run id, the AI SDK's turn, the Durable Streams client's collapsing cursor.
     */
    Client admit(Reader reader, String roomId, JsonNode room, View view, Long after, String from, String label) {
        Admission.Slot mine = perToken.admit(reader.tokenId());
        if (!slots.tryAcquire()) {
            mine.close();
            throw Problem.unavailable("this instance serves " + config.get(StreamSettings.MAX_CLIENTS)
                    + " room streams already (stream.max.clients); try again or another instance");
        }
        try {
            RoomStream rooms = stream();
            long firstOffset = room.path("firstOffset").asLong();
            // The first event the client is sent comes after `shownAfter`; the reader starts at `readFrom`, which
            // is earlier in the blocks view so that blocks open at that point can be assembled whole.
            long shownAfter;
            if (after != null) {
                shownAfter = Math.max(after, firstOffset - 1);
            } else if (view == View.AG_UI || view == View.SESSION) {
                // These clients start with a snapshot of what the fold has applied, then follow.
                shownAfter = Math.max(room.path("lastOffset").asLong(), firstOffset - 1);
            } else if ("now".equals(from)) {
                shownAfter = rooms.endOffset(roomId) - 1;
            } else {
                shownAfter = firstOffset - 1;
            }
            long maxHeld = config.get(StreamSettings.MAX_BUFFERED_BYTES);
            long turnStart = room.path("activeTurn").path("startOffset").asLong(-1);
            long readFrom = switch (view) {
                case BLOCKS -> blocksReadFrom(room, shownAfter);
                case AG_UI, SESSION -> firstOffset; // the snapshot is built from the room's whole stream
                case AI_SDK -> turnStart >= firstOffset ? turnStart : firstOffset;
                case RAW, DURABLE -> shownAfter + 1;
            };
            StreamView renderer = switch (view) {
                case BLOCKS -> new StreamView.Blocks(config.get(EventSettings.BLOCK_MAX_BYTES), maxHeld);
                case AG_UI -> {
                    String runId = room.path("runId").asText(null);
                    yield new StreamView.AgUi(
                            new AgUiTranslator(roomId, label, maxHeld),
                            shownAfter,
                            runId == null ? List::of : () -> openInterrupts(reader, runId));
                }
                case SESSION -> new StreamView.Session(new SessionEventsTranslator(roomId, maxHeld), shownAfter);
                case AI_SDK -> new StreamView.AiSdk(new UiMessageTranslator(maxHeld, false), label);
                case DURABLE ->
                    new StreamView.Durable(
                            shownAfter,
                            label,
                            "now".equals(from),
                            room.path("closed").asBoolean());
                case RAW -> new StreamView.Raw();
            };
            RoomStream.Subscription subscription = rooms.subscribe(
                    roomId,
                    RoomStream.From.after(readFrom - 1),
                    RoomStream.OnFull.END,
                    maxHeld,
                    budgets.computeIfAbsent(
                            reader.tokenId(),
                            id -> new RoomStream.Budget(config.get(StreamSettings.MAX_BUFFERED_BYTES_PER_PRINCIPAL))));
            return new Client(roomId, reader, mine, renderer, subscription, shownAfter, rooms.partitionOf(roomId));
        } catch (RuntimeException e) {
            slots.release();
            mine.close();
            throw e;
        }
    }

    /** {@code work}, run on a thread of the streams' pool (a long poll waits there, not on an HTTP thread). */
    <T> CompletableFuture<T> async(Callable<T> work) {
        CompletableFuture<T> result = new CompletableFuture<>();
        try {
            writers.execute(() -> {
                try {
                    result.complete(work.call());
                } catch (Exception e) {
                    result.completeExceptionally(e);
                }
            });
        } catch (RejectedExecutionException e) {
            result.completeExceptionally(Problem.unavailable("the API is stopping"));
        }
        return result;
    }

    /** Starts writing to {@code client} through {@code transport}, on a thread of its own. */
    void serve(Client client, Transport transport) {
        client.transport = transport;
        clients.add(client);
        if (tokens.find(client.reader.tokenId()).isEmpty()) {
            // Revoked since the request was authenticated, before the client was listed for revocations.
            client.stop("token-revoked");
        }
        writers.execute(client);
    }

    /** What a bounded read of a room gave: its events, the offset to read on from, whether it reached the end. */
    record Batch(List<RoomStream.Entry> entries, long next, boolean upToDate) {}

    /** Where a {@link #scan} stopped: the offset to read on from, and whether it reached the room's end. */
    private record Scanned(long next, boolean upToDate) {}

    /** How long a scan waits at most for the room's partition to be read to its end. */
    private static final long READ_TO_END_MS = 30_000;

    /**
     * Reads the room's events after cursor {@code after} up to the end of its partition as it is now, at most {@code
     * maxEvents} and about {@code maxBytes} (always one); when there are none and {@code waitMs} is positive, waits
     * that long for the next (a long poll). With {@code skip}, only finds the end: the events before it are not
     * kept. Counted as a stream against the instance's and the token's limits while it reads.
     */
    Batch read(
            Reader reader,
            String roomId,
            JsonNode room,
            long after,
            boolean skip,
            long waitMs,
            int maxEvents,
            long maxBytes)
            throws InterruptedException {
        List<RoomStream.Entry> entries = new ArrayList<>();
        long[] bytes = {0};
        Scanned scanned = scan(reader, roomId, room, after, skip, waitMs, entry -> {
            if (!entries.isEmpty() && (entries.size() >= maxEvents || bytes[0] >= maxBytes)) {
                return false;
            }
            entries.add(entry);
            bytes[0] += entry.event().getPayload().toString().length();
            return true;
        });
        return new Batch(entries, scanned.next(), scanned.upToDate());
    }

    /**
     * Hands {@code take} the room's events after cursor {@code after}, in order, up to the end of its partition as it
     * is now, or until {@code take} refuses one (which is not read: the scan goes on from it next time); with {@code
     * skip} it only finds the end; when there were none and {@code waitMs} is positive, waits that long for the next.
     */
    private Scanned scan(
            Reader reader,
            String roomId,
            JsonNode room,
            long after,
            boolean skip,
            long waitMs,
            java.util.function.Predicate<RoomStream.Entry> take)
            throws InterruptedException {
        Admission.Slot mine = perToken.admit(reader.tokenId());
        if (!slots.tryAcquire()) {
            mine.close();
            throw Problem.unavailable("this instance serves " + config.get(StreamSettings.MAX_CLIENTS)
                    + " room streams already (stream.max.clients); try again or another instance");
        }
        long from = Math.max(after, room.path("firstOffset").asLong() - 1);
        try (mine;
                RoomStream.Subscription subscription = stream()
                        .subscribe(
                                roomId,
                                RoomStream.From.after(from),
                                RoomStream.OnFull.END,
                                config.get(StreamSettings.MAX_BUFFERED_BYTES),
                                budgets.computeIfAbsent(
                                        reader.tokenId(),
                                        id -> new RoomStream.Budget(
                                                config.get(StreamSettings.MAX_BUFFERED_BYTES_PER_PRINCIPAL))))) {
            long next = from + 1;
            boolean took = false;
            long start = System.nanoTime();
            long waitUntil = start + TimeUnit.MILLISECONDS.toNanos(waitMs);
            boolean skipping = skip;
            while (true) {
                long end = subscription.caughtUpTo();
                List<RoomStream.Entry> got = subscription.poll(Duration.ofMillis(end >= 0 ? 0 : 20));
                for (RoomStream.Entry entry : got) {
                    if (!skipping) {
                        if (!take.test(entry)) {
                            return new Scanned(next, false);
                        }
                        took = true;
                    }
                    next = entry.cursor() + 1;
                }
                if (!got.isEmpty()) {
                    continue;
                }
                if (!subscription.isOpen()) {
                    // Overflowed (or its reader failed): what was read stands; the client reads on from `next`.
                    if (!took && subscription.endReason() == RoomStream.EndReason.FAILED) {
                        throw Problem.unavailable("the room's events could not be read; try again");
                    }
                    return new Scanned(next, false);
                }
                if (end >= 0) {
                    next = Math.max(next, end);
                    long left = waitUntil - System.nanoTime();
                    if (took || left <= 0) {
                        return new Scanned(next, true);
                    }
                    // A long poll, caught up with nothing new: wait for the room's next event, then take what came.
                    skipping = false;
                    List<RoomStream.Entry> arrived = subscription.poll(Duration.ofNanos(left));
                    if (arrived.isEmpty()) {
                        return new Scanned(Math.max(next, subscription.caughtUpTo()), true);
                    }
                    for (RoomStream.Entry entry : arrived) {
                        if (!take.test(entry)) {
                            return new Scanned(next, false);
                        }
                        took = true;
                        next = entry.cursor() + 1;
                    }
                    continue;
                }
                if (System.nanoTime() - start > TimeUnit.MILLISECONDS.toNanos(READ_TO_END_MS)) {
                    throw Problem.unavailable("the room's partition was not read to its end within "
                            + READ_TO_END_MS / 1000 + " s; try again");
                }
            }
        } finally {
            slots.release();
        }
    }

    /**
     * Where the blocks view reads from to show everything after {@code shownAfter} whole: the start of every
     * block still open in the room's state, and everything the fold had not applied yet; from the room's start
     * when the client resumes from before what the state reflects.
     */
    private static long blocksReadFrom(JsonNode room, long shownAfter) {
        long lastApplied = room.path("lastOffset").asLong();
        if (shownAfter < lastApplied) {
            return room.path("firstOffset").asLong();
        }
        long from = lastApplied + 1;
        for (JsonNode block : room.path("openBlocks")) {
            from = Math.min(from, block.path("startOffset").asLong());
        }
        return from;
    }

    private static View view(String view) {
        if (view == null || view.equals("raw")) {
            return View.RAW;
        }
        if (view.equals("blocks")) {
            return View.BLOCKS;
        }
        throw Problem.badRequest("view must be raw or blocks", "view");
    }

    /** The cursor to resume after: {@code Last-Event-ID} (as EventSource sends it) or {@code ?after=}. */
    private static Long resumeCursor(Context ctx) {
        String header = ctx.header("Last-Event-ID");
        String param = ctx.queryParam("after");
        String value = header != null && !header.isBlank() ? header.strip() : param;
        if (value == null) {
            return null;
        }
        try {
            long cursor = Long.parseLong(value);
            if (cursor < -1 || cursor > Requests.MAX_WHOLE_NUMBER) {
                throw new NumberFormatException();
            }
            return cursor;
        } catch (NumberFormatException e) {
            throw Problem.badRequest(
                    "the cursor to resume after must be an event id this stream sent, was '" + value + "'",
                    header != null ? "Last-Event-ID" : "after");
        }
    }

    private synchronized RoomStream stream() {
        if (closed) {
            throw Problem.unavailable("the API is stopping");
        }
        if (stream == null) {
            stream = RoomStream.create(config, sealing::open);
        }
        return stream;
    }

    /** Ends every stream (each is sent an {@code end} event with reason {@code shutdown}) and stops. */
    @Override
    public void close() {
        RoomStream current;
        synchronized (this) {
            closed = true;
            current = stream;
        }
        if (current != null) {
            current.close();
        }
        writers.shutdownNow();
        try {
            if (!writers.awaitTermination(10, TimeUnit.SECONDS)) {
                log.warn("{} room streams did not end within 10 s", clients.size());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * How a client is written to: an HTTP response of server-sent events, or a WebSocket. Each call blocks until
     * what it sends is handed to the connection (a slow client slows its own writer only); an {@link IOException}
     * means the client left.
     */
    interface Transport {

        /** Before the first event: for SSE, the reconnection delay and a comment. */
        void open(String roomId, long shownAfter) throws IOException;

        /** Sends {@code events}, in order. */
        void send(List<StreamView.Event> events) throws IOException;

        /** The room has been quiet for a heartbeat. */
        void heartbeat() throws IOException;

        /** The stream ends for {@code reason} ({@code message}: why, or null), after {@code lastCursor}. */
        void end(String reason, String message, long lastCursor) throws IOException;

        /** The stream is over (ended, or the client left): releases the connection. */
        default void close() {}
    }

    /** Server-sent events on an HTTP response, each as its view formats it. */
    static final class SseTransport implements Transport {
        private final OutputStream output;
        private final StreamView view;

        SseTransport(OutputStream output, StreamView view) {
            this.output = output;
            this.view = view;
        }

        @Override
        public void open(String roomId, long shownAfter) throws IOException {
            write("retry: " + RETRY_MS + "\n: room " + roomId + " after cursor " + shownAfter + "\n\n");
        }

        @Override
        public void send(List<StreamView.Event> events) throws IOException {
            if (events.isEmpty()) {
                return;
            }
            StringBuilder text = new StringBuilder();
            for (StreamView.Event event : events) {
                text.append(view.format(event));
            }
            write(text.toString());
        }

        @Override
        public void heartbeat() throws IOException {
            write(": heartbeat\n\n");
        }

        @Override
        public void end(String reason, String message, long lastCursor) throws IOException {
            write(view.ending(reason, message, lastCursor));
        }

        private void write(String text) throws IOException {
            if (text.isEmpty()) {
                return;
            }
            output.write(text.getBytes(StandardCharsets.UTF_8));
            output.flush();
        }
    }

    /** One client: its subscription, what it was sent last, and the thread writing to it. */
    final class Client implements Runnable {
        private final String roomId;
        private final Reader reader;
        private final Admission.Slot tokenSlot;
        private final RoomStream.Subscription subscription;
        private final long shownAfter;
        private final int partition;
        private final StreamView renderer;
        private final CompletableFuture<Void> done = new CompletableFuture<>();
        private final AtomicBoolean finished = new AtomicBoolean();
        private Transport transport;
        private long lastCursor;
        /** Set when the stream must end at once (its token revoked, the client gone), with the reason to send. */
        private volatile String stopReason;

        private volatile Thread writer;

        Client(
                String roomId,
                Reader reader,
                Admission.Slot tokenSlot,
                StreamView renderer,
                RoomStream.Subscription subscription,
                long shownAfter,
                int partition) {
            this.roomId = roomId;
            this.reader = reader;
            this.tokenSlot = tokenSlot;
            this.subscription = subscription;
            this.shownAfter = shownAfter;
            this.partition = partition;
            this.renderer = renderer;
            this.lastCursor = shownAfter;
        }

        /** Completes when the stream is over. */
        CompletableFuture<Void> done() {
            return done;
        }

        /** Ends the stream at once, with {@code reason}: wakes its writer wherever it waits. */
        void stop(String reason) {
            stopReason = reason;
            Thread current = writer;
            if (current != null) {
                current.interrupt();
            }
        }

        @Override
        public void run() {
            writer = Thread.currentThread();
            try {
                if (stopReason != null) {
                    throw new InterruptedException();
                }
                transport.open(roomId, shownAfter);
                transport.send(show(renderer.opening()));
                while (true) {
                    List<RoomStream.Entry> entries = subscription.poll(heartbeat);
                    if (entries.isEmpty()) {
                        if (!subscription.isOpen()) {
                            end(endReason(subscription.endReason()), null);
                            return;
                        }
                        List<StreamView.Event> quiet = show(renderer.idle());
                        if (quiet.isEmpty()) {
                            transport.heartbeat();
                        } else {
                            transport.send(quiet);
                        }
                        if (renderer.over()) {
                            return;
                        }
                        continue;
                    }
                    List<StreamView.Event> batch = new ArrayList<>();
                    for (RoomStream.Entry entry : entries) {
                        String stop = accessEndsAt(entry);
                        if (stop != null) {
                            transport.send(batch);
                            end(
                                    stop,
                                    "the membership of " + reader.principal().name() + " ended at cursor "
                                            + entry.cursor());
                            return;
                        }
                        for (StreamView.Event event : renderer.render(entry)) {
                            if (renderer.filtersItself() || event.cursor() > shownAfter) {
                                batch.add(event);
                                lastCursor = Math.max(lastCursor, event.cursor());
                            }
                        }
                        if (renderer.over()) {
                            transport.send(batch);
                            return;
                        }
                        if (entry.event().getPayload() instanceof RoomDeleted && entry.cursor() > shownAfter) {
                            transport.send(batch);
                            end("deleted", "room " + roomId + " was deleted");
                            return;
                        }
                    }
                    transport.send(batch);
                }
            } catch (InterruptedException e) {
                String reason = stopReason;
                if (reason == null) {
                    Thread.currentThread().interrupt();
                }
                endQuietly(reason == null ? "shutdown" : reason);
            } catch (IOException e) {
                if (stopReason != null) {
                    endQuietly(stopReason);
                }
                log.debug("Room stream client of {} left: {}", roomId, e.toString());
            } catch (RuntimeException e) {
                log.error("Room stream of {} failed", roomId, e);
                endQuietly("error");
            } finally {
                finish();
            }
        }

        /** The events a view sends without a room event (at the start, when quiet), noted as sent. */
        private List<StreamView.Event> show(List<StreamView.Event> events) {
            for (StreamView.Event event : events) {
                lastCursor = Math.max(lastCursor, event.cursor());
            }
            return events;
        }

        /**
         * The reason to end the stream at {@code entry}, or null: a revocation of the reader's membership ends it
         * once the fold has applied the revocation (one refused by the fold ends nothing).
         */
        private String accessEndsAt(RoomStream.Entry entry) {
            if (entry.cursor() <= shownAfter
                    || !(entry.event().getPayload() instanceof MemberRevoked revoked)
                    || !revoked.getPrincipal().equals(reader.principal().name())
                    || Access.readsEveryRoom(reader.principal())) {
                return null;
            }
            try {
                access.readable(
                        reader.caller(),
                        reader.principal(),
                        roomId,
                        new ReadPosition(EntityKind.ROOM, partition, entry.cursor()),
                        RECHECK_TIMEOUT_MS);
                return null;
            } catch (Problem problem) {
                return problem.status() == 403 ? "revoked" : problem.status() == 404 ? "deleted" : "unavailable";
            }
        }

        private String endReason(RoomStream.EndReason reason) {
            return switch (reason) {
                case OVERFLOW -> "slow-consumer";
                case STREAM_CLOSED, CLOSED -> "shutdown";
                case FAILED -> "unavailable";
            };
        }

        private void end(String reason, String message) throws IOException {
            transport.end(reason, message, lastCursor);
        }

        private void endQuietly(String reason) {
            try {
                end(reason, null);
            } catch (IOException | RuntimeException e) {
                log.debug("Could not tell a room stream client of {} it ends: {}", roomId, e.toString());
            }
        }

        /** Releases what the client held: its slots, its subscription, its connection. Once, however often called. */
        void finish() {
            if (!finished.compareAndSet(false, true)) {
                return;
            }
            clients.remove(this);
            slots.release();
            tokenSlot.close();
            subscription.close();
            if (transport != null) {
                transport.close();
            }
            done.complete(null);
        }
    }
}
