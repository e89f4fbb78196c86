package dev.substrate.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Asks {@code /ready} and reads other entities every 50 ms while a test runs, and remembers every answer that
 * was not 200.
 */
final class ReadinessWatch implements AutoCloseable {
    private final String url;
    private final String token;
    private final List<String> paths = new java.util.concurrent.CopyOnWriteArrayList<>(List.of("/ready"));
    private final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Thread thread;
    private volatile int rounds;

    private ReadinessWatch(String url, String token) {
        this.url = url;
        this.token = token;
        this.thread = new Thread(this::watch, "watch");
    }

    static ReadinessWatch start(String url, String token) {
        ReadinessWatch watch = new ReadinessWatch(url, token);
        watch.thread.setDaemon(true);
        watch.thread.start();
        return watch;
    }

    void alsoRead(String path) {
        paths.add(path);
    }

    private void watch() {
        while (running.get()) {
            for (String path : paths) {
                try {
                    HttpResponse<String> answer = ApiCalls.get(url + path, token);
                    if (answer.statusCode() != 200) {
                        failures.add(path + " " + answer.statusCode() + " " + answer.body());
                    }
                } catch (Exception e) {
                    failures.add(path + " " + e);
                }
            }
            rounds++;
            try {
                // The pace of the watcher, not a wait for a condition.
                Thread.sleep(50);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    void assertAnsweredThroughout() {
        int seen = rounds;
        await().atMost(Duration.ofSeconds(10)).until(() -> rounds > seen + 2);
        assertThat(failures).as("answers other than 200 while the test ran").isEmpty();
        assertThat(rounds).as("rounds of reads").isGreaterThan(3);
    }

    @Override
    public void close() {
        running.set(false);
        thread.interrupt();
    }
}
