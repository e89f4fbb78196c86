package dev.substrate.api.internal;

import io.javalin.http.Context;
import io.javalin.http.Handler;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;

/**
 * {@code GET /metrics} in the Prometheus text format: the API's requests by route, method and status, their
 * durations as a histogram, and every numeric metric of the Kafka clients and Kafka Streams the process runs,
 * named {@code kafka_<group>_<name>} with Kafka's tags as labels.
 */
public final class Metrics {

    private static final String ROUTE = "substrate.route";
    private static final double[] BUCKETS = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

    /** Request counts by {@code route}, {@code method} and {@code status}, kept in the order they are written. */
    private final Map<RequestKey, LongAdder> requests = new ConcurrentSkipListMap<>();

    private final Map<String, Histogram> durations = new ConcurrentSkipListMap<>();
    private final List<Supplier<Map<MetricName, ? extends Metric>>> kafka = new CopyOnWriteArrayList<>();
    private final List<Gauge> gauges = new CopyOnWriteArrayList<>();

    private record Gauge(String name, String help, Supplier<? extends Number> value) {}

    /** Adds a gauge written as {@code name}, read when {@code /metrics} is asked. */
    void addGauge(String name, String help, Supplier<? extends Number> value) {
        gauges.add(new Gauge(name, help, value));
    }

    private record Counters(String name, String help, List<String> labels, Supplier<Map<List<String>, Long>> values) {}

    private final List<Counters> counters = new CopyOnWriteArrayList<>();

    /**
     * Adds a family of counters written as {@code name{label="value",...}}, one sample per entry of {@code values}
     * (the labels' values, in the order of {@code labels}), read when {@code /metrics} is asked.
     */
    void addCounters(String name, String help, List<String> labels, Supplier<Map<List<String>, Long>> values) {
        counters.add(new Counters(name, help, List.copyOf(labels), values));
    }

    /** Adds a source of Kafka metrics, such as a producer's or Kafka Streams' {@code metrics()}. */
    public void addKafkaMetrics(Supplier<Map<MetricName, ? extends Metric>> source) {
        kafka.add(source);
    }

    /** Marks requests {@code handler} answers as belonging to the route {@code path}. */
    Handler timed(String path, Handler handler) {
        return ctx -> {
            ctx.attribute(ROUTE, path);
            handler.handle(ctx);
        };
    }

    /** Records one answered request (the request logger's hook, called after exception mapping). */
    public void record(Context ctx, float millis) {
        String route = ctx.attribute(ROUTE);
        String path = route == null ? "unmatched" : route;
        requests.computeIfAbsent(new RequestKey(path, ctx.method().name(), ctx.statusCode()), key -> new LongAdder())
                .increment();
        durations.computeIfAbsent(path, key -> new Histogram()).observe(millis / 1000.0);
    }

    public void write(Context ctx) {
        StringBuilder out = new StringBuilder();
        out.append("# HELP substrate_http_requests_total HTTP requests answered, by route, method and status.\n");
        out.append("# TYPE substrate_http_requests_total counter\n");
        requests.forEach((key, count) -> out.append("substrate_http_requests_total{route=\"")
                .append(escape(key.route()))
                .append("\",method=\"")
                .append(key.method())
                .append("\",status=\"")
                .append(key.status())
                .append("\"} ")
                .append(count.sum())
                .append('\n'));
        out.append("# HELP substrate_http_request_duration_seconds Time to answer HTTP requests, by route.\n");
        out.append("# TYPE substrate_http_request_duration_seconds histogram\n");
        durations.forEach((route, histogram) -> histogram.writeTo(out, escape(route)));
        for (Gauge gauge : gauges) {
            out.append("# HELP ")
                    .append(gauge.name())
                    .append(' ')
                    .append(gauge.help())
                    .append('\n');
            out.append("# TYPE ").append(gauge.name()).append(" gauge\n");
            out.append(gauge.name()).append(' ').append(gauge.value().get()).append('\n');
        }
        for (Counters family : counters) {
            out.append("# HELP ")
                    .append(family.name())
                    .append(' ')
                    .append(family.help())
                    .append('\n');
            out.append("# TYPE ").append(family.name()).append(" counter\n");
            family.values().get().forEach((values, count) -> {
                out.append(family.name()).append('{');
                for (int i = 0; i < family.labels().size(); i++) {
                    out.append(i == 0 ? "" : ",")
                            .append(family.labels().get(i))
                            .append("=\"")
                            .append(escape(values.get(i)))
                            .append('"');
                }
                out.append("} ").append(count).append('\n');
            });
        }
        writeKafka(out);
        ctx.contentType("text/plain; version=0.0.4; charset=utf-8").result(out.toString());
    }

