package dev.substrate.api.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.substrate.api.auth.TokenStore;
import io.javalin.http.Context;
import io.javalin.websocket.WsConfig;
import io.javalin.websocket.WsConnectContext;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;

/**
 * {@code GET /v1/rooms/{roomId}/ws}: a room's session events over a WebSocket, as a session UI written for the seeds'
 * system reads them ({@link StreamView.Session}): {@code {"event": "session:state" | "session:block:delta" | ...,
 * "cursor": N, "data": {...}}} messages, the snapshot first, then live. A client resumes after a cursor with {@code
 * ?cursor=}.
 *
 * <p>Access is the SSE stream's: the upgrade is decided like any route (its token, then {@link RoomAccess}) before
 * the connection becomes a WebSocket, and the same limits hold (a stream slot, the token's streams and buffered
 * bytes). A browser, which cannot set an {@code Authorization} header on a WebSocket, first asks {@code POST
 * /v1/rooms/{roomId}/ws-ticket} for a ticket (signed with the application's key, so any instance takes it; for this
 * room and token only, valid {@value #TICKET_MS} ms, taken once by the instance it is shown to) and carries it as
 * {@code ?ticket=}: the token itself never appears in a URL.
 *
 * <p>The server pings a quiet connection every {@code stream.heartbeat.ms}; clients answer with a pong (browsers and
 * the {@code ws} package do by themselves). The connection closes with a code and a reason that says where to resume:
 * 1013 (try again later) for a slow client or an instance that cannot serve it now, 1008 (policy) when the reader's
 * membership or token was revoked, 1001 when the instance stops, 1000 once the room was closed or deleted.
 */
final class RoomSockets {

    /** How long a ticket is valid after it is issued. */
    static final long TICKET_MS = 60_000;

    /** The least time one message may take to be handed to a client before it is closed as slow. */
    private static final long MIN_SEND_TIMEOUT_MS = 5_000;

    /** The largest message a client may send (clients have nothing to say; a ping of text is taken and ignored). */
    private static final long MAX_INCOMING_BYTES = 4 * 1024;

    private static final String READER = "substrate.ws.reader";
    private static final String ROOM = "substrate.ws.room";
    private static final String CLIENT = "substrate.ws.client";
    private static final String TICKET_PURPOSE = "ws-ticket";

    private final Cluster cluster;
    private final TokenStore tokens;
    private final RoomAccess access;
    private final RoomStreams streams;
    /** Tickets taken on this instance, until they expire: each is taken once. */
    private final Map<String, Long> taken = new ConcurrentHashMap<>();
    /** How long one message may take to be handed to a client: two heartbeats, at least five seconds. */
    private final long sendTimeoutMs;

    RoomSockets(Cluster cluster, TokenStore tokens, RoomAccess access, RoomStreams streams, Duration heartbeat) {
        this.sendTimeoutMs = Math.max(MIN_SEND_TIMEOUT_MS, 2 * heartbeat.toMillis());
        this.cluster = cluster;
        this.tokens = tokens;
        this.access = access;
        this.streams = streams;
    }

    /** POST /v1/rooms/{roomId}/ws-ticket: a ticket for the caller to open the room's WebSocket from a browser. */
    void ticket(Context ctx) {
        String roomId = ctx.pathParam("roomId");
        RoomStreams.Reader reader = RoomStreams.Reader.of(ctx);
        access.readable(reader.caller(), reader.principal(), roomId, ReadPosition.from(ctx), Requests.timeoutMs(ctx));
        long expiresAt = System.currentTimeMillis() + TICKET_MS;
        String claims = roomId + "\n" + reader.tokenId() + "\n" + expiresAt;
        String ticket = base64(claims.getBytes(StandardCharsets.UTF_8)) + "." + base64(mac(claims));
        ObjectNode answer = JsonNodeFactory.instance.objectNode();
        answer.put("ticket", ticket);
        answer.put("expiresAt", Instant.ofEpochMilli(expiresAt).toString());
        answer.put("url", "/v1/rooms/" + roomId + "/ws?ticket=" + ticket);
        ctx.header("Cache-Control", "no-store");
        ctx.json(answer);
    }

