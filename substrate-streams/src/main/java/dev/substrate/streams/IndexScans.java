package dev.substrate.streams;

import dev.substrate.entity.EntityKind;
import dev.substrate.fold.UsageTotals;
import dev.substrate.retention.RetentionPolicy;
import dev.substrate.state.RunState;
import dev.substrate.state.RunStatus;
import dev.substrate.state.UsageTotal;
import dev.substrate.streams.StateQueries.Counts;
import dev.substrate.streams.StateQueries.TooMuchToCount;
import dev.substrate.streams.internal.Index;
import dev.substrate.streams.internal.IndexView;
import dev.substrate.streams.internal.StoreNames;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.errors.InvalidStateStorePartitionException;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * Lists and counts over the partitions this instance holds: each partition's store (or index) is scanned in key
 * order, at most {@code scanBudget} entries each, and the partitions' pages merged into one ({@link Page#merge}).
 * Ranges use the v1 store API: in Kafka 4.3 a v2 {@code RangeQuery} bypasses the record cache, so it would miss what
 * the fold wrote since its last commit.
 */
final class IndexScans {

    /** A run index's page key: {@code <millis, 13 digits>\0<runId>}. */
    private static final Pattern TIME_KEY = Pattern.compile("[0-9]{13}\u0000.+");

    private final KafkaStreams streams;
    private final Placement placement;
    private final int scanBudget;

    IndexScans(KafkaStreams streams, Placement placement, int scanBudget) {
        this.streams = streams;
        this.placement = placement;
        this.scanBudget = scanBudget;
    }

    /** Runs that {@code index} yields, newest first, each loaded by {@code load} and passing {@code also}. */
    Page<RunState> runs(
            RunIndex index, Function<String, RunState> load, Predicate<RunState> also, String cursor, int limit) {
        if (cursor != null && !TIME_KEY.matcher(cursor).matches()) {
            throw new IllegalArgumentException("the cursor belongs to another query");
        }
        List<Page<RunState>> pages = new ArrayList<>();
        indexPartitions(EntityKind.RUN, index.indexName()).forEach((partition, store) -> {
            try (RunIndexMerge range = new RunIndexMerge(store, index, cursor)) {
                pages.add(take(partition, range, cursor, limit, load, also));
            } catch (InvalidStateStoreException e) {
                throw KeyReads.unavailable(index.indexName(), e);
            }
        });
        return Page.merge(pages, true, limit);
    }

    /**
     * How many runs {@code index} yields that pass {@code also}, by {@code groupBy}'s value (null counts under
     * {@code "none"}), looking at {@code budget} index entries at most over all partitions.
     */
    Counts countRuns(
            RunIndex index,
            Function<String, RunState> load,
            Predicate<RunState> also,
            Function<RunState, String> groupBy,
            long budget) {
        Map<String, Long> counts = new TreeMap<>();
        long scanned = 0;
        Map<Integer, ReadOnlyKeyValueStore<String, String>> partitions =
                indexPartitions(EntityKind.RUN, index.indexName());
        for (ReadOnlyKeyValueStore<String, String> partition : partitions.values()) {
            try (RunIndexMerge range = new RunIndexMerge(partition, index, null)) {
                while (range.hasNext()) {
                    String runId = range.next().value;
                    if (++scanned > budget) {
                        throw new TooMuchToCount(budget);
                    }
                    RunState run = runId == null ? null : load.apply(runId);
                    if (run != null && also.test(run)) {
                        String group = groupBy.apply(run);
                        counts.merge(group == null ? "none" : group, 1L, Long::sum);
                    }
                }
            } catch (InvalidStateStoreException e) {
                throw KeyReads.unavailable(index.indexName(), e);
            }
        }
        return new Counts(counts, scanned, partitions.keySet());
    }

