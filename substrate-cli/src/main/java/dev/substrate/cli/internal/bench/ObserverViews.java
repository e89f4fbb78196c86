package dev.substrate.cli.internal.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.substrate.cli.internal.ApiClient;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.IntFunction;

/**
 * The stream bench's observers of a room's other views, one client per room, as a UI each would follow it: the
 * WebSocket of session events, the AI SDK's UI message stream, and Durable Streams long polls. Each tells what it
 * received as it arrives: an event id (the WebSocket's messages and the long polls' events carry it) or, for the AI
 * SDK's chunks, the room and cursor (the SSE id) of the event a chunk came from.
 */
final class ObserverViews {

    private static final ObjectMapper JSON = new ObjectMapper();

    private ObserverViews() {}

    /**
     * A WebSocket per room ({@code /v1/rooms/{id}/ws}); each counts down {@code opened} at its snapshot and hands
     * the event id of every later message to {@code arrived}.
     */
    static AutoCloseable webSockets(
            String url,
            IntFunction<String> tokenOf,
            List<String> roomIds,
            Consumer<String> arrived,
            CountDownLatch opened,
            PrintWriter progress) {
        List<WebSocket> sockets = new ArrayList<>();
        for (int r = 0; r < roomIds.size(); r++) {
            // A client (and so a selector thread) a socket, as each browser tab has its own.
            HttpClient http = HttpClient.newHttpClient();
            WebSocket.Listener listener = new WebSocket.Listener() {
                private final StringBuilder partial = new StringBuilder();

                @Override
                public void onOpen(WebSocket socket) {
                    // Every message as it comes, as a browser's WebSocket delivers them (no demand, message by
                    // message).
                    socket.request(Long.MAX_VALUE);
                }

                @Override
                public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
                    partial.append(data);
                    if (last) {
                        String message = partial.toString();
                        partial.setLength(0);
                        String eventId = field(message, "\"eventId\":\"");
                        if (eventId != null) {
                            arrived.accept(eventId);
                        } else if (message.startsWith("{\"event\":\"session:state\"")) {
                            opened.countDown();
                        }
                    }
                    return null;
                }

                @Override
                public void onError(WebSocket socket, Throwable error) {
                    progress.println("a WebSocket observer ended: " + error);
                }
            };
            sockets.add(http.newWebSocketBuilder()
                    .header("Authorization", "Bearer " + tokenOf.apply(r))
                    .buildAsync(
                            URI.create(url.replaceFirst("^http", "ws") + "/v1/rooms/" + roomIds.get(r) + "/ws"),
                            listener)
                    .join());
        }
        return () -> sockets.forEach(socket -> socket.sendClose(WebSocket.NORMAL_CLOSURE, "done"));
    }

    /**
     * The AI SDK's UI message stream of each room's active turn ({@code /v1/rooms/{id}/ai-sdk/stream}), each on a
     * thread of its own; each counts down {@code opened} at its {@code start} chunk and hands the room and cursor of
     * every later chunk to {@code arrived}.
     */
    static AutoCloseable aiSdkStreams(
            String url,
            IntFunction<String> tokenOf,
            List<String> roomIds,
            BiConsumer<String, Long> arrived,
            CountDownLatch opened,
            PrintWriter progress) {
        AtomicBoolean open = new AtomicBoolean(true);
        for (int r = 0; r < roomIds.size(); r++) {
            String roomId = roomIds.get(r);
            ApiClient api = new ApiClient(url, tokenOf.apply(r));
            Thread reader = new Thread(
                    () -> {
                        try {
                            api.stream("/v1/rooms/" + roomId + "/ai-sdk/stream", Map.of(), event -> {
                                if (event.data().startsWith("{\"type\":\"start\"")) {
                                    opened.countDown();
                                } else if (event.id() != null && event.data().startsWith("{\"type\":\"text-delta\"")) {
                                    arrived.accept(roomId, Long.parseLong(event.id()));
                                }
                                return open.get();
                            });
                        } catch (RuntimeException e) {
                            progress.println("an AI SDK observer of " + roomId + " ended: " + e.getMessage());
                        }
                    },
                    "bench-ai-sdk-" + roomId);
            reader.setDaemon(true);
            reader.start();
        }
        return () -> open.set(false);
    }

    /**
     * A Durable Streams long-poll reader per room ({@code /v1/rooms/{id}/ds?live=long-poll}, from {@code now}), each
     * on a thread of its own, asking again from the offset each answer gave; each counts down {@code opened} at the
     * first probe (an event id starting {@code probe-}) and hands the event id of every event to {@code arrived}.
     */
    static AutoCloseable longPolls(
            String url,
            IntFunction<String> tokenOf,
            List<String> roomIds,
            Consumer<String> arrived,
            CountDownLatch opened,
            PrintWriter progress) {
        AtomicBoolean open = new AtomicBoolean(true);
        HttpClient http =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        List<Thread> readers = new ArrayList<>();
        for (int r = 0; r < roomIds.size(); r++) {
            String roomId = roomIds.get(r);
            String token = tokenOf.apply(r);
            Thread reader = new Thread(
                    () -> {
                        String offset = "now";
                        boolean probed = false;
                        while (open.get()) {
                            try {
                                HttpResponse<String> answer = http.send(
                                        HttpRequest.newBuilder(URI.create(url + "/v1/rooms/" + roomId
                                                        + "/ds?live=long-poll&offset=" + offset))
                                                .header("Authorization", "Bearer " + token)
                                                .timeout(Duration.ofSeconds(60))
                                                .build(),
                                        HttpResponse.BodyHandlers.ofString());
                                if (answer.statusCode() == 200) {
                                    for (JsonNode event : JSON.readTree(answer.body())) {
                                        String eventId = event.path("eventId").asText();
                                        if (!probed && eventId.startsWith("probe-")) {
                                            probed = true;
                                            opened.countDown();
                                        }
                                        arrived.accept(eventId);
                                    }
                                } else if (answer.statusCode() != 204) {
                                    progress.println("a long poll of " + roomId + " answered " + answer.statusCode());
                                    TimeUnit.MILLISECONDS.sleep(100); // then ask again, as the client does
                                }
                                offset = answer.headers()
                                        .firstValue("Stream-Next-Offset")
                                        .orElse(offset);
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                                return;
                            } catch (Exception e) {
                                if (open.get()) {
                                    progress.println("a long poll of " + roomId + " failed: " + e);
                                }
                            }
                        }
                    },
                    "bench-long-poll-" + roomId);
            reader.setDaemon(true);
            reader.start();
            readers.add(reader);
        }
        return () -> open.set(false);
    }

    /** The value of a JSON string field by its opening ({@code "name":"}), without parsing the message. */
    static String field(String json, String opening) {
        int at = json.indexOf(opening);
        if (at < 0) {
            return null;
        }
        int from = at + opening.length();
        return json.substring(from, json.indexOf('"', from));
    }
}
