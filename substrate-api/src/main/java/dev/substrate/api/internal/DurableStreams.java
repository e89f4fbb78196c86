package dev.substrate.api.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.substrate.config.StreamSettings;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.events.room.RoomClosed;
import dev.substrate.stream.RoomStream;
import io.javalin.http.Context;
import java.time.Instant;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ThreadLocalRandom;

/**
 * {@code GET|HEAD /v1/rooms/{roomId}/ds}: a room as a read-only Durable Streams stream in JSON mode (ElectricSQL's
 * protocol, which {@code @durable-streams/client} speaks): each message is a room event as the SSE stream sends it.
 *
 * <ul>
 *   <li>Offsets are opaque to clients: the room's cursor after the last event read, as 20 digits (so that they sort
 *       as they follow each other); {@code -1} is the room's start and {@code now} its end.
 *   <li>A catch-up read answers at most {@value #MAX_EVENTS} events (about {@value #MAX_BYTES} bytes) with {@code
 *       Stream-Next-Offset}, and {@code Stream-Up-To-Date} once it reached the end; {@code live=long-poll} waits up to
 *       {@code stream.long.poll.ms} for the next event and answers 204 if none came; {@code live=sse} follows the room
 *       as {@code data} and {@code control} events for about a minute.
 *   <li>{@code Stream-Closed: true} once the room is closed and read to its end; a deleted room is 404.
 *   <li>Writes ({@code PUT}, {@code POST}, {@code DELETE}) answer 405: rooms are appended to through Substrate's own
 *       routes, where the fold decides them.
 * </ul>
 *
 * <p>Every read asks the same decision as the room's SSE stream ({@link RoomAccess}) and counts, while it reads or
 * waits, as one of the token's streams ({@code stream.max.clients.per.principal}). Responses are {@code private}
 * (rooms are not public): a catch-up read that did not reach the end may be cached for a minute by the client's
 * cache, keyed by its offset; a read that reached the end, a long poll and {@code HEAD} are {@code no-store}.
 */
final class DurableStreams {

    /** The most events one catch-up or long-poll read answers. */
    static final int MAX_EVENTS = 1_000;

    /** About the most bytes of events one read answers (always at least one event). */
    static final long MAX_BYTES = 1024 * 1024;

    /** The epoch of the protocol's collapsing cursor: 2024-10-09T00:00:00Z, in 20-second intervals. */
    private static final long CURSOR_EPOCH_MS =
            Instant.parse("2024-10-09T00:00:00Z").toEpochMilli();

    private static final long CURSOR_INTERVAL_MS = 20_000;

    private final RoomAccess access;
    private final RoomStreams streams;
    private final long longPollMs;

    DurableStreams(SubstrateConfig config, RoomAccess access, RoomStreams streams) {
        this.access = access;
        this.streams = streams;
        this.longPollMs = config.get(StreamSettings.LONG_POLL).toMillis();
    }

    /** An offset as the protocol shows it: the cursor to read from next, as 20 digits. */
    static String offset(long next) {
        return String.format("%020d", Math.max(0, next));
    }

    /**
     * The collapsing cursor of a live response: the current 20-second interval since the protocol's epoch, or, when
     * the client's {@code cursor} is not behind it, a later one (by a random 1 to 180 intervals), so that it never
     * goes back.
     */
    static String cursor(String clientCursor) {
        long now = (System.currentTimeMillis() - CURSOR_EPOCH_MS) / CURSOR_INTERVAL_MS;
        if (clientCursor != null) {
            try {
                long theirs = Long.parseLong(clientCursor);
                if (theirs >= now) {
                    return Long.toString(
                            theirs + 1 + ThreadLocalRandom.current().nextLong(180));
                }
            } catch (NumberFormatException e) {
                // not one of ours: the current interval
            }
        }
        return Long.toString(now);
    }

    /** GET: a catch-up read, a long poll, or an SSE read. */
    void get(Context ctx) {
        String roomId = ctx.pathParam("roomId");
        String live = ctx.queryParam("live");
        String offset = ctx.queryParam("offset");
        if (live != null && !live.equals("long-poll") && !live.equals("sse")) {
            throw Problem.badRequest("live must be long-poll or sse", "live");
        }
        if (live != null && offset == null) {
            throw Problem.badRequest("a live read starts at an offset: -1, now, or one this stream gave", "offset");
        }
        boolean fromNow = "now".equals(offset);
        long after = fromNow ? -1 : after(offset);
        RoomStreams.Reader reader = RoomStreams.Reader.of(ctx);
        JsonNode room = access.readable(
                reader.caller(), reader.principal(), roomId, ReadPosition.from(ctx), Requests.timeoutMs(ctx));
        long from = fromNow ? lastApplied(room) : after;
        securityHeaders(ctx);
        if ("sse".equals(live)) {
            if (fromNow) {
                streams.follow(ctx, roomId, room, RoomStreams.View.DURABLE, null, "now", ctx.queryParam("cursor"));
            } else {
                streams.follow(ctx, roomId, room, RoomStreams.View.DURABLE, after, null, ctx.queryParam("cursor"));
            }
            return;
        }
        boolean longPoll = live != null;
        String clientCursor = ctx.queryParam("cursor");
        ctx.future(() -> streams.async(() -> streams.read(
                        reader, roomId, room, from, fromNow, longPoll ? longPollMs : 0, MAX_EVENTS, MAX_BYTES))
                .thenAccept(batch -> answer(ctx, room, after, fromNow, longPoll, clientCursor, batch))
                .exceptionally(failure -> {
                    Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                            ? failure.getCause()
                            : failure;
                    (cause instanceof Problem problem ? problem : Problem.internal()).writeTo(ctx);
                    return null;
                }));
    }