    /**
     * Authenticates an upgrade by its {@code ?ticket=}: 401 unless it is a ticket of this application for this room,
     * not expired, not taken before on this instance, and its token still valid.
     */
    void authenticate(Context ctx, String ticket) {
        String roomId = ctx.pathParam("roomId");
        int dot = ticket.indexOf('.');
        String claims;
        try {
            if (dot < 0 || ticket.length() > 2048) {
                throw new IllegalArgumentException("not a ticket");
            }
            claims = new String(Base64.getUrlDecoder().decode(ticket.substring(0, dot)), StandardCharsets.UTF_8);
            byte[] signature = Base64.getUrlDecoder().decode(ticket.substring(dot + 1));
            if (!MessageDigest.isEqual(signature, mac(claims))) {
                throw new IllegalArgumentException("not signed by this application");
            }
        } catch (IllegalArgumentException e) {
            throw Problem.unauthenticated("the ticket is not valid: ask POST /v1/rooms/" + roomId + "/ws-ticket");
        }
        String[] parts = claims.split("\n", -1);
        long now = System.currentTimeMillis();
        if (parts.length != 3 || !parts[0].equals(roomId)) {
            throw Problem.unauthenticated("the ticket is for another room");
        }
        long expiresAt = Long.parseLong(parts[2]);
        if (expiresAt < now) {
            throw Problem.unauthenticated("the ticket expired: ask POST /v1/rooms/" + roomId + "/ws-ticket again");
        }
        taken.values().removeIf(expiry -> expiry < now);
        if (taken.putIfAbsent(ticket, expiresAt) != null) {
            throw Problem.unauthenticated("the ticket was used already: each opens one WebSocket");
        }
        TokenStore.Token token = tokens.find(parts[1])
                .orElseThrow(() -> Problem.unauthenticated("the ticket's token is not valid (revoked, or expired)"));
        Requests.actAs(ctx, token);
    }

    /** A plain GET of the WebSocket's path, decided like the upgrade: 426, it speaks only WebSocket. */
    void withoutUpgrade(Context ctx) {
        String roomId = ctx.pathParam("roomId");
        RoomStreams.Reader reader = RoomStreams.Reader.of(ctx);
        access.readable(reader.caller(), reader.principal(), roomId, ReadPosition.from(ctx), Requests.timeoutMs(ctx));
        ctx.header("Upgrade", "websocket");
        throw Problem.ofStatus(426, "Upgrade Required", "GET /v1/rooms/" + roomId + "/ws is a WebSocket");
    }

    /** Before the upgrade: may the caller read the room (403, 404 answered as HTTP, before any WebSocket)? */
    void beforeUpgrade(Context ctx) {
        String roomId = ctx.pathParam("roomId");
        RoomStreams.Reader reader = RoomStreams.Reader.of(ctx);
        JsonNode room = access.readable(
                reader.caller(), reader.principal(), roomId, ReadPosition.from(ctx), Requests.timeoutMs(ctx));
        cursor(ctx.queryParam("cursor"));
        ctx.attribute(READER, reader);
        ctx.attribute(ROOM, room);
    }

    /** The WebSocket's handlers: start following at connect, stop at close. */
    void configure(WsConfig ws) {
        ws.onConnect(this::connected);
        ws.onMessage(message -> {
            // Clients have nothing to say; what they send is ignored (and bounded: MAX_INCOMING_BYTES).
        });
        ws.onClose(closed -> {
            RoomStreams.Client client = closed.attribute(CLIENT);
            if (client != null) {
                client.stop("client-gone");
            }
        });
        ws.onError(failed -> {
            RoomStreams.Client client = failed.attribute(CLIENT);
            if (client != null) {
                client.stop("client-gone");
            }
        });
    }

