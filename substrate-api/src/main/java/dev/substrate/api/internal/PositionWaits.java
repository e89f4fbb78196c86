package dev.substrate.api.internal;

import dev.substrate.streams.StateQueries;
import dev.substrate.topic.Topics;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * Reads that wait for the fold to reach a {@link ReadPosition}, without holding a thread: each wait is a future
 * that one watcher thread completes when the position is reached or fails when its time is up. The watcher looks at
 * the waits when one arrives and each time the fold decides an event on this instance ({@link
 * StateQueries#awaitDecisionAfter}), at most once every {@value #MIN_PASS_GAP_MICROS} µs however fast the fold
 * decides, and at least every {@link StateQueries#POSITION_RECHECK} (time limits, partitions that move). A position
 * the log does not have yet (a partition it lacks, an offset at or past the partition's end) is refused at once,
 * since no wait would reach it. One principal may have {@code http.position.waits.per.principal} waits at once; one
 * more is a 429.
 */
final class PositionWaits implements AutoCloseable {

    /**
     * The least time between two passes over the waits: a fold deciding thousands of events a second is not followed
     * one decision at a time.
     */
    private static final long MIN_PASS_GAP_MICROS = 500;

    /** Requests that must wait on their own thread (checks made inside an append): at most this many at once. */
    private static final int BLOCKING_WAITS = 32;

    private final Supplier<StateQueries> queries;
    private final Topics topics;
    private final Admin admin;
    private final int perPrincipal;
    private final Map<String, AtomicInteger> waiting = new ConcurrentHashMap<>();
    private final Queue<Wait> pending = new ConcurrentLinkedQueue<>();
    private final Map<TopicPartition, CompletableFuture<Long>> ends = new ConcurrentHashMap<>();
    private final Map<String, CompletableFuture<Integer>> partitionCounts = new ConcurrentHashMap<>();
    private final Semaphore blocking = new Semaphore(BLOCKING_WAITS);
    private final Thread watcher;
    private volatile boolean closed;

    PositionWaits(Supplier<StateQueries> queries, Topics topics, Admin admin, int perPrincipal) {
        this.queries = queries;
        this.topics = topics;
        this.admin = admin;
        this.perPrincipal = perPrincipal;
        this.watcher = new Thread(this::watch, "substrate-position-waits");
        watcher.setDaemon(true);
        watcher.start();
    }

    /** The watcher's loop: a pass over the waits, then a wait for the fold's next decision. */
    private void watch() {
        long gap = TimeUnit.MICROSECONDS.toNanos(MIN_PASS_GAP_MICROS);
        while (!closed) {
            long passStarted = System.nanoTime();
            StateQueries current;
            try {
                current = queries.get();
            } catch (RuntimeException e) {
                // Not served yet: the waits were not accepted before it was; nothing to check.
                LockSupport.parkNanos(StateQueries.POSITION_RECHECK.toNanos());
                continue;
            }
            // Read before the pass: a decision made during it brings the next pass at once.
            long seen = current.decided();
            pass(current);
            if (pending.isEmpty()) {
                LockSupport.parkNanos(StateQueries.POSITION_RECHECK.toNanos());
                continue;
            }
            long sincePass = System.nanoTime() - passStarted;
            if (sincePass < gap) {
                LockSupport.parkNanos(gap - sincePass);
            }
            current.awaitDecisionAfter(seen, StateQueries.POSITION_RECHECK);
        }
    }

    /** Reads waiting for a position on this instance now, for the metrics. */
    int waiting() {
        return pending.size();
    }

    /**
     * A future completed once this instance's state reached {@code position} (or this instance does not hold its
     * partition: the caller answers as it would without a position); failed with a {@link Problem}: 400 for a
     * position the log does not have, 429 when {@code principal} has too many waits, 503 when not reached within
     * {@code timeoutMs}.
     */
    CompletableFuture<Void> await(String caller, ReadPosition position, long timeoutMs) {
        StateQueries.PositionWait now =
                queries.get().positionNow(position.entity(), position.partition(), position.offset());
        if (now == StateQueries.PositionWait.REACHED) {
            return CompletableFuture.completedFuture(null);
        }
        if (now == StateQueries.PositionWait.NOT_HELD) {
            // Not this instance's partition, or no partition at all: only the second is the caller's mistake.
            return requireInLog(position);
        }
        AtomicInteger mine = waiting.computeIfAbsent(caller, name -> new AtomicInteger());
        if (mine.incrementAndGet() > perPrincipal) {
            release(caller, mine);
            return CompletableFuture.failedFuture(Problem.tooManyRequests("this token has " + perPrincipal
                    + " reads waiting for a position already (http.position.waits.per.principal); try again once"
                    + " they are answered"));
        }
        Wait wait = new Wait(position, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs), timeoutMs);
        wait.done.whenComplete((result, failure) -> release(caller, mine));
        requireInLog(position).whenComplete((inLog, failure) -> {
            if (failure != null) {
                wait.done.completeExceptionally(failure);
            } else {
                pending.add(wait);
                LockSupport.unpark(watcher);
            }
        });
        return wait.done;
    }

    /**
     * {@link #await}, on the caller's thread: for checks made inside another request's handling (an append's
     * membership check). At most {@value #BLOCKING_WAITS} such waits at once on an instance; one more is a 429.
     */
    void awaitBlocking(String caller, ReadPosition position, long timeoutMs) {
        if (queries.get().positionNow(position.entity(), position.partition(), position.offset())
                == StateQueries.PositionWait.REACHED) {
            return;
        }
        if (!blocking.tryAcquire()) {
            throw Problem.tooManyRequests("this instance has " + BLOCKING_WAITS + " requests waiting for a position in"
                    + " the middle of an append already; try again");
        }
        try {
            await(caller, position, timeoutMs).get(timeoutMs + 1_000, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Problem problem ? problem : new IllegalStateException(e.getCause());
        } catch (TimeoutException e) {
            throw notReached(position, timeoutMs);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw Problem.unavailable("interrupted while waiting for a position");
        } finally {
            blocking.release();
        }
    }

    private void release(String principal, AtomicInteger count) {
        if (count.decrementAndGet() <= 0) {
            waiting.remove(principal, count);
        }
    }

    /**
     * Completes when the position's partition exists and holds its offset; fails with a 400 otherwise. The end of
     * the partition is asked of the brokers only when the offset is not below the end last seen (once at a time per
     * partition, however many ask), so a flood of far positions costs one request per partition at a time.
     */
    private CompletableFuture<Void> requireInLog(ReadPosition position) {
        if (position.partition() < 0) {
            return CompletableFuture.failedFuture(notInLog(position, "partitions are numbered from 0"));
        }
        String topic = position.entity().log(topics).name();
        return partitionCount(topic).thenCompose(count -> {
            if (position.partition() >= count) {
                throw notInLog(position, "its log has " + count + " partitions");
            }
            return requireBeforeEnd(position, new TopicPartition(topic, position.partition()));
        });
    }

    /** How many partitions {@code topic} has: asked of the brokers once (a log's partitions only grow). */
    private CompletableFuture<Integer> partitionCount(String topic) {
        CompletableFuture<Integer> known = partitionCounts.get(topic);
        if (known != null && known.isDone() && !known.isCompletedExceptionally()) {
            return known;
        }
        return partitionCounts.compute(
                topic,
                (key, current) -> current != null && !current.isDone()
                        ? current
                        : admin.describeTopics(List.of(topic))
                                .allTopicNames()
                                .toCompletionStage()
                                .thenApply(described ->
                                        described.get(topic).partitions().size())
                                .toCompletableFuture());
    }

    /**
     * Completes when {@code partition} holds the position's offset; fails with a 400 when it ends before it. An end
     * learnt from a lookup shared with others (one that may have started before the position's append was
     * acknowledged) is asked again, alone, before the position is called one the log does not have.
     */
    private CompletableFuture<Void> requireBeforeEnd(ReadPosition position, TopicPartition partition) {
        CompletableFuture<Long> known = ends.get(partition);
        if (known != null && known.isDone() && !known.isCompletedExceptionally() && position.offset() < known.join()) {
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<Long> asked = ends.compute(
                partition, (key, current) -> current != null && !current.isDone() ? current : endOf(partition));
        return asked.handle((end, failure) -> {
                    if (failure == null && position.offset() < end) {
                        return CompletableFuture.<Void>completedFuture(null);
                    }
                    return endOf(partition).handle((fresh, again) -> {
                        if (again != null) {
                            Throwable cause = again.getCause() != null ? again.getCause() : again;
                            if (cause instanceof UnknownTopicOrPartitionException) {
                                throw notInLog(position, "its log has no partition " + position.partition());
                            }
                            throw Problem.unavailable(
                                    "the end of " + partition + " could not be read: " + cause.getMessage());
                        }
                        if (position.offset() >= fresh) {
                            throw notInLog(position, "partition " + position.partition() + " ends at offset " + fresh);
                        }
                        return (Void) null;
                    });
                })
                .thenCompose(next -> next);
    }

    /** The end offset of {@code partition}, asked of the brokers now. */
    private CompletableFuture<Long> endOf(TopicPartition partition) {
        return admin.listOffsets(Map.of(partition, OffsetSpec.latest()))
                .partitionResult(partition)
                .toCompletionStage()
                .thenApply(info -> info.offset())
                .toCompletableFuture();
    }

    private static Problem notInLog(ReadPosition position, String why) {
        return Problem.badRequest(
                "the position (" + position.entity().name() + " offset " + position.offset() + ") is not in the log: "
                        + why + "; use a position an append answered with",
                ReadPosition.HEADER);
    }

    static Problem notReached(ReadPosition position, long timeoutMs) {
        return Problem.positionNotReached("the " + position.entity().name() + " state of partition "
                + position.partition() + " did not reach offset " + position.offset() + " within " + timeoutMs
                + " ms; try again");
    }

    /** One pass over the waits: completes those reached (or not held here) and fails those out of time. */
    private void pass(StateQueries current) {
        if (pending.isEmpty()) {
            return;
        }
        long now = System.nanoTime();
        for (Iterator<Wait> waits = pending.iterator(); waits.hasNext(); ) {
            Wait wait = waits.next();
            ReadPosition position = wait.position;
            StateQueries.PositionWait state;
            try {
                state = current.positionNow(position.entity(), position.partition(), position.offset());
            } catch (RuntimeException e) {
                state = StateQueries.PositionWait.PENDING;
            }
            if (state != StateQueries.PositionWait.PENDING) {
                waits.remove();
                wait.done.complete(null);
            } else if (now - wait.deadline > 0) {
                waits.remove();
                wait.done.completeExceptionally(notReached(position, wait.timeoutMs));
            }
        }
    }

    /** Fails every wait (the API is stopping) and stops the watcher. */
    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(watcher);
        for (Wait wait; (wait = pending.poll()) != null; ) {
            wait.done.completeExceptionally(Problem.unavailable("the API is stopping"));
        }
        admin.close(Duration.ofSeconds(5));
    }

    private static final class Wait {
        final ReadPosition position;
        final long deadline;
        final long timeoutMs;
        final CompletableFuture<Void> done = new CompletableFuture<>();

        Wait(ReadPosition position, long deadline, long timeoutMs) {
            this.position = position;
            this.deadline = deadline;
            this.timeoutMs = timeoutMs;
        }
    }
}