    private void answer(
            Context ctx,
            JsonNode room,
            long after,
            boolean fromNow,
            boolean longPoll,
            String clientCursor,
            RoomStreams.Batch batch) {
        boolean closed = room.path("closed").asBoolean();
        ArrayNode messages = JsonNodeFactory.instance.arrayNode();
        for (RoomStream.Entry entry : batch.entries()) {
            messages.add(StreamView.json(entry));
            closed |= entry.event().getPayload() instanceof RoomClosed;
        }
        ctx.header("Stream-Next-Offset", offset(batch.next()));
        if (batch.upToDate()) {
            ctx.header("Stream-Up-To-Date", "true");
            if (closed) {
                ctx.header("Stream-Closed", "true");
            }
        }
        if (longPoll) {
            ctx.header("Stream-Cursor", cursor(clientCursor));
        }
        if (longPoll && messages.isEmpty()) {
            ctx.header("Cache-Control", "no-store");
            ctx.status(204);
            return;
        }
        ctx.contentType("application/json");
        if (fromNow) {
            ctx.header("Cache-Control", "no-store");
            ctx.result("[]");
            return;
        }
        String etag = "\"" + ctx.pathParam("roomId") + ":" + offset(after + 1) + ":" + offset(batch.next()) + "\"";
        ctx.header("ETag", etag);
        ctx.header(
                "Cache-Control",
                batch.upToDate() || longPoll ? "no-store" : "private, max-age=60, stale-while-revalidate=300");
        if (etag.equals(ctx.header("If-None-Match"))) {
            ctx.status(304);
            return;
        }
        ctx.result(messages.toString());
    }

    /** HEAD: the stream's metadata: its content type and tail offset, and whether it is closed. */
    void head(Context ctx) throws InterruptedException {
        String roomId = ctx.pathParam("roomId");
        RoomStreams.Reader reader = RoomStreams.Reader.of(ctx);
        JsonNode room = access.readable(
                reader.caller(), reader.principal(), roomId, ReadPosition.from(ctx), Requests.timeoutMs(ctx));
        RoomStreams.Batch end = streams.read(reader, roomId, room, lastApplied(room), true, 0, MAX_EVENTS, MAX_BYTES);
        securityHeaders(ctx);
        ctx.contentType("application/json");
        ctx.header("Stream-Next-Offset", offset(end.next()));
        ctx.header("Cache-Control", "no-store");
        if (room.path("closed").asBoolean()) {
            ctx.header("Stream-Closed", "true");
        }
        ctx.status(200);
    }

    /** PUT, POST, DELETE: 405; a room is written through Substrate's own routes, where the fold decides each event. */
    void refuseWrite(Context ctx) {
        String roomId = ctx.pathParam("roomId");
        RoomStreams.Reader reader = RoomStreams.Reader.of(ctx);
        access.readable(reader.caller(), reader.principal(), roomId, ReadPosition.from(ctx), Requests.timeoutMs(ctx));
        ctx.header("Allow", "GET, HEAD");
        throw Problem.ofStatus(
                405,
                "Method Not Allowed",
                "a room's durable stream is read-only: append with POST /v1/rooms/" + roomId + "/events");
    }

    /**
     * Where a read of the room's end ({@code now}, {@code HEAD}) starts looking for it: after the last event the fold
     * applied, which is before the end, so that finding it reads only what followed, not the room's history.
     */
    private static long lastApplied(JsonNode room) {
        return room.path("lastOffset").asLong(-1);
    }

    /** The cursor after which a read starts: {@code -1} (or none) for the room's start, or an offset this gave. */
    private static long after(String offset) {
        if (offset == null || offset.equals("-1")) {
            return -1;
        }
        if (offset.length() != 20 || !offset.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw Problem.badRequest(
                    "offset must be -1, now, or an offset this stream gave (Stream-Next-Offset), was '" + offset + "'",
                    "offset");
        }
        long next = Long.parseLong(offset);
        if (next > Requests.MAX_WHOLE_NUMBER) {
            throw Problem.badRequest("offset is past any this stream gives", "offset");
        }
        return next - 1;
    }

    private static void securityHeaders(Context ctx) {
        ctx.header("X-Content-Type-Options", "nosniff");
        ctx.header("Cross-Origin-Resource-Policy", "cross-origin");
    }
}
