package dev.substrate.streams.internal;

import dev.substrate.events.common.Usage;
import dev.substrate.fold.UsageTotals;
import dev.substrate.state.UsageTotal;
import dev.substrate.streams.UsageMeter;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Adds the usage an applied event carried to its partition's usage store, under {@code project\0day\0model\0runId}:
 * written in the fold's transaction with the state, so a rebuild from the log sums the same.
 */
final class UsageRollup {

    /** The UTC date of an event, as usage keys and queries name days. */
    static final DateTimeFormatter DAY = DateTimeFormatter.ISO_LOCAL_DATE.withZone(ZoneOffset.UTC);

    private final KeyValueStore<String, UsageTotal> store;
    private final UsageMeter meter;

    /** Sums into {@code store}, and counts on the meter the fold's configuration carries (if any). */
    UsageRollup(ProcessorContext<?, ?> context, String storeName) {
        this.store = context.getStateStore(storeName);
        this.meter = context.appConfigs().get(UsageMeter.CONFIG) instanceof UsageMeter given ? given : null;
    }

    /**
     * Adds {@code usage} (nothing when null) for {@code project}, counted for the run it names, else for {@code
     * runId}, the run of the event's entity (null for none).
     */
    void add(String project, String runId, Instant occurredAt, Usage usage) {
        if (usage == null) {
            return;
        }
        String spentBy = usage.getRunId() != null ? usage.getRunId() : runId;
        String key =
                StoreNames.usageKey(project, DAY.format(occurredAt), usage.getModel(), spentBy == null ? "" : spentBy);
        UsageTotal added = UsageTotals.of(usage);
        UsageTotal before = store.get(key);
        store.put(key, before == null ? added : UsageTotals.plus(before, added));
        if (meter != null) {
            meter.add(project, usage);
        }
    }

    /**
     * Moves the rows of {@code runId} in {@code project} to no run (the empty run id), adding them to what is there:
     * a deleted run's usage still counts in every sum by project, model and day, no longer under its id. Reads the
     * project's rows in this partition.
     */
    void forgetRun(String project, String runId) {
        String suffix = StoreNames.SEPARATOR + runId;
        List<String> keys = new ArrayList<>();
        try (KeyValueIterator<String, UsageTotal> rows =
                store.prefixScan(StoreNames.indexPrefix(project), new StringSerializer())) {
            rows.forEachRemaining(row -> {
                if (row.key.endsWith(suffix)) {
                    keys.add(row.key);
                }
            });
        }
        for (String key : keys) {
            UsageTotal moved = store.delete(key);
            String anonymous = key.substring(0, key.length() - runId.length());
            UsageTotal there = store.get(anonymous);
            store.put(anonymous, there == null ? moved : UsageTotals.plus(there, moved));
        }
    }
}
