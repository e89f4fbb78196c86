package dev.substrate.benchmarks;

import dev.substrate.api.HttpApi;
import dev.substrate.api.auth.Role;
import dev.substrate.api.auth.TokenStore;
import dev.substrate.client.SubstrateClient;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.kafka.embedded.EmbeddedKafka;
import dev.substrate.streams.StateQueries;
import dev.substrate.streams.SubstrateFold;
import dev.substrate.testing.SampleEvents;
import dev.substrate.topic.TopicSetup;
import dev.substrate.topic.Topics;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntFunction;
import org.apache.kafka.clients.admin.Admin;

/**
 * Interactive-query throughput and latency over HTTP, on two Substrate instances of one application sharing an
 * embedded broker: key lookups answered by the instance that holds the key ("local"), key lookups forwarded by
 * the other ("forwarded"), and a 100-item list page gathered from both ("list"). Also an in-process key lookup
 * (IQv2, no HTTP) as the floor. Prints requests/s, p50 and p99 for each; asserts nothing. Run with
 *
 * <pre>
 * java -cp substrate-benchmarks/target/benchmarks.jar dev.substrate.benchmarks.QueryThroughput [runs [seconds [threads]]]
 * </pre>
 */
public final class QueryThroughput {

    private QueryThroughput() {}

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 5_000;
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        int threads = args.length > 2 ? Integer.parseInt(args[2]) : 8;
        Path dataDir = Files.createTempDirectory("substrate-query-bench-");
        try (EmbeddedKafka kafka =
                EmbeddedKafka.builder().dataDir(dataDir.resolve("kafka")).start()) {
            SubstrateConfig a = config(kafka, dataDir, "a");
            SubstrateConfig b = config(kafka, dataDir, "b");
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
                TopicSetup.ensure(admin, Topics.from(a), 6, (short) -1);
            }
            TokenStore tokens = new TokenStore(dataDir.resolve("tokens.json"));
            String token = tokens.create("bench", Set.of(Role.OPERATOR));
            try (Instance first = Instance.start(a, tokens);
                    Instance second = Instance.start(b, tokens)) {
                List<String> runIds = appendRuns(second.client, runs);
                HttpClient http = HttpClient.newBuilder()
                        .version(HttpClient.Version.HTTP_1_1)
                        .build();
                waitUntilVisible(http, first.api.baseUrl(), token, runIds);

                // Which instance holds which run: the answer names it.
                List<String> localToFirst = new ArrayList<>();
                List<String> remoteToFirst = new ArrayList<>();
                for (String runId : runIds) {
                    HttpResponse<Void> answer = http.send(
                            get(first.api.baseUrl() + "/v1/runs/" + runId, token),
                            HttpResponse.BodyHandlers.discarding());
                    String owner = answer.headers()
                            .firstValue("X-Substrate-Answered-By")
                            .orElse("");
                    (owner.equals(first.api.instance().toString()) ? localToFirst : remoteToFirst).add(runId);
                }
                System.out.printf(
                        "%d runs: %d held by the instance asked, %d by the other; %d client threads, %d s each%n%n",
                        runs, localToFirst.size(), remoteToFirst.size(), threads, seconds);
                System.out.printf("%-28s %12s %10s %10s%n", "query", "requests/s", "p50 ms", "p99 ms");
                StateQueries queries = first.queries;
                report("in-process key lookup", measure(threads, seconds, i -> {
                    queries.run(localToFirst.get(i % localToFirst.size()));
                    return true;
                }));
                String base = first.api.baseUrl();
                report(
                        "HTTP key lookup, local",
                        measure(
                                threads,
                                seconds,
                                i -> ok(http, base + "/v1/runs/" + localToFirst.get(i % localToFirst.size()), token)));
                report(
                        "HTTP key lookup, forwarded",
                        measure(
                                threads,
                                seconds,
                                i -> ok(
                                        http,
                                        base + "/v1/runs/" + remoteToFirst.get(i % remoteToFirst.size()),
                                        token)));
                report(
                        "HTTP list, 100 per page",
                        measure(threads, seconds, i -> ok(http, base + "/v1/runs?limit=100", token)));
            }
        }
    }

    private static SubstrateConfig config(EmbeddedKafka kafka, Path dataDir, String name) {
        return SubstrateConfig.of(Map.of(
                "bootstrap.servers",
                kafka.bootstrapServers(),
                "data.dir",
                dataDir.resolve(name).toString(),
                "http.port",
                "0",
                "application.id",
                "query-bench"));
    }

    private static List<String> appendRuns(SubstrateClient client, int runs) {
        List<String> runIds = new ArrayList<>();
        List<CompletableFuture<?>> acks = new ArrayList<>();
        for (int i = 0; i < runs; i++) {
            String runId = "run-" + i;
            runIds.add(runId);
            acks.add(client.append(
                    SampleEvents.runEvent(runId, SampleEvents.runPayloads().get(0))));
        }
        CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).join();
        return runIds;
    }

    private static void waitUntilVisible(HttpClient http, String base, String token, List<String> runIds)
            throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        String last = base + "/v1/runs/" + runIds.get(runIds.size() - 1);
        while (!ok(http, last, token) || !ok(http, base + "/v1/runs/" + runIds.get(0), token)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the fold did not catch up in 3 minutes");
            }
            Thread.sleep(200); // the fold reports no progress to wait on here: poll
        }
    }

    private static boolean ok(HttpClient http, String url, String token) {
        try {
            return http.send(get(url, token), HttpResponse.BodyHandlers.discarding())
                            .statusCode()
                    == 200;
        } catch (Exception e) {
            return false;
        }
    }

    private static HttpRequest get(String url, String token) {
        return HttpRequest.newBuilder(URI.create(url))
                .header("Authorization", "Bearer " + token)
                .GET()
                .build();
    }

    /** Latencies in nanoseconds of every successful call made by {@code threads} threads for {@code seconds}. */
    private static Result measure(int threads, int seconds, IntFunction<Boolean> call) throws Exception {
        // Warm up for a second, then measure.
        run(threads, 1, call);
        return run(threads, seconds, call);
    }

    private static Result run(int threads, int seconds, IntFunction<Boolean> call) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        long end = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
        List<Future<long[]>> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int offset = t * 7919;
            workers.add(pool.submit(() -> {
                long[] latencies = new long[1 << 16];
                int count = 0;
                int failures = 0;
                for (int i = offset; System.nanoTime() < end; i++) {
                    long start = System.nanoTime();
                    boolean ok = call.apply(i);
                    long took = System.nanoTime() - start;
                    if (!ok) {
                        failures++;
                        continue;
                    }
                    if (count == latencies.length) {
                        latencies = Arrays.copyOf(latencies, count * 2);
                    }
                    latencies[count++] = took;
                }
                if (failures > 0) {
                    System.out.println("  (" + failures + " failed calls left out)");
                }
                return Arrays.copyOf(latencies, count);
            }));
        }
        List<long[]> all = new ArrayList<>();
        for (Future<long[]> worker : workers) {
            all.add(worker.get());
        }
        pool.shutdown();
        long[] merged = all.stream().flatMapToLong(Arrays::stream).sorted().toArray();
        return new Result(merged, seconds);
    }

    private static void report(String name, Result result) {
        System.out.printf(
                "%-28s %12.0f %10.2f %10.2f%n",
                name, result.perSecond(), result.percentile(0.50) / 1e6, result.percentile(0.99) / 1e6);
    }

    private record Result(long[] sortedNanos, int seconds) {
        double perSecond() {
            return sortedNanos.length / (double) seconds;
        }

        double percentile(double p) {
            return sortedNanos.length == 0
                    ? Double.NaN
                    : sortedNanos[(int) Math.min(sortedNanos.length - 1, p * sortedNanos.length)];
        }
    }

    /** One Substrate instance: client, HTTP API and fold, started as the product starts them. */
    private static final class Instance implements AutoCloseable {
        final SubstrateClient client;
        final HttpApi api;
        final SubstrateFold fold;
        final StateQueries queries;

        private Instance(SubstrateClient client, HttpApi api, SubstrateFold fold, StateQueries queries) {
            this.client = client;
            this.api = api;
            this.fold = fold;
            this.queries = queries;
        }

        static Instance start(SubstrateConfig config, TokenStore tokens) {
            SubstrateClient client = SubstrateClient.create(config);
            HttpApi api = HttpApi.start(config, client, tokens);
            SubstrateFold fold = SubstrateFold.start(config, api.instance());
            StateQueries queries = fold.queries();
            api.serve(queries, fold::metrics);
            return new Instance(client, api, fold, queries);
        }

        @Override
        public void close() {
            api.close();
            fold.close();
            client.close();
        }
    }
}
