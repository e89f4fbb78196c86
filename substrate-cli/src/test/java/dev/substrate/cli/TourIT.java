package dev.substrate.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's tour is a script ({@code docs/tour.sh}) and this runs it, as a newcomer would, against {@code
 * substrate dev} on free ports: every command the README shows is one that works. The README's tour blocks hold
 * only lines of that script.
 */
@Timeout(300)
class TourIT {

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Path SCRIPT = ROOT.resolve("docs").resolve("tour.sh");
    private static final Duration STARTUP = Duration.ofSeconds(90);

    @TempDir
    Path dataDir;

    @Test
    void theTourRunsAgainstSubstrateDev() throws Exception {
        assumeTrue(
                TestPrograms.onPath("curl") && TestPrograms.onPath("jq"),
                "the tour needs curl and jq (apt-get install curl jq)");
        try (SubstrateProcess dev = SubstrateProcess.start(
                Map.of(), "dev", "--data-dir", dataDir.toString(), "--kafka-port", "0", "--http-port", "0")) {
            String bootstrap = dev.awaitOutput("Kafka\\s+(\\S+)", STARTUP);
            String http = dev.awaitOutput("HTTP\\s+(\\S+)", STARTUP);
            await().atMost(STARTUP).until(() -> DevCommandIT.status(http + "/ready", null) == 200);
            String token = Files.readString(dataDir.resolve("admin.token")).strip();

            Path output = dataDir.resolve("tour.out");
            ProcessBuilder tour = new ProcessBuilder("bash", SCRIPT.toString())
                    .directory(ROOT.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(output.toFile());
            tour.environment().put("SUBSTRATE_URL", http);
            tour.environment().put("SUBSTRATE_BOOTSTRAP_SERVERS", bootstrap);
            tour.environment().put("SUBSTRATE_TOKEN", token);
            // The tour's ./substrate commands are short-lived JVMs, as the test's own processes are.
            tour.environment().put("SUBSTRATE_JAVA_OPTS", String.join(" ", SubstrateProcess.QUICK_JVM));
            Process process = tour.start();
            boolean ended = process.waitFor(4, TimeUnit.MINUTES);
            if (!ended) {
                process.destroyForcibly();
            }
            String printed = Files.readString(output, StandardCharsets.UTF_8);
            System.out.println(printed);

            assertThat(ended).as("the tour ended in time").isTrue();
            assertThat(process.exitValue()).as(printed).isZero();
            assertThat(printed)
                    .contains("[\"RunCreated\",\"RunStarted\"]")
                    .contains("answered: interrupt approve")
                    .contains("refused (invalid_answer)")
                    .contains("run.interrupt.answered run")
                    .contains("event: TextDelta")
                    .contains("Hello, world")
                    .endsWith("tour: done\n");
        }
    }

    @Test
    void theReadmeShowsTheToursCommands() throws IOException {
        List<String> script =
                Files.readAllLines(SCRIPT).stream().map(String::strip).toList();
        List<String> shown = tourLines(Files.readString(ROOT.resolve("README.md"), StandardCharsets.UTF_8));

        assertThat(shown).as("the README's tour").hasSizeGreaterThan(20);
        assertThat(script).as("docs/tour.sh").containsAll(shown);
    }

    /** The lines of the README's code blocks between its tour markers, blank ones left out. */
    private static List<String> tourLines(String readme) {
        String start = "<!-- tour:start -->";
        String end = "<!-- tour:end -->";
        assertThat(readme).contains(start).contains(end);
        List<String> lines = new ArrayList<>();
        boolean inCode = false;
        for (String line :
                readme.substring(readme.indexOf(start), readme.indexOf(end)).split("\n")) {
            if (line.startsWith("```")) {
                inCode = !inCode;
            } else if (inCode && !line.isBlank()) {
                lines.add(line.strip());
            }
        }
        return lines;
    }
}
