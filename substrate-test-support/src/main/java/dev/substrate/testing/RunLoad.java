package dev.substrate.testing;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Sustained appends over HTTP, as a careful client makes them: worker threads each create runs one after
 * another, five events per run (RunCreated, three RunLabelled, RunStarted), every event with an id chosen
 * before it is first sent. An append that fails (the connection dropped, a 5xx) is sent again with the same
 * event id, to whatever URL {@code url} names by then, until it is acknowledged (202). Counts what was
 * acknowledged, so that a test can check all of it is in the state exactly once.
 */
public final class RunLoad implements AutoCloseable {

    /** Events each run gets: RunCreated, three RunLabelled, RunStarted. */
    public static final int EVENTS_PER_RUN = 5;

    private final Supplier<String> url;
    private final String token;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final Map<String, Integer> acknowledged = new ConcurrentHashMap<>();
    private final AtomicLong retries = new AtomicLong();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<Thread> workers = new ArrayList<>();
    private final List<Throwable> failures = new CopyOnWriteArrayList<>();

    private RunLoad(Supplier<String> url, String token) {
        this.url = url;
        this.token = token;
    }

    /**
     * Starts {@code workers} threads appending runs named {@code runPrefix-<worker>-<n>}.
     *
     * @param url the base URL of the API now (it may change, as when a process restarts on another port)
     * @param token a bearer token allowed to append runs
     */
    public static RunLoad start(Supplier<String> url, String token, String runPrefix, int workers) {
        RunLoad load = new RunLoad(url, token);
        for (int w = 0; w < workers; w++) {
            String prefix = runPrefix + "-" + w + "-";
            Thread thread = new Thread(() -> load.work(prefix), "run-load-" + w);
            thread.setDaemon(true);
            load.workers.add(thread);
            thread.start();
        }
        return load;
    }

    /** Acknowledged events by run id. */
    public Map<String, Integer> acknowledged() {
        return Map.copyOf(acknowledged);
    }

    /** How many appends were acknowledged so far. */
    public int acknowledgedEvents() {
        return acknowledged.values().stream().mapToInt(Integer::intValue).sum();
    }

    /** How many times an append was sent again after a failure. */
    public long retries() {
        return retries.get();
    }

    /**
     * Lets each worker finish the run it is on, and waits for them (up to three minutes).
     *
     * @throws IllegalStateException if a worker failed (an append was refused) or did not finish
     */
    public void stop() throws InterruptedException {
        running.set(false);
        for (Thread worker : workers) {
            worker.join(Duration.ofMinutes(3).toMillis());
            if (worker.isAlive()) {
                throw new IllegalStateException(worker.getName() + " did not finish its run in 3 minutes");
            }
        }
        if (!failures.isEmpty()) {
            IllegalStateException failure = new IllegalStateException("a worker failed", failures.get(0));
            failures.stream().skip(1).forEach(failure::addSuppressed);
            throw failure;
        }
    }

    @Override
    public void close() {
        running.set(false);
        workers.forEach(Thread::interrupt);
    }

    private void work(String runPrefix) {
        try {
            for (int n = 0; running.get(); n++) {
                String runId = runPrefix + n;
                for (int e = 0; e < EVENTS_PER_RUN; e++) {
                    appendUntilAcknowledged(runId, e);
                    acknowledged.merge(runId, 1, Integer::sum);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            failures.add(e);
        }
    }

    private void appendUntilAcknowledged(String runId, int index) throws InterruptedException {
        String eventId = runId + "-e" + index;
        String path;
        String body;
        if (index == 0) {
            path = "/v1/runs";
            body = "{\"runId\": \"" + runId + "\", \"eventId\": \"" + eventId + "\", \"scope\": \"shared\","
                    + " \"project\": \"project:load\", \"activation\": {\"surface\": \"operator\", \"actor\": \"ops\"}}";
        } else {
            path = "/v1/runs/" + runId + "/events";
            body = index == EVENTS_PER_RUN - 1
                    ? "{\"type\": \"RunStarted\", \"eventId\": \"" + eventId + "\"}"
                    : "{\"type\": \"RunLabelled\", \"eventId\": \"" + eventId + "\", \"labels\": {\"step" + index
                            + "\": \"" + index + "\"}}";
        }
        while (true) {
            try {
                HttpResponse<String> answer = http.send(
                        HttpRequest.newBuilder(URI.create(url.get() + path))
                                .timeout(Duration.ofSeconds(30))
                                .header("Authorization", "Bearer " + token)
                                .header("Content-Type", "application/json")
                                .POST(HttpRequest.BodyPublishers.ofString(body))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
                if (answer.statusCode() == 202) {
                    return;
                }
                if (answer.statusCode() < 500) {
                    throw new IllegalStateException("append " + eventId + " refused: " + answer.body());
                }
            } catch (IOException e) {
                // The server went away under the request: not acknowledged, so it is sent again.
            }
            retries.incrementAndGet();
            Thread.sleep(100); // a short back-off before sending again, as a client would
        }
    }
}
