package dev.substrate.streams.internal;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Tells this instance's readers that its fold decided an event: a count that grows with every event the fold
 * records an outcome for (after the outcome, the last of its writes, is in the store), and a wake-up for the one
 * thread that waits on it. Reads waiting for a position ({@code ?position=}, {@code ?wait=applied}) are checked
 * when the fold moves instead of on a timer. A decision costs the fold an increment and a volatile read; it wakes the
 * waiter only while one is parked. Thread-safe.
 */
public final class DecisionSignal {

    private final AtomicLong decided = new AtomicLong();
    private volatile Thread waiter;

    /** The events decided so far: pass it to {@link #awaitAfter}. */
    public long decided() {
        return decided.get();
    }

    /**
     * Parks the calling thread until an event is decided after {@code seen} was read, or {@code maxNanos} pass, or it
     * is interrupted. One thread at a time waits (a later one takes the place of an earlier one, which then wakes at
     * its time limit).
     */
    public void awaitAfter(long seen, long maxNanos) {
        long deadline = System.nanoTime() + maxNanos;
        waiter = Thread.currentThread();
        try {
            for (long left = maxNanos;
                    decided.get() == seen && left > 0 && !Thread.currentThread().isInterrupted();
                    left = deadline - System.nanoTime()) {
                LockSupport.parkNanos(this, Math.min(left, TimeUnit.MILLISECONDS.toNanos(100)));
            }
        } finally {
            waiter = null;
        }
    }

    /** The fold decided an event and wrote its outcome. */
    void decidedOne() {
        decided.incrementAndGet();
        Thread parked = waiter;
        if (parked != null) {
            LockSupport.unpark(parked);
        }
    }
}
