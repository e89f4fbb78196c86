package dev.substrate.cli;

import dev.substrate.cli.internal.SubstrateNode;
import dev.substrate.cli.internal.UntilStopped;
import dev.substrate.config.HttpSettings;
import dev.substrate.config.KafkaSettings;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.config.WebhookSettings;
import dev.substrate.kafka.embedded.EmbeddedKafka;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code substrate dev}: everything on this machine, on a real embedded single-node KRaft broker. */
@Command(
        name = "dev",
        mixinStandardHelpOptions = true,
        description = {
            "Runs Substrate on this machine with its own embedded Kafka broker (single-node KRaft).",
            "Data lives under the data directory; starting again on it keeps every topic and record.",
            "Stops cleanly on Ctrl-C or SIGTERM."
        },
        footer = {
            "  substrate dev",
            "  substrate dev --kafka-port 0 --http-port 0      # free ports, printed at start",
            "  substrate dev --data-dir /tmp/sub -c topic.partitions=3"
        })
final class DevCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    ServerOptions server;

    @Option(
            names = "--kafka-port",
            paramLabel = "N",
            description = "Client port of the embedded Kafka broker; 0 picks a free one "
                    + "(default: 9092, or SUBSTRATE_EMBEDDED_KAFKA_PORT).")
    Integer kafkaPort;

    @Override
    public Integer call() throws Exception {
        Map<String, String> extra = new HashMap<>();
        ServerOptions.putIfSet(extra, KafkaSettings.EMBEDDED_PORT.key(), kafkaPort);
        // On a developer's machine webhooks go to its own receivers (substrate webhooks listen): allowed unless said.
        String allowPrivate = WebhookSettings.ALLOW_PRIVATE.key();
        if (!server.settings.containsKey(allowPrivate)
                && !System.getenv().containsKey(SubstrateConfig.envName(allowPrivate))) {
            extra.put(allowPrivate, "true");
        }
        SubstrateConfig config = server.load(extra);
        Path dataDir = config.get(KafkaSettings.DATA_DIR).toAbsolutePath().normalize();
        DevData.ownerOnly(dataDir);
        if (config.get(HttpSettings.CLUSTER_SECRET).isEmpty()) {
            // Instances sign what they forward with it: kept in the owner-only data directory, never on a topic.
            config = config.with(HttpSettings.CLUSTER_SECRET.key(), DevData.clusterSecret(dataDir));
        }
        PrintWriter out = spec.commandLine().getOut();

        UntilStopped untilStopped = UntilStopped.onSignal();
        try {
            try (EmbeddedKafka kafka = EmbeddedKafka.builder()
                            .dataDir(dataDir)
                            .port(config.get(KafkaSettings.EMBEDDED_PORT))
                            .start();
                    SubstrateNode node = SubstrateNode.start(config.withBootstrapServers(kafka.bootstrapServers()))) {
                boolean firstStart = !Files.exists(dataDir.resolve("admin.token"));
                Path adminToken = node.ensureAdminToken(dataDir);
                out.printf("Substrate dev is running.%n");
                out.printf(
                        "  Kafka   %s   (embedded KRaft broker, cluster %s, %s, started in %.1f s)%n",
                        kafka.bootstrapServers(),
                        kafka.clusterId(),
                        kafka.formattedOnStart() ? "new log dir" : "existing log dir reused",
                        kafka.startupTime().toMillis() / 1000.0);
                node.describe(out);
                out.printf("  Data    %s%n", dataDir);
                out.printf("  Token   %s   (admin; send it as Authorization: Bearer <token>)%n", adminToken);
                out.printf(
                        "  Secret  %s   (cluster.secret: give it to another instance of this application)%n",
                        dataDir.resolve(DevData.CLUSTER_SECRET_FILE));
                if (firstStart) {
                    // As Jupyter does for a local server: the console URL signs the browser in with the dev admin
                    // token. Printed on the first start alone, so that the token is not in every later log.
                    out.printf(
                            "  Console %s/#token=%s   (open it: signed in as admin)%n",
                            node.httpUrl(), Files.readString(adminToken).strip());
                } else {
                    out.printf("  Console %s/   (sign in with the token in %s)%n", node.httpUrl(), adminToken);
                }
                untilStopped.await(out);
            }
            untilStopped.sayStopped(out);
        } finally {
            untilStopped.release();
        }
        return 0;
    }
}
