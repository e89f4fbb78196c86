package dev.substrate.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.substrate.cli.internal.bench.Bench;
import dev.substrate.cli.internal.bench.BenchFiles;
import dev.substrate.cli.internal.bench.ScaleRun;
import dev.substrate.cli.internal.bench.StreamBench;
import dev.substrate.config.KafkaSettings;
import dev.substrate.config.TopicSettings;
import dev.substrate.kafka.embedded.EmbeddedKafka;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code substrate bench}: the product measured beside raw Kafka on the same broker, in one run. */
@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        description = {
            "Measures Substrate beside raw Kafka on the same broker, part by part.",
            "The parts: append (KafkaProducer vs SubstrateClient), fold (a plain Kafka Streams count vs the fold),"
                    + " append to queryable, observer latency (produce->consume vs RoomStream and SSE), appends over"
                    + " HTTP (beside a trivial GET), stream (many rooms streaming deltas while watched, each path"
                    + " ramped until it falls behind; then each room view alone: SSE, WebSocket, AI SDK, long-poll;"
                    + " deltas into a 1 KB and a 1 MB block) and HTTP queries. Each side first does its work once over"
                    + " a small backlog (a warm-up,"
                    + " figures discarded). Prints a table; --out writes JSON. Uses an embedded broker unless"
                    + " --bootstrap-servers is given (its topics then get a bench-<id>. prefix)."
        },
        footer = {
            "  substrate bench --quick                  # about 5 minutes on two cores",
            "  substrate bench --out bench.json          # about 7 minutes",
            "  substrate bench --scale 100000,1000000"
        })
final class BenchCommand implements Callable<Integer> {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    CommandSpec spec;

    @Option(names = "--quick", description = "A smaller run: about 5 minutes on two cores (the full run: about 7).")
    boolean quick;

    @Option(names = "--bootstrap-servers", paramLabel = "HOST:PORT[,...]", description = "A cluster to measure.")
    String bootstrapServers;

    @Option(names = "--out", paramLabel = "FILE", description = "Also write the figures as JSON to FILE.")
    Path out;

    @Option(
            names = "--events",
            paramLabel = "N",
            description = "Events appended and folded (default: 40,000 with --quick, else 200,000).")
    Integer events;

    @Option(
            names = "--rooms",
            paramLabel = "R",
            description = "Rooms streaming at once in the stream part (default: 100).")
    Integer rooms;

    @Option(
            names = "--room-rate",
            paramLabel = "N",
            description = "Deltas a second each room streams at the stream part's default rate (default: 20).")
    Integer roomRate;

    @Option(
            names = "--stream-seconds",
            paramLabel = "S",
            description = "How long each path of the stream part streams at its default rate (default: 5 with"
                    + " --quick, else 15).")
    Integer streamSeconds;

    @Option(
            names = "--scale",
            paramLabel = "RUNS[,RUNS...]",
            split = ",",
            hideParamSyntax = true,
            description = "Instead of the parts: fold RUNS runs (half started) and a tenth as many rooms, for each"
                    + " RUNS, and report the fold's rate, its stores on disk, the heap after a full GC, the time to"
                    + " answer again after a restart (with its state, and from the changelogs alone) and the latency"
                    + " of paging runs by status.")
    List<Integer> scale;

    @Option(
            names = "--wire-format",
            paramLabel = "FORMAT",
            description =
                    "single-object (default) or confluent (needs --schema-registry): how Substrate's parts write.")
    String wireFormat;

    @Option(
            names = "--schema-registry",
            paramLabel = "URL",
            description = "The Schema Registry of --wire-format confluent.")
    String schemaRegistry;

    @Option(
            names = {"-c", "--config"},
            paramLabel = "KEY=VALUE",
            description = "A Substrate or Kafka client setting for every part (such as linger.ms). Repeatable.")
    Map<String, String> settings = new HashMap<>();

    @Option(
            names = "--keep-data",
            description = "Keep the run's data directory (the embedded broker's logs and the instances' state, a few"
                    + " GB for a full run); it is deleted at the end otherwise.")
    boolean keepData;

