package dev.substrate.streams;

import dev.substrate.state.RunStatus;
import dev.substrate.streams.internal.StoreNames;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which index a run list reads, and so its order: newest update first ({@link #byStatus}, {@link #byProject}, {@link
 * #byLabel}, {@link #byUpdate}) or newest creation first ({@link #byCreation}). Every page of such a list is keyed by
 * {@code <millis, 13 digits>\0<runId>} (the time of its order), so pages read from different indexes of the same
 * order, on different instances, merge into one order. The list's filters are applied to what the index yields.
 */
public final class RunIndex {

    /** What a run list is ordered by, newest first. */
    public enum Order {
        /** The run's last applied event ({@code timestamps.updatedAt}). */
        UPDATED,
        /** The run's creation ({@code timestamps.createdAt}). */
        CREATED
    }

    private final String index;
    private final List<String> values;
    private final Order order;
    /** The lowest page key read (inclusive), or null. */
    private final String lowest;
    /** The highest page key read (inclusive), or null. */
    private final String highest;

    private RunIndex(String index, List<String> values, Order order) {
        this(index, values, order, null, null);
    }

    private RunIndex(String index, List<String> values, Order order, String lowest, String highest) {
        this.index = index;
        this.values = List.copyOf(values);
        this.order = order;
        this.lowest = lowest;
        this.highest = highest;
    }

    /**
     * This index, read only where the time of its order is in {@code [from, until)}; a null bound is open. The scan
     * itself is bounded: a list of "the last hour" reads the last hour's part of the index alone.
     */
    public RunIndex within(Instant from, Instant until) {
        return new RunIndex(
                index,
                values,
                order,
                from == null ? null : StoreNames.zeroPadded(Math.max(0, from.toEpochMilli()), 13),
                until == null
                        ? null
                        : StoreNames.timeKey(Math.max(0, until.toEpochMilli()), "")
                                .substring(0, 14));
    }

    /** The lowest page key read, inclusive; null for no bound. */
    String lowest() {
        return lowest;
    }

    /**
     * The page key every key read is below: {@code <until, 13 digits>\0} sorts above every key of an earlier time and
     * below every key of that time. Null for no bound.
     */
    String highest() {
        return highest;
    }

    /** Runs in any of {@code statuses}, newest update first. */
    public static RunIndex byStatus(Set<RunStatus> statuses) {
        if (statuses.isEmpty()) {
            throw new IllegalArgumentException("at least one status");
        }
        TreeSet<String> names = new TreeSet<>();
        statuses.forEach(status -> names.add(status.name()));
        return new RunIndex(StoreNames.RUNS_BY_STATUS, List.copyOf(names), Order.UPDATED);
    }

    /** Every run, newest update first: every status's part of the status index, merged. */
    public static RunIndex byUpdate() {
        return byStatus(Set.copyOf(Arrays.asList(RunStatus.values())));
    }

    /** Runs of {@code project}, newest update first. */
    public static RunIndex byProject(String project) {
        return new RunIndex(StoreNames.RUNS_BY_PROJECT, List.of(project), Order.UPDATED);
    }

    /** Runs labelled {@code key} = {@code value}, newest update first. */
    public static RunIndex byLabel(String key, String value) {
        return new RunIndex(StoreNames.RUNS_BY_LABEL, List.of(key + "=" + value), Order.UPDATED);
    }

    /** Every run, newest creation first. */
    public static RunIndex byCreation() {
        return new RunIndex(StoreNames.RUNS_BY_CREATED, List.of(), Order.CREATED);
    }

    /** The order of the list this index gives. */
    public Order order() {
        return order;
    }

    /** The index read ({@link StoreNames#RUNS_BY_STATUS} ...). */
    String indexName() {
        return index;
    }

    /**
     * The values whose parts of the index are read and merged; empty when the index has no value part (its keys
     * are the page keys themselves).
     */
    List<String> values() {
        return values;
    }

    @Override
    public String toString() {
        return index + values;
    }
}
