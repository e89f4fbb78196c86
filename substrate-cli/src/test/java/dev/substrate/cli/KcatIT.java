package dev.substrate.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A standard non-Java client (kcat, on librdkafka) produces to and consumes from the broker that {@code substrate
 * dev} starts. Skipped, saying so, where kcat is not installed; CI installs it.
 */
@Timeout(180)
class KcatIT {

    @TempDir
    Path dataDir;

    @Test
    void kcatProducesAndConsumesThroughTheDevBroker() throws Exception {
        assumeTrue(
                TestPrograms.onPath("kcat"),
                "kcat is not installed (apt-get install kcat); this test needs a non-Java client");
        try (SubstrateProcess dev = SubstrateProcess.start(
                Map.of(), "dev", "--data-dir", dataDir.toString(), "--kafka-port", "0", "--http-port", "0")) {
            String bootstrap = dev.awaitOutput("Kafka\\s+(\\S+)", Duration.ofSeconds(90));

            Process produce = new ProcessBuilder("kcat", "-P", "-b", bootstrap, "-t", "kcat", "-K", ":")
                    .redirectErrorStream(true)
                    .start();
            produce.getOutputStream().write("run-1:hello from librdkafka\n".getBytes(StandardCharsets.UTF_8));
            produce.getOutputStream().close();
            assertThat(produce.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(produce.exitValue()).isZero();

            Process consume = new ProcessBuilder(
                            "kcat",
                            "-C",
                            "-b",
                            bootstrap,
                            "-t",
                            "kcat",
                            "-o",
                            "beginning",
                            "-e",
                            "-q",
                            "-f",
                            "%k=%s\\n")
                    .redirectErrorStream(true)
                    .start();
            assertThat(consume.waitFor(60, TimeUnit.SECONDS)).isTrue();
            String consumed = new String(consume.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(consumed.lines().toList()).containsExactly("run-1=hello from librdkafka");

            assertThat(dev.stop()).isEqualTo(SubstrateProcess.EXIT_ON_SIGTERM);
        }
    }
}