    @Override
    public Integer call() throws Exception {
        if ((rooms != null && rooms < 1)
                || (roomRate != null && roomRate < 1)
                || (streamSeconds != null && streamSeconds < 1)) {
            throw new picocli.CommandLine.ParameterException(
                    spec.commandLine(), "--rooms, --room-rate and --stream-seconds must be at least 1");
        }
        PrintWriter stdout = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Bench.Sizes sizes = quick ? Bench.Sizes.quick() : Bench.Sizes.full();
        if (events != null) {
            sizes = new Bench.Sizes(
                    events,
                    Math.min(sizes.queryableSamples(), Math.max(20, events / 100)),
                    Math.min(sizes.observerSamples(), Math.max(100, events / 40)),
                    events < 10_000 ? Duration.ofSeconds(1) : sizes.queryDuration(),
                    Math.min(sizes.warmUpEvents(), Math.max(2_000, events / 10)),
                    events < 10_000
                            ? new StreamBench.Settings(
                                    sizes.stream().rooms(),
                                    sizes.stream().perRoomPerSecond(),
                                    Duration.ofSeconds(1),
                                    Duration.ofSeconds(1),
                                    1,
                                    500)
                            : sizes.stream());
        }
        if (rooms != null || roomRate != null || streamSeconds != null) {
            StreamBench.Settings stream = sizes.stream();
            sizes = new Bench.Sizes(
                    sizes.events(),
                    sizes.queryableSamples(),
                    sizes.observerSamples(),
                    sizes.queryDuration(),
                    sizes.warmUpEvents(),
                    new StreamBench.Settings(
                            rooms == null ? stream.rooms() : rooms,
                            roomRate == null ? stream.perRoomPerSecond() : roomRate,
                            streamSeconds == null ? stream.duration() : Duration.ofSeconds(streamSeconds),
                            stream.rampStep(),
                            stream.rampSteps(),
                            stream.blockDeltas()));
        }
        Path dataDir = Files.createTempDirectory("substrate-bench-");
        Map<String, String> explicit = new HashMap<>(settings);
        if (wireFormat != null) {
            explicit.put(TopicSettings.WIRE_FORMAT.key(), wireFormat);
        }
        if (schemaRegistry != null) {
            explicit.put(TopicSettings.SCHEMA_REGISTRY_URLS.key(), schemaRegistry);
        }
        ObjectNode report;
        try {
            report = onBroker(explicit, dataDir, sizes, err);
        } finally {
            if (keepData) {
                err.println("Kept " + dataDir);
            } else {
                try {
                    BenchFiles.deleteRecursively(dataDir);
                } catch (IOException e) {
                    err.println("Could not delete " + dataDir + ": " + e.getMessage());
                }
            }
            err.flush();
        }
        stdout.print(scale == null ? table(report) : scaleTable(report));
        stdout.flush();
        if (out != null) {
            JSON.writerWithDefaultPrettyPrinter().writeValue(out.toFile(), report);
            err.println("Wrote " + out);
            err.flush();
        }
        return 0;
    }

    /** {@link #measure} on the given cluster, or on an embedded broker in {@code dataDir} started for it. */
    private ObjectNode onBroker(Map<String, String> explicit, Path dataDir, Bench.Sizes sizes, PrintWriter err)
            throws Exception {
        if (bootstrapServers != null) {
            explicit.put(KafkaSettings.BOOTSTRAP_SERVERS.key(), bootstrapServers);
            return measure(explicit, dataDir, sizes, err);
        }
        err.println("Starting an embedded broker in " + dataDir);
        err.flush();
        try (EmbeddedKafka kafka =
                EmbeddedKafka.builder().dataDir(dataDir.resolve("kafka")).start()) {
            explicit.put(KafkaSettings.BOOTSTRAP_SERVERS.key(), kafka.bootstrapServers());
            return measure(explicit, dataDir, sizes, err);
        }
    }

