package dev.substrate.streams;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.apache.kafka.streams.KafkaStreams;

/**
 * Whether the fold is processing, as {@code GET /ready} and {@code GET /health} report it.
 *
 * <p><b>Ready</b> means this instance's fold is deciding events: it has restored its state once, is running or
 * in an ordinary rebalance (so that adding or removing an instance never makes every instance unready at once),
 * and no stream thread has failed in the last {@link #RECOVERY}. A thread that fails is replaced; a fold whose
 * threads keep failing stays unready for as long as they do, with the failure as the reason.
 *
 * <p><b>Live</b> means the process can still recover by itself: false only once Kafka Streams has stopped for
 * good after an error, when restarting the process is the remedy.
 */
public final class FoldHealth {

    /** How long the fold must go without a stream thread failing before it is ready again. */
    public static final Duration RECOVERY = Duration.ofSeconds(30);

    private final LongSupplier nanoTime;
    private volatile KafkaStreams.State state = KafkaStreams.State.CREATED;
    private volatile boolean restored;
    private volatile long lastFailureNanos;
    private volatile String lastFailure;
    private final AtomicLong threadFailures = new AtomicLong();
    private final AtomicLong recordsDeadLettered = new AtomicLong();

    /** Health judged on the JVM's monotonic clock. */
    public FoldHealth() {
        this(System::nanoTime);
    }

    /** Health judged on {@code nanoTime}, for tests. */
    FoldHealth(LongSupplier nanoTime) {
        this.nanoTime = nanoTime;
    }

    /** Kafka Streams' state listener. */
    void stateChanged(KafkaStreams.State newState) {
        state = newState;
        if (newState == KafkaStreams.State.RUNNING) {
            restored = true;
        }
    }

    /** A stream thread died with {@code error}; it is being replaced. */
    void threadFailed(Throwable error) {
        threadFailures.incrementAndGet();
        lastFailure = describe(error);
        lastFailureNanos = nanoTime.getAsLong();
    }

    /** A record the fold could not write was sent to the dead-letter topic instead. */
    void recordDeadLettered() {
        recordsDeadLettered.incrementAndGet();
    }

    /** Why the fold is not ready, or empty when it is. */
    public Optional<String> notReady() {
        KafkaStreams.State current = state;
        switch (current) {
            case PENDING_ERROR, ERROR:
                return Optional.of("the fold has stopped after an error"
                        + (lastFailure == null ? "" : ": " + lastFailure) + "; restart the process");
            case PENDING_SHUTDOWN, NOT_RUNNING:
                return Optional.of("the fold is stopping");
            default:
                break;
        }
        if (!restored) {
            return Optional.of("the fold is starting: restoring its state and joining the group");
        }
        String failure = lastFailure;
        if (failure != null) {
            long since = nanoTime.getAsLong() - lastFailureNanos;
            if (since < RECOVERY.toNanos()) {
                return Optional.of(
                        "a stream thread failed " + Duration.ofNanos(since).toSeconds()
                                + " s ago and is being replaced (" + failure + "); ready once the fold runs for "
                                + RECOVERY.toSeconds() + " s without a failure");
            }
        }
        return Optional.empty();
    }

    /** Why the process cannot recover by itself, or empty while it can. */
    public Optional<String> notLive() {
        KafkaStreams.State current = state;
        if (current == KafkaStreams.State.ERROR || current == KafkaStreams.State.PENDING_ERROR) {
            return notReady();
        }
        return Optional.empty();
    }

    /** How many stream threads have failed (and been replaced) since start. */
    public long threadFailures() {
        return threadFailures.get();
    }

    /** How many records the fold could not write and dead-lettered since start. */
    public long recordsDeadLettered() {
        return recordsDeadLettered.get();
    }

    private static String describe(Throwable error) {
        StringBuilder out = new StringBuilder();
        for (Throwable cause = error; cause != null && out.length() < 1000; cause = cause.getCause()) {
            if (out.length() > 0) {
                out.append(": ");
            }
            out.append(cause.getClass().getSimpleName());
            if (cause.getMessage() != null) {
                out.append(' ').append(cause.getMessage());
            }
            if (cause.getCause() == cause) {
                break;
            }
        }
        return out.length() > 1000 ? out.substring(0, 1000) + "…" : out.toString();
    }
}