    /** A Kafka metric's family and its sample up to the value ({@code family{labels} }), as last written. */
    private record Named(String family, String prefix) {
        static Named of(MetricName name) {
            String family = "kafka_" + sanitize(name.group()) + "_" + sanitize(name.name());
            StringBuilder prefix = new StringBuilder(family);
            if (!name.tags().isEmpty()) {
                List<String> labels = new ArrayList<>();
                new TreeMap<>(name.tags())
                        .forEach((key, tag) -> labels.add(sanitize(key) + "=\"" + escape(tag) + "\""));
                prefix.append('{').append(String.join(",", labels)).append('}');
            }
            return new Named(family, prefix.append(' ').toString());
        }
    }

    /**
     * The names of the last scrape's Kafka metrics: a scrape names a few thousand, nearly all as the scrape before.
     * Each scrape keeps only the names it wrote, so metrics that went away (a task moved) are forgotten.
     */
    private volatile Map<MetricName, Named> named = Map.of();

    private void writeKafka(StringBuilder out) {
        Map<String, List<String>> samples = new TreeMap<>();
        Map<MetricName, Named> before = named;
        Map<MetricName, Named> now = new HashMap<>(before.size() * 2 + 16);
        for (Supplier<Map<MetricName, ? extends Metric>> source : kafka) {
            for (Map.Entry<MetricName, ? extends Metric> metric : source.get().entrySet()) {
                Object value = metric.getValue().metricValue();
                if (!(value instanceof Number number)) {
                    continue;
                }
                MetricName name = metric.getKey();
                Named known = before.get(name);
                Named sample = known != null ? known : Named.of(name);
                now.put(name, sample);
                samples.computeIfAbsent(sample.family(), key -> new ArrayList<>())
                        .add(sample.prefix() + format(number.doubleValue()));
            }
        }
        named = now;
        samples.forEach((family, lines) -> {
            out.append("# TYPE ").append(family).append(" gauge\n");
            lines.stream().distinct().forEach(line -> out.append(line).append('\n'));
        });
    }

    /**
     * {@code name} as a Prometheus name: lower case, every character but {@code a-z}, {@code 0-9} and {@code _} an
     * underscore, and an underscore first if it starts with a digit. A loop, not a regular expression: a scrape
     * sanitizes a few thousand names and tags.
     */
    static String sanitize(String name) {
        StringBuilder clean = new StringBuilder(name.length() + 1);
        for (int i = 0; i < name.length(); i++) {
            char c = Character.toLowerCase(name.charAt(i));
            clean.append((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ? c : '_');
        }
        if (clean.length() > 0 && clean.charAt(0) >= '0' && clean.charAt(0) <= '9') {
            clean.insert(0, '_');
        }
        return clean.toString();
    }

    private static String escape(String value) {
        return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }

    private static String format(double value) {
        if (Double.isNaN(value)) {
            return "NaN";
        }
        if (Double.isInfinite(value)) {
            return value > 0 ? "+Inf" : "-Inf";
        }
        return Double.toString(value);
    }

    private record RequestKey(String route, String method, int status) implements Comparable<RequestKey> {
        @Override
        public int compareTo(RequestKey other) {
            int byRoute = route.compareTo(other.route);
            if (byRoute != 0) {
                return byRoute;
            }
            int byMethod = method.compareTo(other.method);
            return byMethod != 0 ? byMethod : Integer.compare(status, other.status);
        }
    }

    /** Cumulative buckets of request durations in seconds. */
    private static final class Histogram {
        private final AtomicLongArray counts = new AtomicLongArray(BUCKETS.length);
        private final LongAdder count = new LongAdder();
        private final DoubleAdder sum = new DoubleAdder();

        void observe(double seconds) {
            for (int i = 0; i < BUCKETS.length; i++) {
                if (seconds <= BUCKETS[i]) {
                    counts.incrementAndGet(i);
                }
            }
            count.increment();
            sum.add(seconds);
        }

        void writeTo(StringBuilder out, String route) {
            String name = "substrate_http_request_duration_seconds";
            for (int i = 0; i < BUCKETS.length; i++) {
                out.append(name)
                        .append("_bucket{route=\"")
                        .append(route)
                        .append("\",le=\"")
                        .append(BUCKETS[i])
                        .append("\"} ")
                        .append(counts.get(i))
                        .append('\n');
            }
            long total = count.sum();
            out.append(name)
                    .append("_bucket{route=\"")
                    .append(route)
                    .append("\",le=\"+Inf\"} ")
                    .append(total)
                    .append('\n');
            out.append(name)
                    .append("_sum{route=\"")
                    .append(route)
                    .append("\"} ")
                    .append(sum.sum())
                    .append('\n');
            out.append(name)
                    .append("_count{route=\"")
                    .append(route)
                    .append("\"} ")
                    .append(total)
                    .append('\n');
        }
    }
}