    /**
     * What {@code policy}, enabled or not, would delete at {@code now} of this instance's partitions: the finished
     * runs of its statuses (or the closed rooms) that changed (or closed) by its age, in index order, each loaded by
     * {@code load} and passing {@code also}; at most {@code sample} ids, looking at {@code budget} entries at most.
     */
    <S> RetentionPlan plan(
            RetentionPolicy policy,
            Instant now,
            Function<String, S> load,
            Predicate<S> deletes,
            Function<S, String> project,
            int sample,
            long budget) {
        boolean runs = policy.applies() == RetentionPolicy.Applies.runs;
        EntityKind<?, ?> kind = runs ? EntityKind.RUN : EntityKind.ROOM;
        String indexName = runs ? StoreNames.RUNS_BY_STATUS : StoreNames.ROOMS_BY_CLOSED;
        long cutoff = now.minus(policy.olderThan()).toEpochMilli() + 1;
        List<String[]> ranges = new ArrayList<>();
        if (runs) {
            policy.statuses().stream()
                    .map(RunStatus::name)
                    .sorted()
                    .forEach(status -> ranges.add(
                            new String[] {StoreNames.indexPrefix(status), StoreNames.timeIndexKey(status, cutoff, "")
                            }));
        } else {
            ranges.add(new String[] {"", StoreNames.timeKey(cutoff, "")});
        }
        Map<String, Long> byProject = new TreeMap<>();
        TreeSet<String> ids = new TreeSet<>();
        long scanned = 0;
        Map<Integer, ReadOnlyKeyValueStore<String, String>> partitions = indexPartitions(kind, indexName);
        for (ReadOnlyKeyValueStore<String, String> partition : partitions.values()) {
            for (String[] range : ranges) {
                try (KeyValueIterator<String, String> entries = partition.range(range[0], range[1])) {
                    while (entries.hasNext()) {
                        String id = entries.next().value;
                        if (++scanned > budget) {
                            throw new TooMuchToCount("the plan would look at more than " + budget
                                    + " entries (query.count.budget); narrow the policy by project or age");
                        }
                        S entity = id == null ? null : load.apply(id);
                        if (entity != null && deletes.test(entity)) {
                            byProject.merge(project.apply(entity), 1L, Long::sum);
                            ids.add(id);
                            if (ids.size() > sample) {
                                ids.pollLast();
                            }
                        }
                    }
                } catch (InvalidStateStoreException e) {
                    throw KeyReads.unavailable(indexName, e);
                }
            }
        }
        return new RetentionPlan(byProject, List.copyOf(ids), scanned, partitions.keySet());
    }

    /**
     * The sums of {@code kind}'s usage store over this instance's partitions that {@code query} counts, by its group,
     * looking at {@code budget} entries at most.
     */
    UsageQuery.Sums usage(EntityKind<?, ?> kind, UsageQuery query, long budget) {
        String name = StoreNames.usageStore(kind);
        Map<String, UsageTotal> groups = new TreeMap<>();
        long scanned = 0;
        Map<Integer, ReadOnlyKeyValueStore<String, UsageTotal>> partitions = partitions(kind, name);
        for (ReadOnlyKeyValueStore<String, UsageTotal> store : partitions.values()) {
            String project = query.project();
            try (KeyValueIterator<String, UsageTotal> range = project == null
                    ? store.all()
                    : store.range(StoreNames.indexPrefix(project), project + (char) (StoreNames.SEPARATOR + 1))) {
                while (range.hasNext()) {
                    var entry = range.next();
                    if (++scanned > budget) {
                        throw new TooMuchToCount("the sum would look at more than " + budget
                                + " usage entries (query.count.budget);" + " narrow it by project, days or run");
                    }
                    UsageQuery.Key key = UsageQuery.Key.parse(entry.key);
                    if (entry.value == null || key == null || !query.counts(key)) {
                        continue;
                    }
                    UsageTotal sum = query.pricing() == null
                            ? entry.value
                            : query.pricing().apply(key.model(), entry.value);
                    groups.merge(query.groupBy().of(key), sum, UsageTotals::plus);
                    if (groups.size() > UsageQuery.MAX_GROUPS) {
                        throw new TooMuchToCount("the answer would hold more than " + UsageQuery.MAX_GROUPS
                                + " groups; narrow it by project, days or run");
                    }
                }
            } catch (InvalidStateStoreException e) {
                throw KeyReads.unavailable(name, e);
            }
        }
        return new UsageQuery.Sums(groups, scanned, partitions.keySet());
    }