    private ObjectNode measure(Map<String, String> explicit, Path dataDir, Bench.Sizes sizes, PrintWriter err)
            throws Exception {
        if (scale == null) {
            return new Bench(explicit, dataDir, sizes, err).run();
        }
        ObjectNode report = JSON.createObjectNode();
        report.set("machine", Bench.machine());
        ArrayNode rows = report.putArray("scale");
        for (int runs : scale) {
            rows.add(new ScaleRun(explicit, dataDir, err).run(runs));
        }
        return report;
    }

    /** The scale figures, one row per size. */
    static String scaleTable(JsonNode report) {
        Table table = new Table(
                "RUNS",
                "ROOMS",
                "EVENTS",
                "FOLD EV/S",
                "STORES MB",
                "HEAP MB",
                "RESTART S",
                "RESTORE S",
                "PAGE P50/P99 MS");
        for (JsonNode row : report.path("scale")) {
            table.row(
                    row.path("runs").asText(),
                    row.path("rooms").asText(),
                    row.path("events").asText(),
                    row.path("foldPerSecond").asText(),
                    Long.toString(row.path("storeBytes").asLong() / (1024 * 1024)),
                    Long.toString(row.path("heapAfterGcBytes").asLong() / (1024 * 1024)),
                    row.path("restartSeconds").asText(),
                    row.path("restoreSeconds").asText(),
                    ms(row.path("pagedList")));
        }
        return table.render();
    }

    /** The report as a readable table: one row per figure, Substrate beside raw Kafka. */
    static String table(JsonNode report) {
        Table table = new Table("PART", "FIGURE", "SUBSTRATE", "RAW KAFKA", "RATIO / OVER RAW");
        JsonNode append = report.path("append");
        table.row(
                "append",
                "events/s (acks=all), median of " + append.path("rounds").size() + " rounds",
                append.path("substratePerSecond").asText(),
                append.path("rawPerSecond").asText(),
                append.path("ratio").asText() + "x");
        JsonNode fold = report.path("fold");
        table.row(
                "fold",
                "events/s, to caught up",
                fold.path("substratePerSecond").asText(),
                fold.path("rawPerSecond").asText() + " (count)",
                fold.path("ratio").asText() + "x");
        table.row(
                "fold",
                "events/s once RUNNING (s to RUNNING)",
                fold.path("substrateRunningPerSecond").asText() + " ("
                        + fold.path("substrateStartSeconds").asText() + ")",
                fold.path("rawRunningPerSecond").asText() + " ("
                        + fold.path("rawStartSeconds").asText() + ")",
                fold.path("runningRatio").asText() + "x");
        table.row(
                "fold",
                "records written per event",
                fold.path("recordsPerEvent").asText(),
                "-",
                "-");
        JsonNode decisions = fold.path("decisions");
        table.row(
                "fold",
                "runs succeeded / appended, events refused",
                decisions.has("notChecked")
                        ? "not checked (query.count.budget)"
                        : decisions.path("runsSucceeded").asText() + " / "
                                + decisions.path("runs").asText() + ", "
                                + decisions.path("rejectionsOffset").asText(),
                "-",
                "-");
        JsonNode queryable = report.path("appendToQueryable");
        table.row("appendToQueryable", "p50 / p99 ms", ms(queryable), "-", "-");
        JsonNode http = report.path("httpAppend");
        for (String kind : List.of("single", "batched")) {
            for (String connections : List.of("oneConnection", "connections32")) {
                JsonNode figure = http.path(kind).path(connections);
                table.row(
                        "httpAppend",
                        kind + " (" + http.path(kind).path("eventsPerRequest").asText() + "/request), "
                                + figure.path("connections").asText() + " conn: events/s, p50 / p99 ms",
                        figure.path("eventsPerSecond").asText() + ", " + ms(figure),
                        http.path("rawPerSecond").asText() + " (producer)",
                        figure.path("ratio").asText() + "x");
            }
        }
        JsonNode trivial = http.path("trivialGet");
        table.row(
                "httpAppend",
                "trivial GET, " + trivial.path("connections").asText() + " conn: req/s, p50 / p99 ms",
                trivial.path("requestsPerSecond").asText() + ", " + ms(trivial),
                "-",
                "single: " + http.path("single").path("trivialGetRatio").asText() + "x");
        JsonNode observer = report.path("observerLatency");
        table.row(
                "observerLatency",
                "RoomStream p50 / p99 ms",
                ms(observer),
                ms(observer.path("raw")),
                String.format(
                        "%+.2f ms p99",
                        observer.path("p99Ms").asDouble()
                                - observer.path("rawP99Ms").asDouble()));
        table.row(
                "observerLatency",
                "SSE p50 / p99 ms",
                ms(observer.path("sse")),
                ms(observer.path("raw")),
                String.format(
                        "%+.2f ms p99",
                        observer.path("sse").path("p99Ms").asDouble()
                                - observer.path("rawP99Ms").asDouble()));
        streamRows(table, report.path("stream"));
        JsonNode query = report.path("query");
        table.row(
                "query", "local: req/s, p50 / p99 ms", query.path("throughput").asText() + ", " + ms(query), "-", "-");
        JsonNode forwarded = query.path("forwarded");
        table.row(
                "query",
                "forwarded: req/s, p50 / p99 ms",
                forwarded.path("throughput").asText() + ", " + ms(forwarded),
                "-",
                "-");
        String wire = report.path("settings").path("wireFormat").asText("single-object");
        return "wire format: " + wire + " (started in "
                + append.path("wireStartMs").asText() + " ms)\n" + table.render();
    }

