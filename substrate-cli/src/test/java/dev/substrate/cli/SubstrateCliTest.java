package dev.substrate.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.substrate.config.SubstrateConfig;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

class SubstrateCliTest {

    @ParameterizedTest
    @ValueSource(
            strings = {
                "dev",
                "serve",
                "config",
                "tokens",
                "tokens create",
                "runs list",
                "runs show",
                "rooms transcript",
                "artifacts list"
            })
    void everyCommandExplainsItselfWithHelp(String command) {
        List<String> args = new ArrayList<>(List.of(command.split(" ")));
        args.add("--help");
        CliRun run = run(args.toArray(String[]::new));

        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).contains("Usage: substrate " + command);
    }

    @Test
    void devHelpNamesTheOptionsTheReadmePromises() {
        assertThat(run("dev", "--help").out()).contains("--data-dir", "--kafka-port", "--http-port");
    }

    @Test
    void serveHelpNamesTheOptionsTheReadmePromises() {
        assertThat(run("serve", "--help").out()).contains("--bootstrap-servers", "--http-port", "--data-dir");
    }

    @Test
    void configPrintsTheGeneratedReference() {
        CliRun run = run("config");

        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).isEqualTo(SubstrateConfig.markdownTable());
    }

    @Test
    void refusesAnUnknownRole() {
        CliRun run = run("tokens", "create", "x", "--role", "wizard", "--url", "http://127.0.0.1:9");

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).contains("unknown role 'wizard'");
    }

    @Test
    void anUnknownCommandIsAUsageError() {
        CliRun run = run("launch");

        assertThat(run.exitCode()).isEqualTo(CommandLine.ExitCode.USAGE);
        assertThat(run.err()).contains("launch");
    }

    @Test
    void describesAFailureWithItsCausesOnOneLine() {
        Exception failure =
                new IllegalStateException("Cannot start Kafka", new RuntimeException("Address already in use"));

        assertThat(SubstrateCli.describe(failure)).isEqualTo("Cannot start Kafka: Address already in use");
    }

    private static CliRun run(String... args) {
        return CliRun.of(args);
    }
}
