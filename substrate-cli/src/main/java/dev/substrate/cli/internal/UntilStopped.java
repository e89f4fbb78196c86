package dev.substrate.cli.internal;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Blocks a server command until the process is asked to stop (Ctrl-C, SIGTERM), then holds the JVM's exit
 * until the command has closed what it started and {@linkplain #release() released} it. The closing happens on the command's own thread, where a
 * failure is reported, never inside the shutdown hook.
 */
public final class UntilStopped {

    private static final Logger log = LoggerFactory.getLogger(UntilStopped.class);
    private static final Duration GRACE = Duration.ofSeconds(60);

    private final CountDownLatch stopRequested = new CountDownLatch(1);
    private final CountDownLatch stopped = new CountDownLatch(1);

    private UntilStopped() {}

    /** Registers a shutdown hook that requests the stop and waits (up to a minute) for {@link #stopped()}. */
    public static UntilStopped onSignal() {
        UntilStopped until = new UntilStopped();
        Runtime.getRuntime().addShutdownHook(new Thread(until::requestStopAndWait, "substrate-shutdown"));
        return until;
    }

    private void requestStopAndWait() {
        stopRequested.countDown();
        try {
            if (!stopped.await(GRACE.toSeconds(), TimeUnit.SECONDS)) {
                log.warn("Substrate did not stop within {} s; exiting anyway", GRACE.toSeconds());
            }
        } catch (InterruptedException e) {
            log.warn("Interrupted while waiting for Substrate to stop", e);
            Thread.currentThread().interrupt();
        }
    }

    /** Tells the user how to stop, blocks until a stop is requested, then says the stop has begun. */
    public void await(PrintWriter out) throws InterruptedException {
        out.printf("Press Ctrl-C to stop.%n");
        out.flush();
        stopRequested.await();
        out.printf("Stopping...%n");
        out.flush();
    }

    /** Tells the user that everything is closed; call before {@link #release()}, which may end the JVM. */
    public void sayStopped(PrintWriter out) {
        out.printf("Stopped.%n");
        out.flush();
    }

    /** Releases the shutdown hook, letting the JVM exit. Call last, also when starting failed. */
    public void release() {
        stopped.countDown();
    }
}