    /** The stream part: each path's rate, append and observer latency, and sustainable rate beside raw Kafka's. */
    private static void streamRows(Table table, JsonNode stream) {
        JsonNode raw = stream.path("raw");
        String rawObserver = ms(raw.path("observers").path("raw"));
        for (String path : List.of("client", "httpSingle", "httpBatched")) {
            JsonNode figures = stream.path(path);
            JsonNode vsRaw = figures.path("vsRaw");
            table.row(
                    "stream",
                    path + ": deltas/s appended / folded",
                    figures.path("appendedPerSecond").asText() + " / "
                            + figures.path("foldedPerSecond").asText(),
                    raw.path("appendedPerSecond").asText(),
                    vsRaw.path("appendedRatio").asText() + "x");
            table.row(
                    "stream",
                    path + ": append p50 / p99 ms",
                    ms(figures.path("appendLatency")),
                    ms(raw.path("appendLatency")),
                    "-");
            for (String observer : List.of("sse", "roomStream")) {
                table.row(
                        "stream",
                        path + ": " + observer + " observer p50 / p99 ms",
                        ms(figures.path("observers").path(observer)),
                        rawObserver,
                        String.format(
                                "%+.2f ms p99",
                                vsRaw.path(observer + "P99OverRawMs").asDouble()));
            }
            table.row(
                    "stream",
                    path + ": sustainable deltas/s (ramp)",
                    figures.path("sustainablePerSecond").asText(),
                    raw.path("sustainablePerSecond").asText(),
                    vsRaw.path("sustainableRatio").asText() + "x");
        }
        JsonNode views = stream.path("views");
        String rawAgain = ms(views.path("raw"));
        for (String view : List.of("sse", "webSocket", "aiSdk", "longPoll")) {
            JsonNode figures = views.path(view);
            table.row(
                    "stream",
                    "view " + view + " (client path, alone): observer p50 / p99 ms"
                            + (figures.path("keptUp").asBoolean(true) ? "" : " (fell behind)"),
                    ms(figures),
                    rawAgain,
                    String.format("%+.2f ms p99", figures.path("p99OverRawMs").asDouble()));
        }
        JsonNode block = stream.path("blockCost");
        table.row(
                "stream",
                "fold deltas/s into a 1 KB / 1 MB block",
                block.path("smallPerSecond").asText() + " / "
                        + block.path("largePerSecond").asText(),
                "-",
                block.path("ratio").asText() + "x");
    }

    private static String ms(JsonNode latencies) {
        return latencies.path("p50Ms").asText() + " / "
                + latencies.path("p99Ms").asText();
    }
}
