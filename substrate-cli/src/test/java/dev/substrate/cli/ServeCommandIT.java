package dev.substrate.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.substrate.testing.KafkaCluster;
import dev.substrate.testing.SharedKafka;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** {@code substrate serve} against a real broker, and against none. */
@ExtendWith(SharedKafka.class)
@Timeout(180)
class ServeCommandIT {

    @TempDir
    Path dataDir;

    @Test
    void joinsAnExistingClusterNamedInTheEnvironment(KafkaCluster kafka) throws Exception {
        try (SubstrateProcess serve = SubstrateProcess.start(
                Map.of("SUBSTRATE_BOOTSTRAP_SERVERS", kafka.bootstrapServers(), "SUBSTRATE_HTTP_PORT", "0"),
                "serve",
                "--data-dir",
                dataDir.toString())) {
            String http = serve.awaitOutput("HTTP\\s+(\\S+)", Duration.ofSeconds(60));
            assertThat(serve.awaitOutput("Kafka\\s+(\\S+)", Duration.ofSeconds(5)))
                    .isEqualTo(kafka.bootstrapServers());

            assertThat(DevCommandIT.get(http + "/health")).contains("up");
            assertThat(serve.stop()).isEqualTo(SubstrateProcess.EXIT_ON_SIGTERM);
        }
    }

    @Test
    void exitsWithAClearMessageWhenKafkaDoesNotAnswer() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress("localhost", 0));
            closedPort = socket.getLocalPort();
        }
        try (SubstrateProcess serve = SubstrateProcess.start(
                Map.of(),
                "serve",
                "--bootstrap-servers",
                "localhost:" + closedPort,
                "--connect-timeout",
                "3",
                "--http-port",
                "0",
                "--data-dir",
                dataDir.toString())) {
            assertThat(serve.awaitExit(Duration.ofSeconds(60))).isEqualTo(1);
            assertThat(String.join("\n", serve.stderr()))
                    .contains("Kafka at localhost:" + closedPort + " did not answer within 3 s");
        }
    }

    @Test
    void refusesToStartWithoutBootstrapServers() throws Exception {
        try (SubstrateProcess serve = SubstrateProcess.start(Map.of(), "serve", "--data-dir", dataDir.toString())) {
            assertThat(serve.awaitExit(Duration.ofSeconds(60))).isEqualTo(1);
            assertThat(String.join("\n", serve.stderr()))
                    .contains("--bootstrap-servers")
                    .contains("SUBSTRATE_BOOTSTRAP_SERVERS");
        }
    }
}
