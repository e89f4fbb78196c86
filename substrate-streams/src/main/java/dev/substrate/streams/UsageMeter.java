package dev.substrate.streams;

import dev.substrate.events.common.Usage;
import dev.substrate.fold.UsageTotals;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Tokens this instance's fold counted since it started, by project and model: the figures of {@code /metrics}'
 * {@code substrate_usage_*_tokens_total} counters. Like any Prometheus counter they start at zero with the process
 * and count what this instance folded; a transaction the fold retries after a crash may count its events again.
 * {@code GET /v1/usage} is the exact sum. At most {@link #MAX_SERIES} project and model pairs are kept apart; the
 * rest count under the model {@value UsageTotals#OTHER} of their project (or of the project {@value
 * UsageTotals#OTHER}).
 */
public final class UsageMeter {

    /** The property of the fold's Kafka Streams configuration that carries the meter to its processors. */
    public static final String CONFIG = "substrate.usage.meter";

    /** The most project and model pairs counted apart. */
    public static final int MAX_SERIES = 1_000;

    /** One series of counters. */
    public record Series(String project, String model) implements Comparable<Series> {
        @Override
        public int compareTo(Series other) {
            int byProject = project.compareTo(other.project);
            return byProject != 0 ? byProject : model.compareTo(other.model);
        }
    }

    /** The four token counts of one series. */
    public record Tokens(long input, long output, long cachedInput, long reasoning) {}

    private final Map<Series, LongAdder[]> counters = new ConcurrentHashMap<>();

    /** Counts {@code usage} (nothing when null) of {@code project}. */
    public void add(String project, Usage usage) {
        if (usage == null) {
            return;
        }
        LongAdder[] adders = counters.get(new Series(project, usage.getModel()));
        if (adders == null) {
            Series series = counters.size() < MAX_SERIES
                    ? new Series(project, usage.getModel())
                    : counters.containsKey(new Series(project, UsageTotals.OTHER))
                            ? new Series(project, UsageTotals.OTHER)
                            : new Series(UsageTotals.OTHER, UsageTotals.OTHER);
            adders = counters.computeIfAbsent(series, key ->
                    new LongAdder[] {new LongAdder(), new LongAdder(), new LongAdder(), new LongAdder()});
        }
        adders[0].add(usage.getInputTokens());
        adders[1].add(usage.getOutputTokens());
        adders[2].add(usage.getCachedInputTokens());
        adders[3].add(usage.getReasoningTokens());
    }

    /** Every series' counts now, in project and model order. */
    public Map<Series, Tokens> snapshot() {
        Map<Series, Tokens> snapshot = new TreeMap<>();
        counters.forEach((series, adders) ->
                snapshot.put(series, new Tokens(adders[0].sum(), adders[1].sum(), adders[2].sum(), adders[3].sum())));
        return snapshot;
    }
}