    private void connected(WsConnectContext ws) {
        RoomStreams.Reader reader = ws.attribute(READER);
        JsonNode room = ws.attribute(ROOM);
        ws.session.setMaxTextMessageSize(MAX_INCOMING_BYTES);
        ws.session.setMaxBinaryMessageSize(MAX_INCOMING_BYTES);
        if (reader == null || room == null) {
            ws.closeSession(1011, "not admitted");
            return;
        }
        RoomStreams.Client client;
        try {
            client = streams.admit(
                    reader,
                    ws.pathParam("roomId"),
                    room,
                    RoomStreams.View.SESSION,
                    cursor(ws.queryParam("cursor")),
                    null,
                    null);
        } catch (Problem problem) {
            ws.closeSession(
                    problem.status() == 429 || problem.status() == 503 ? 1013 : 1008, reason(problem.getMessage()));
            return;
        }
        ws.attribute(CLIENT, client);
        streams.serve(client, new Transport(ws.session, sendTimeoutMs));
    }

    /** {@code ?cursor=}: resume after it; none for a snapshot of the room as the fold has it. */
    private static Long cursor(String value) {
        if (value == null || value.isBlank()) {
            return null;
        }
        try {
            long cursor = Long.parseLong(value.strip());
            if (cursor < -1 || cursor > Requests.MAX_WHOLE_NUMBER) {
                throw new NumberFormatException();
            }
            return cursor;
        } catch (NumberFormatException e) {
            throw Problem.badRequest(
                    "cursor must be one this WebSocket sent (to resume after it), was '" + value + "'", "cursor");
        }
    }

    private byte[] mac(String claims) {
        return cluster.mac(TICKET_PURPOSE, claims.getBytes(StandardCharsets.UTF_8));
    }

    private static String base64(byte[] bytes) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    /** A close reason: at most 123 bytes of UTF-8, as the protocol allows. */
    private static String reason(String text) {
        String reason = text == null ? "" : text;
        while (reason.getBytes(StandardCharsets.UTF_8).length > 123) {
            reason = reason.substring(0, reason.length() - 1);
        }
        return reason;
    }

    /** Messages on one WebSocket: each event's data as a text message, a ping when quiet, a close with a code. */
    static final class Transport implements RoomStreams.Transport {
        private final Session session;
        private final long sendTimeoutMs;

        Transport(Session session, long sendTimeoutMs) {
            this.session = session;
            this.sendTimeoutMs = sendTimeoutMs;
        }

        @Override
        public void open(String roomId, long shownAfter) {
            // The snapshot (session:state) is the first message.
        }

        @Override
        public void send(List<StreamView.Event> events) throws IOException {
            // Jetty queues the frames in order: all of a batch go out, and the writer waits for the last one only.
            Callback.Completable last = null;
            for (StreamView.Event event : events) {
                last = new Callback.Completable();
                session.sendText(event.data().toString(), last);
            }
            if (last != null) {
                await(last);
            }
        }

        @Override
        public void heartbeat() throws IOException {
            Callback.Completable sent = new Callback.Completable();
            session.sendPing(ByteBuffer.allocate(0), sent);
            await(sent);
        }

        @Override
        public void end(String reason, String message, long lastCursor) {
            int code = switch (reason) {
                case "slow-consumer", "unavailable" -> 1013;
                case "revoked", "token-revoked" -> 1008;
                case "shutdown" -> 1001;
                case "deleted" -> 1000;
                default -> 1011;
            };
            if (session.isOpen()) {
                session.close(code, reason(reason + "; resume with ?cursor=" + lastCursor), Callback.NOOP);
            }
        }

        @Override
        public void close() {
            if (session.isOpen()) {
                session.close(1000, "", Callback.NOOP);
            }
        }

        private void await(Callback.Completable sent) throws IOException {
            try {
                sent.get(sendTimeoutMs, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("stopped while sending");
            } catch (ExecutionException e) {
                throw new IOException("the client left: " + e.getCause(), e.getCause());
            } catch (TimeoutException e) {
                session.close(1013, "slow-consumer: a message waited " + sendTimeoutMs + " ms", Callback.NOOP);
                throw new IOException("the client took no message for " + Duration.ofMillis(sendTimeoutMs));
            }
        }
    }
}
