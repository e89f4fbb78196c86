package dev.substrate.testing;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Flow;
import java.util.function.Consumer;

/**
 * One server-sent-events connection, read without a thread of its own: the JDK client hands it lines as they
 * arrive and it parses them into events (the {@code text/event-stream} rules: {@code id:}, {@code event:},
 * {@code data:} lines, a blank line ends an event, lines starting with {@code :} are comments).
 */
public final class SseConnection implements Flow.Subscriber<String>, AutoCloseable {

    /** One event as received. */
    public record Event(String id, String name, String data) {}

    private final List<Event> events = new CopyOnWriteArrayList<>();
    private final List<String> comments = new CopyOnWriteArrayList<>();
    private final Consumer<Event> onEvent;
    private volatile int status;
    private volatile boolean ended;
    private volatile Throwable failure;
    private volatile Flow.Subscription subscription;
    private String id;
    private String name;
    private final List<String> data = new ArrayList<>();

    private SseConnection(Consumer<Event> onEvent) {
        this.onEvent = onEvent;
    }

    /** Opens {@code url} with {@code headers} (such as {@code Authorization}, {@code Last-Event-ID}). */
    public static SseConnection open(HttpClient http, String url, Map<String, String> headers) {
        return open(http, url, headers, event -> {});
    }

    /** Like {@link #open(HttpClient, String, Map)}, calling {@code onEvent} on the client's thread per event. */
    public static SseConnection open(
            HttpClient http, String url, Map<String, String> headers, Consumer<Event> onEvent) {
        SseConnection connection = new SseConnection(onEvent);
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url))
                .timeout(Duration.ofMinutes(10))
                .header("Accept", "text/event-stream");
        headers.forEach(request::header);
        http.sendAsync(request.build(), info -> {
                    connection.status = info.statusCode();
                    return HttpResponse.BodySubscribers.fromLineSubscriber(connection);
                })
                .whenComplete((response, error) -> {
                    if (error != null) {
                        connection.failure = error;
                    }
                    connection.ended = true;
                });
        return connection;
    }

    /** The events received so far, in order. */
    public List<Event> events() {
        return List.copyOf(events);
    }

    /** The comments received so far (heartbeats). */
    public List<String> comments() {
        return List.copyOf(comments);
    }

    /** The response status; 0 until the headers arrived. */
    public int status() {
        return status;
    }

    /** Whether the server ended the stream (or the connection failed). */
    public boolean ended() {
        return ended;
    }

    /** Why the connection failed, if it did. */
    public Throwable failure() {
        return failure;
    }

    @Override
    public void onSubscribe(Flow.Subscription subscription) {
        this.subscription = subscription;
        subscription.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(String line) {
        if (line.isEmpty()) {
            if (!data.isEmpty() || name != null) {
                Event event = new Event(id, name == null ? "message" : name, String.join("\n", data));
                events.add(event);
                onEvent.accept(event);
            }
            name = null;
            data.clear();
        } else if (line.startsWith(":")) {
            comments.add(line.substring(1).strip());
        } else {
            int colon = line.indexOf(':');
            String field = colon < 0 ? line : line.substring(0, colon);
            String value = colon < 0 ? "" : line.substring(colon + 1);
            if (value.startsWith(" ")) {
                value = value.substring(1);
            }
            switch (field) {
                case "id" -> id = value;
                case "event" -> name = value;
                case "data" -> data.add(value);
                default -> {
                    // retry and unknown fields are not needed here
                }
            }
        }
    }

    @Override
    public void onError(Throwable throwable) {
        failure = throwable;
        ended = true;
    }

    @Override
    public void onComplete() {
        ended = true;
    }

    /** Closes the connection, as a client that goes away does. */
    @Override
    public void close() {
        Flow.Subscription current = subscription;
        if (current != null) {
            current.cancel();
        }
    }
}
