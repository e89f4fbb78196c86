package dev.substrate.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code substrate bench} end to end on its embedded broker, made small: every part runs and the JSON holds every
 * figure the README names. What the figures are is not asserted (tests never assert a time).
 */
@Timeout(300)
class BenchCommandIT {

    @TempDir
    Path dir;

    @Test
    void runsEveryPartAndWritesTheFiguresAsJson() throws Exception {
        Path out = dir.resolve("b.json");
        CliRun bench = CliRun.of("bench", "--events", "2000", "--rooms", "10", "--out", out.toString());

        assertThat(bench.exitCode()).as(bench.err()).isZero();
        // The run's data directory (broker logs, instances' state) is gone once it ends.
        java.util.regex.Matcher started = java.util.regex.Pattern.compile("Starting an embedded broker in (\\S+)")
                .matcher(bench.err());
        assertThat(started.find()).as(bench.err()).isTrue();
        assertThat(Path.of(started.group(1))).doesNotExist();
        assertThat(bench.out())
                .contains("append")
                .contains("fold")
                .contains("observerLatency")
                .contains("query");
        JsonNode report = new ObjectMapper().readTree(out.toFile());
        for (String figure : List.of(
                "append.ratio",
                "append.rawPerSecond",
                "fold.ratio",
                "fold.runningRatio",
                "fold.substrateStartSeconds",
                "fold.rawStartSeconds",
                "appendToQueryable.p50Ms",
                "appendToQueryable.p99Ms",
                "observerLatency.p50Ms",
                "observerLatency.p99Ms",
                "observerLatency.rawP99Ms",
                "observerLatency.sse.p99Ms",
                "httpAppend.trivialGet.requestsPerSecond",
                "httpAppend.single.trivialGetRatio",
                "stream.raw.appendedPerSecond",
                "stream.raw.observers.raw.p99Ms",
                "stream.client.appendedPerSecond",
                "stream.client.foldedPerSecond",
                "stream.client.appendLatency.p99Ms",
                "stream.client.observers.sse.p99Ms",
                "stream.client.observers.roomStream.p99Ms",
                "stream.client.vsRaw.appendedRatio",
                "stream.httpSingle.appendedPerSecond",
                "stream.httpSingle.observers.sse.p99Ms",
                "stream.httpBatched.appendedPerSecond",
                "stream.httpBatched.observers.roomStream.p99Ms",
                "stream.blockCost.smallPerSecond",
                "stream.blockCost.largePerSecond",
                "stream.blockCost.ratio",
                "query.throughput",
                "query.p50Ms",
                "query.p99Ms",
                "query.forwarded.p99Ms",
                "machine.cores",
                "machine.jvm",
                "settings.events",
                "settings.warmUpEvents")) {
            JsonNode value = report.at("/" + figure.replace('.', '/'));
            assertThat(value.isMissingNode()).as(figure).isFalse();
            if (value.isNumber()) {
                assertThat(value.asDouble()).as(figure).isPositive();
            }
        }
        assertThat(report.at("/appendToQueryable/samples").asInt()).isEqualTo(20);
        // The stream part: ten rooms, and every delta each path appended reached both observers of its room.
        assertThat(report.at("/stream/settings/rooms").asInt()).isEqualTo(10);
        for (String path : List.of("client", "httpSingle", "httpBatched")) {
            JsonNode figures = report.at("/stream/" + path);
            assertThat(figures.path("failed").asLong()).as(path).isZero();
            for (String observer : List.of("sse", "roomStream")) {
                assertThat(figures.at("/observers/" + observer + "/received").asLong())
                        .as(path + " " + observer)
                        .isEqualTo(figures.path("sent").asLong());
            }
        }
        // Each view alone (one client a room): every delta of its step reached every client.
        for (String view : List.of("sse", "webSocket", "aiSdk", "longPoll")) {
            JsonNode figures = report.at("/stream/views/" + view);
            assertThat(figures.path("sent").asLong()).as(view).isPositive();
            assertThat(figures.path("received").asLong())
                    .as(view)
                    .isEqualTo(figures.path("sent").asLong());
            assertThat(figures.path("p99Ms").asDouble()).as(view).isPositive();
        }
        // The append figures are medians of rounds, each side in turn; each round's figures are kept.
        assertThat(report.at("/append/rounds")).hasSize(3);
        assertThat(report.at("/append/rounds/0/rawPerSecond").asLong()).isPositive();
        assertThat(report.at("/append/rounds/2/substratePerSecond").asLong()).isPositive();
        // The fold decided every event once: every run of the backlog (2,000 events / 8) succeeded, none refused.
        assertThat(report.at("/fold/decisions/runs").asInt()).isEqualTo(250);
        assertThat(report.at("/fold/decisions/runsSucceeded").asInt()).isEqualTo(250);
        assertThat(report.at("/fold/decisions/rejectionsOffset").isNumber()).isTrue();
        assertThat(report.at("/fold/decisions/rejectionsOffset").asLong()).isZero();
    }
}
