package dev.substrate.client;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Runs the client's sends on one thread of its own, in the order they were queued, so that no caller's thread waits
 * on Kafka (metadata, a full buffer). Callers add to a lock-free queue and wake the thread only when it is idle; it
 * then runs everything queued before it waits again. Under load that is one wake-up for many appends, where an
 * executor's blocking queue took a lock on both sides and woke the thread for nearly every append.
 *
 * <p>With a {@code sendNow} action (the producer's {@code flush}), each time the queue runs dry the thread asks Kafka
 * to send the batches it holds for {@code linger.ms} at once, and waits for them up to that linger: an append with
 * nothing behind it goes out without waiting, while appends made during that wait queue here and go out together
 * next, as large batches. If Kafka takes longer than the linger (a slow or failing broker), the thread goes on;
 * while that flush lasts, Kafka sends each batch at once. No append is held longer than the linger it would have
 * waited anyway.
 */
final class SendQueue {

    private final Queue<Runnable> queue = new ConcurrentLinkedQueue<>();
    /** Whether a drain is scheduled or running: set by the caller that wakes the thread, cleared by the drain. */
    private final AtomicBoolean draining = new AtomicBoolean();

    private final ExecutorService thread = daemon("substrate-client-sender");
    /** Runs {@link #sendNow}, which blocks until what it sent is acknowledged; null without one. */
    private final ExecutorService flusher;

    private final Runnable sendNow;
    private final long lingerMillis;
    /** The flush last started; read and written on the sender thread only. */
    private Future<?> flushing;

    /**
     * @param sendNow sends what the producer holds and waits for it (its {@code flush}), or null to leave batches
     *     to the producer's own linger
     * @param lingerMillis the producer's {@code linger.ms}: the longest wait for {@code sendNow}
     */
    SendQueue(Runnable sendNow, long lingerMillis) {
        this.sendNow = sendNow;
        this.lingerMillis = lingerMillis;
        this.flusher = sendNow == null ? null : daemon("substrate-client-flusher");
    }

    private static ExecutorService daemon(String name) {
        return Executors.newSingleThreadExecutor(runnable -> {
            Thread daemon = new Thread(runnable, name);
            daemon.setDaemon(true);
            return daemon;
        });
    }

    /**
     * Queues {@code send}; it runs after everything queued before it. {@code send} handles its own failures.
     *
     * @throws RejectedExecutionException once {@link #close} was called and {@code send} was not taken
     */
    void execute(Runnable send) {
        queue.add(send);
        if (!draining.compareAndSet(false, true)) {
            return; // a drain is scheduled or running, and takes it
        }
        try {
            thread.execute(this::drain);
        } catch (RejectedExecutionException closed) {
            draining.set(false);
            boolean mine = queue.remove(send);
            // Others may have queued behind this one, seeing the drain it tried to schedule: they run here, and
            // fail as their sends do on a closed producer, rather than wait for a thread that is gone.
            runQueued();
            if (mine) {
                throw closed;
            }
        }
    }

    private void drain() {
        do {
            try {
                if (runQueued() && sendNow != null) {
                    sendHeldBatches();
                }
            } finally {
                draining.set(false);
            }
        } while (!queue.isEmpty() && draining.compareAndSet(false, true));
    }

    /** Runs what is queued; whether anything was. */
    private boolean runQueued() {
        boolean ran = false;
        for (Runnable send = queue.poll(); send != null; send = queue.poll()) {
            send.run();
            ran = true;
        }
        return ran;
    }

    private void sendHeldBatches() {
        try {
            if (flushing == null || flushing.isDone()) {
                flushing = flusher.submit(sendNow);
            }
            flushing.get(lingerMillis, TimeUnit.MILLISECONDS);
        } catch (TimeoutException slow) {
            // Kafka answers slower than the linger: go on; while this flush lasts, batches are sent at once.
        } catch (ExecutionException | RejectedExecutionException e) {
            // The flush was interrupted or the client is closing: each send reports its own outcome.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Runs what is queued, refuses more, and waits up to {@code timeout} for that. A flush still waiting for
     * acknowledgements is stopped waiting: closing the producer after this sends and awaits what it holds.
     */
    void close(long timeout, TimeUnit unit) {
        thread.shutdown();
        try {
            if (!thread.awaitTermination(timeout, unit)) {
                thread.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            thread.shutdownNow();
        }
        if (flusher != null) {
            flusher.shutdownNow();
        }
    }
}