    /** Every entity of {@code storeName}, in id order, each passing {@code also}. */
    <V> Page<V> all(EntityKind<?, ?> entity, String storeName, Predicate<V> also, String cursor, int limit) {
        List<Page<V>> pages = new ArrayList<>();
        this.<V>partitions(entity, storeName).forEach((partition, store) -> {
            try (KeyValueIterator<String, V> range = cursor == null ? store.all() : store.range(cursor + "\0", null)) {
                pages.add(take(partition, range, null, limit, Function.identity(), also));
            } catch (InvalidStateStoreException e) {
                throw KeyReads.unavailable(storeName, e);
            }
        });
        return Page.merge(pages, false, limit);
    }

    /** The entities index {@code indexName} holds under {@code value}, in id order, each passing {@code also}. */
    <V> Page<V> indexed(
            EntityKind<?, ?> entity,
            String indexName,
            String value,
            Function<String, V> load,
            Predicate<V> also,
            String cursor,
            int limit) {
        String prefix = StoreNames.indexPrefix(value);
        String end = value + (char) (StoreNames.SEPARATOR + 1);
        if (cursor != null && !cursor.startsWith(prefix)) {
            throw new IllegalArgumentException("the cursor belongs to another query");
        }
        List<Page<V>> pages = new ArrayList<>();
        indexPartitions(entity, indexName).forEach((partition, store) -> {
            try (KeyValueIterator<String, String> range = store.range(cursor == null ? prefix : cursor, end)) {
                pages.add(take(partition, range, cursor, limit, load, also));
            } catch (InvalidStateStoreException e) {
                throw KeyReads.unavailable(indexName, e);
            }
        });
        return Page.merge(pages, false, limit);
    }

    /**
     * One partition's page: up to {@code limit} entries of its ordered range (skipping the cursor itself) that
     * {@code load} finds and {@code also} passes, looking at the scan budget of entries at most.
     */
    private <S, V> Page<V> take(
            int partition,
            KeyValueIterator<String, S> range,
            String cursor,
            int limit,
            Function<S, V> load,
            Predicate<V> also) {
        List<V> items = new ArrayList<>();
        List<String> keys = new ArrayList<>();
        boolean more = false;
        String stoppedAt = null;
        int looked = 0;
        String last = null;
        while (range.hasNext()) {
            var entry = range.next();
            if (entry.key.equals(cursor)) {
                continue;
            }
            if (items.size() == limit) {
                more = true;
                break;
            }
            if (looked == scanBudget) {
                // Stopped before this entry: the next page goes on after the last one looked at.
                more = true;
                stoppedAt = last;
                break;
            }
            looked++;
            // A null value is an entry the fold removed and has not flushed yet: nothing to load.
            V item = entry.value == null ? null : load.apply(entry.value);
            if (item != null && also.test(item)) {
                items.add(item);
                keys.add(entry.key);
            }
            last = entry.key;
        }
        return new Page<>(items, keys, more, Set.of(partition), stoppedAt, looked);
    }

    /**
     * This instance's store of each log partition it holds, by partition: a plain {@code streams.store(...)}
     * iterates its partitions one after another, not in one key order, so a paged scan must merge them itself.
     */
    private <V> Map<Integer, ReadOnlyKeyValueStore<String, V>> partitions(EntityKind<?, ?> entity, String name) {
        Map<Integer, ReadOnlyKeyValueStore<String, V>> stores = new LinkedHashMap<>();
        for (int partition : placement.localActivePartitions(entity)) {
            try {
                stores.put(
                        partition,
                        streams.store(StoreQueryParameters.fromNameAndType(
                                        name, QueryableStoreTypes.<String, V>keyValueStore())
                                .withPartition(partition)));
            } catch (InvalidStateStorePartitionException e) {
                // Not one of this instance's partitions (any more).
            } catch (InvalidStateStoreException e) {
                throw KeyReads.unavailable(name, e);
            }
        }
        return stores;
    }

    /** {@link #partitions} of the store that holds index {@code indexName}, each read as that index alone. */
    private Map<Integer, ReadOnlyKeyValueStore<String, String>> indexPartitions(
            EntityKind<?, ?> entity, String indexName) {
        Index index = StoreNames.index(indexName);
        Map<Integer, ReadOnlyKeyValueStore<String, String>> views = new LinkedHashMap<>();
        this.<String>partitions(entity, index.store())
                .forEach((partition, store) -> views.put(partition, new IndexView(store, index)));
        return views;
    }
}
