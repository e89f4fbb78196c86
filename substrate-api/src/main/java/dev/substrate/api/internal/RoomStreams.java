package dev.substrate.api.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.substrate.api.HttpApi;
import dev.substrate.api.auth.Principal;
import dev.substrate.api.auth.TokenStore;
import dev.substrate.config.EventSettings;
import dev.substrate.config.StreamSettings;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.entity.EntityKind;
import dev.substrate.events.room.MemberRevoked;
import dev.substrate.events.room.RoomDeleted;
import dev.substrate.fold.FoldLimits;
import dev.substrate.stream.AgUiTranslator;
import dev.substrate.stream.RoomStream;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /v1/rooms/{roomId}/stream}: a room's events as server-sent events, caught up from where the client
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
    private final TokenStore tokens;
    private final Duration heartbeat;
    private final Semaphore slots;
    private final Admission perToken;
    private final Map<String, RoomStream.Budget> budgets = new ConcurrentHashMap<>();
    private final Set<Client> clients = ConcurrentHashMap.newKeySet();
    private final ExecutorService writers;
    private RoomStream stream;
    private boolean closed;

    RoomStreams(SubstrateConfig config, RoomAccess access, TokenStore tokens) {
        this.config = config;
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
            if (client.tokenId.equals(tokenId)) {
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

    /** What a client sees: every event as written, blocks assembled from their deltas, or AG-UI events. */
    private enum View {
        RAW,
        BLOCKS,
        AG_UI
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
        if ("POST".equals(ctx.method().name())) {
            // Read as a stream, keeping two fields: the input's messages, tools and state can be large, and an
            // observer's request must cost this instance no more memory than a small one.
            Map<String, String> input = Requests.streamedFields(
                    ctx,
                    HttpApi.maxRequestBytes(config.get(EventSettings.MAX_EVENT_BYTES)),
                    Set.of("threadId", "runId"));
            String threadId = input.get("threadId");
            if (threadId != null && !threadId.equals(roomId)) {
                throw Problem.badRequest(
                        "threadId is the room the AG-UI view follows; it must be " + roomId + ", not " + threadId,
                        "threadId");
            }
            runId = input.getOrDefault("runId", "");
            if (runId.isBlank()) {
                throw Problem.badRequest("runId is required (RunAgentInput.runId)", "runId");
            }
        } else {
            String asked = ctx.queryParam("runId");
            runId = asked == null || asked.isBlank() ? UUID.randomUUID().toString() : asked;
        }
        if (runId.length() > FoldLimits.MAX_ID_CHARS) {
            throw Problem.badRequest("runId is longer than " + FoldLimits.MAX_ID_CHARS + " characters", "runId");
        }
        stream(ctx, roomId, View.AG_UI, resumeCursor(ctx), null, runId);
    }

    private void stream(Context ctx, String roomId, View view, Long after, String from, String runId) {
        Principal principal = Requests.principal(ctx);
        Map<String, String> caller = Cluster.caller(ctx);
        JsonNode room = access.readable(caller, principal, roomId, ReadPosition.from(ctx), Requests.timeoutMs(ctx));
        String tokenId = Requests.tokenId(ctx);
        Admission.Slot mine = perToken.admit(tokenId);
        if (!slots.tryAcquire()) {
            mine.close();
            throw Problem.unavailable("this instance serves " + config.get(StreamSettings.MAX_CLIENTS)
                    + " room streams already (stream.max.clients); try again or another instance");
        }
        Client client;
        try {
            RoomStream rooms = stream();
            long firstOffset = room.path("firstOffset").asLong();
            // The first event the client is sent comes after `shownAfter`; the reader starts at `readFrom`, which
            // is earlier in the blocks view so that blocks open at that point can be assembled whole.
            long shownAfter;
            if (after != null) {
                shownAfter = Math.max(after, firstOffset - 1);
            } else if (view == View.AG_UI) {
                // AG-UI clients start with a snapshot of what the fold has applied, then follow.
                shownAfter = Math.max(room.path("lastOffset").asLong(), firstOffset - 1);
            } else if ("now".equals(from)) {
                shownAfter = rooms.endOffset(roomId) - 1;
            } else {
                shownAfter = firstOffset - 1;
            }
            long readFrom = switch (view) {
                case BLOCKS -> blocksReadFrom(room, shownAfter);
                case AG_UI -> firstOffset; // the snapshot is built from the room's whole stream
                case RAW -> shownAfter + 1;
            };
            StreamView renderer = switch (view) {
                case BLOCKS ->
                    new StreamView.Blocks(
                            config.get(EventSettings.BLOCK_MAX_BYTES), config.get(StreamSettings.MAX_BUFFERED_BYTES));
                case AG_UI ->
                    new StreamView.AgUi(
                            new AgUiTranslator(roomId, runId, config.get(StreamSettings.MAX_BUFFERED_BYTES)),
                            shownAfter);
                case RAW -> new StreamView.Raw();
            };
            RoomStream.Subscription subscription = rooms.subscribe(
                    roomId,
                    RoomStream.From.after(readFrom - 1),
                    RoomStream.OnFull.END,
                    config.get(StreamSettings.MAX_BUFFERED_BYTES),
                    budgets.computeIfAbsent(
                            tokenId,
                            id -> new RoomStream.Budget(config.get(StreamSettings.MAX_BUFFERED_BYTES_PER_PRINCIPAL))));
            client = new Client(
                    roomId,
                    principal,
                    tokenId,
                    mine,
                    caller,
                    renderer,
                    subscription,
                    shownAfter,
                    rooms.partitionOf(roomId));
        } catch (RuntimeException e) {
            slots.release();
            mine.close();
            throw e;
        }
        ctx.status(200);
        ctx.contentType("text/event-stream; charset=utf-8");
        ctx.header("Cache-Control", "no-cache");
        ctx.header("X-Accel-Buffering", "no");
        ctx.future(() -> client.done);
        clients.add(client);
        if (tokens.find(tokenId).isEmpty()) {
            // Revoked since the request was authenticated, before the client was listed for revocations.
            client.stop("token-revoked");
        }
        try {
            client.output = ctx.res().getOutputStream();
            writers.execute(client);
        } catch (IOException | RuntimeException e) {
            client.finish();
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
            stream = RoomStream.create(config);
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

    /** One SSE client: its subscription, what it was sent last, and the thread writing to it. */
    private final class Client implements Runnable {
        private final String roomId;
        private final Principal principal;
        private final String tokenId;
        private final Admission.Slot tokenSlot;
        private final Map<String, String> caller;
        private final RoomStream.Subscription subscription;
        private final long shownAfter;
        private final int partition;
        private final StreamView renderer;
        private final CompletableFuture<Void> done = new CompletableFuture<>();
        private OutputStream output;
        private long lastCursor;
        /** Set when the stream must end at once (its token revoked), with the reason to send. */
        private volatile String stopReason;

        private volatile Thread writer;

        Client(
                String roomId,
                Principal principal,
                String tokenId,
                Admission.Slot tokenSlot,
                Map<String, String> caller,
                StreamView renderer,
                RoomStream.Subscription subscription,
                long shownAfter,
                int partition) {
            this.roomId = roomId;
            this.principal = principal;
            this.tokenId = tokenId;
            this.tokenSlot = tokenSlot;
            this.caller = caller;
            this.subscription = subscription;
            this.shownAfter = shownAfter;
            this.partition = partition;
            this.renderer = renderer;
            this.lastCursor = shownAfter;
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
                write("retry: " + RETRY_MS + "\n: room " + roomId + " after cursor " + shownAfter + "\n\n");
                while (true) {
                    List<RoomStream.Entry> entries = subscription.poll(heartbeat);
                    if (entries.isEmpty()) {
                        if (!subscription.isOpen()) {
                            end(endReason(subscription.endReason()), null);
                            return;
                        }
                        StringBuilder quiet = new StringBuilder();
                        for (StreamView.Event event : renderer.idle()) {
                            quiet.append(StreamView.sse(event));
                            lastCursor = event.cursor();
                        }
                        write(quiet.length() == 0 ? ": heartbeat\n\n" : quiet.toString());
                        if (renderer.over()) {
                            return;
                        }
                        continue;
                    }
                    StringBuilder batch = new StringBuilder();
                    for (RoomStream.Entry entry : entries) {
                        String stop = accessEndsAt(entry);
                        if (stop != null) {
                            write(batch.toString());
                            end(stop, "the membership of " + principal.name() + " ended at cursor " + entry.cursor());
                            return;
                        }
                        for (StreamView.Event event : renderer.render(entry)) {
                            if (renderer.filtersItself() || event.cursor() > shownAfter) {
                                batch.append(StreamView.sse(event));
                                lastCursor = event.cursor();
                            }
                        }
                        if (renderer.over()) {
                            write(batch.toString());
                            return;
                        }
                        if (entry.event().getPayload() instanceof RoomDeleted && entry.cursor() > shownAfter) {
                            write(batch.toString());
                            end("deleted", "room " + roomId + " was deleted");
                            return;
                        }
                    }
                    write(batch.toString());
                }
            } catch (InterruptedException e) {
                String reason = stopReason;
                if (reason == null) {
                    Thread.currentThread().interrupt();
                }
                endQuietly(reason == null ? "shutdown" : reason);
            } catch (IOException e) {
                log.debug("Room stream client of {} left: {}", roomId, e.toString());
            } catch (RuntimeException e) {
                log.error("Room stream of {} failed", roomId, e);
                endQuietly("error");
            } finally {
                finish();
            }
        }

        /**
         * The reason to end the stream at {@code entry}, or null: a revocation of the reader's membership ends it
         * once the fold has applied the revocation (one refused by the fold ends nothing).
         */
        private String accessEndsAt(RoomStream.Entry entry) {
            if (entry.cursor() <= shownAfter
                    || !(entry.event().getPayload() instanceof MemberRevoked revoked)
                    || !revoked.getPrincipal().equals(principal.name())
                    || Access.readsEveryRoom(principal)) {
                return null;
            }
            try {
                access.readable(
                        caller,
                        principal,
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
            write(renderer.ending(reason, message, lastCursor));
        }

        private void endQuietly(String reason) {
            try {
                end(reason, null);
            } catch (IOException e) {
                log.debug("Could not tell a room stream client of {} it ends: {}", roomId, e.toString());
            }
        }

        private void write(String text) throws IOException {
            if (text.isEmpty()) {
                return;
            }
            output.write(text.getBytes(StandardCharsets.UTF_8));
            output.flush();
        }

        void finish() {
            if (clients.remove(this)) {
                slots.release();
                tokenSlot.close();
            }
            subscription.close();
            done.complete(null);
        }
    }
}
