package dev.substrate.cli;

import dev.substrate.cli.internal.KafkaReachability;
import dev.substrate.cli.internal.SubstrateNode;
import dev.substrate.cli.internal.UntilStopped;
import dev.substrate.config.InvalidConfiguration;
import dev.substrate.config.KafkaSettings;
import dev.substrate.config.SubstrateConfig;
import java.io.PrintWriter;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code substrate serve}: one Substrate instance joined to a real Kafka cluster. */
@Command(
        name = "serve",
        mixinStandardHelpOptions = true,
        description = {
            "Runs one Substrate instance against an existing Kafka cluster.",
            "Start more instances with the same settings to scale out.",
            "Stops cleanly on Ctrl-C or SIGTERM."
        },
        footer = {
            "  substrate serve --bootstrap-servers kafka-1:9092,kafka-2:9092",
            "  SUBSTRATE_BOOTSTRAP_SERVERS=kafka-1:9092 SUBSTRATE_HTTP_HOST=0.0.0.0 \\",
            "    substrate serve -c security.protocol=SASL_SSL"
        })
final class ServeCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    ServerOptions server;

    @Option(
            names = "--bootstrap-servers",
            paramLabel = "HOST:PORT[,HOST:PORT...]",
            description = "Kafka brokers to connect to (default: SUBSTRATE_BOOTSTRAP_SERVERS).")
    String bootstrapServers;

    @Option(
            names = "--connect-timeout",
            paramLabel = "SECONDS",
            description = "How long to wait for the cluster to answer at start (default: 30, or"
                    + " SUBSTRATE_CONNECT_TIMEOUT_MS in milliseconds).")
    Integer connectTimeoutSeconds;

    @Override
    public Integer call() throws InterruptedException {
        Map<String, String> extra = new HashMap<>();
        ServerOptions.putIfSet(extra, KafkaSettings.BOOTSTRAP_SERVERS.key(), bootstrapServers);
        if (connectTimeoutSeconds != null) {
            extra.put(KafkaSettings.CONNECT_TIMEOUT.key(), Long.toString(connectTimeoutSeconds * 1000L));
        }
        SubstrateConfig config = server.load(extra);
        if (config.get(KafkaSettings.BOOTSTRAP_SERVERS).isEmpty()) {
            throw new InvalidConfiguration(
                    KafkaSettings.BOOTSTRAP_SERVERS.key(),
                    "serve needs Kafka: pass --bootstrap-servers HOST:PORT or set "
                            + SubstrateConfig.envName(KafkaSettings.BOOTSTRAP_SERVERS.key()),
                    null);
        }
        String clusterId = KafkaReachability.clusterId(config, config.get(KafkaSettings.CONNECT_TIMEOUT));
        PrintWriter out = spec.commandLine().getOut();

        UntilStopped untilStopped = UntilStopped.onSignal();
        try {
            try (SubstrateNode node = SubstrateNode.start(config)) {
                out.printf("Substrate is serving.%n");
                out.printf("  Kafka   %s   (cluster %s)%n", config.get(KafkaSettings.BOOTSTRAP_SERVERS), clusterId);
                node.describe(out);
                out.printf(
                        "  Data    %s%n",
                        config.get(KafkaSettings.DATA_DIR).toAbsolutePath().normalize());
                out.printf("  Console %s/   (sign in with a token from `substrate tokens create`)%n", node.httpUrl());
                untilStopped.await(out);
            }
            untilStopped.sayStopped(out);
        } finally {
            untilStopped.release();
        }
        return 0;
    }
}
