package dev.substrate.cli.internal.bench;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/** Latencies recorded in an HdrHistogram (1 µs to 1 min, 3 significant digits), read in milliseconds. */
final class Latencies {

    private final Histogram histogram = new Histogram(TimeUnit.MINUTES.toMicros(1), 3);

    synchronized void record(long nanos) {
        histogram.recordValue(
                Math.max(1, Math.min(TimeUnit.NANOSECONDS.toMicros(nanos), histogram.getHighestTrackableValue())));
    }

    synchronized long count() {
        return histogram.getTotalCount();
    }

    synchronized double percentileMs(double percentile) {
        return histogram.getValueAtPercentile(percentile) / 1000.0;
    }

    synchronized double maxMs() {
        return histogram.getMaxValue() / 1000.0;
    }

    /** {@code {samples, p50Ms, p99Ms, maxMs}}. */
    ObjectNode json() {
        ObjectNode node = JsonNodeFactory.instance.objectNode();
        node.put("samples", count());
        node.put("p50Ms", round(percentileMs(50)));
        node.put("p99Ms", round(percentileMs(99)));
        node.put("maxMs", round(maxMs()));
        return node;
    }

    static double round(double value) {
        return Math.round(value * 100) / 100.0;
    }
}
