package dev.substrate.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.substrate.testing.SampleEvents;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Two processes appending to one run in one local store at once lose nothing and apply everything once. */
@Timeout(180)
class TwoProcessesIT {

    @TempDir
    Path dir;

    @Test
    void twoProcessesAppendingToOneRunLoseNothing() throws Exception {
        Path file = dir.resolve("local.db");
        int each = 300;
        try (LocalRuns runs = LocalRuns.open(file)) {
            runs.append(SampleEvents.runEvent(
                    "run-shared-file", SampleEvents.runPayloads().get(0)));
        }
        List<Process> writers = new ArrayList<>();
        for (String writer : List.of("a", "b")) {
            writers.add(new ProcessBuilder(
                            Path.of(System.getProperty("java.home"), "bin", "java")
                                    .toString(),
                            "-cp",
                            System.getProperty("java.class.path"),
                            AppendMany.class.getName(),
                            file.toString(),
                            "run-shared-file",
                            writer,
                            Integer.toString(each))
                    .redirectErrorStream(true)
                    .redirectOutput(dir.resolve(writer + ".log").toFile())
                    .start());
        }
        for (Process writer : writers) {
            assertThat(writer.waitFor(150, TimeUnit.SECONDS)).isTrue();
            assertThat(writer.exitValue())
                    .as(new String(java.nio.file.Files.readAllBytes(
                            dir.resolve((writers.indexOf(writer) == 0 ? "a" : "b") + ".log"))))
                    .isZero();
        }
        try (LocalRuns runs = LocalRuns.open(file)) {
            var run = runs.run("run-shared-file").orElseThrow();
            System.out.printf(
                    "two processes: %d events stored, run version %d, %d labels%n",
                    runs.events("run-shared-file").size(),
                    run.getVersion(),
                    run.getLabels().size());
            assertThat(runs.events("run-shared-file")).hasSize(1 + 2 * each);
            assertThat(run.getVersion()).isEqualTo(1 + 2 * each);
            assertThat(run.getLabels().keySet())
                    .filteredOn(key -> key.startsWith("a."))
                    .hasSize(each);
            assertThat(run.getLabels().keySet())
                    .filteredOn(key -> key.startsWith("b."))
                    .hasSize(each);
        }
    }
}
