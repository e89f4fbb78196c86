package dev.substrate.streams;

import dev.substrate.state.UsageTotal;
import dev.substrate.streams.internal.StoreNames;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.Predicate;

/**
 * A question about usage: which sums of the usage stores count ({@code project}, days {@code fromDay} to {@code
 * toDay} inclusive, {@code runId}; each null for any) and how they are grouped. Only projects {@code reaches} passes
 * are counted: a scoped caller's sums hold nothing of other projects.
 *
 * @param project the one project counted, or null for every project the caller reaches
 * @param reaches which projects the caller may see
 * @param fromDay the first UTC day counted ({@code yyyy-MM-dd}), or null
 * @param toDay the last UTC day counted ({@code yyyy-MM-dd}), or null
 * @param runIds the runs counted, or null for usage in and outside of runs alike
 * @param groupBy what the sums are grouped by
 * @param pricing applied to each model's sum before it is grouped (a price table pricing the tokens of events that
 *     said no cost), or null
 */
public record UsageQuery(
        String project,
        Predicate<String> reaches,
        String fromDay,
        String toDay,
        Set<String> runIds,
        GroupBy groupBy,
        BiFunction<String, UsageTotal, UsageTotal> pricing) {

    /** The most groups one answer holds: a query with more is refused, to be narrowed. */
    public static final int MAX_GROUPS = 10_000;

    /** What usage sums are grouped by. */
    public enum GroupBy {
        /** The project. */
        PROJECT,
        /** The model, as events named it. */
        MODEL,
        /** The run (usage outside any run groups under the empty key). */
        RUN,
        /** The UTC day, {@code yyyy-MM-dd}. */
        DAY;

        /** The group {@code key} sums under. */
        public String of(Key key) {
            return switch (this) {
                case PROJECT -> key.project();
                case MODEL -> key.model();
                case RUN -> key.runId();
                case DAY -> key.day();
            };
        }
    }

    /**
     * Where one usage sum is kept: a usage store's key.
     *
     * @param project the project
     * @param day the UTC day, {@code yyyy-MM-dd}
     * @param model the model
     * @param runId the run, empty for usage outside runs
     */
    public record Key(String project, String day, String model, String runId) {

        /** The key {@code project\0day\0model\0runId}; null for one of another shape. */
        static Key parse(String key) {
            String[] parts = key.split(String.valueOf(StoreNames.SEPARATOR), -1);
            return parts.length == 4 ? new Key(parts[0], parts[1], parts[2], parts[3]) : null;
        }
    }

    /** Whether a sum kept under {@code key} is counted. */
    public boolean counts(Key key) {
        return (project == null || project.equals(key.project()))
                && (fromDay == null || key.day().compareTo(fromDay) >= 0)
                && (toDay == null || key.day().compareTo(toDay) <= 0)
                && (runIds == null || runIds.contains(key.runId()))
                && reaches.test(key.project());
    }

    /**
     * One instance's sums of one kind's usage store.
     *
     * @param groups the sum of each group
     * @param scanned how many store entries were looked at
     * @param partitions the partitions summed
     */
    public record Sums(Map<String, UsageTotal> groups, long scanned, Set<Integer> partitions) {
        public Sums {
            groups = Map.copyOf(groups);
            partitions = Set.copyOf(partitions);
        }
    }
}
