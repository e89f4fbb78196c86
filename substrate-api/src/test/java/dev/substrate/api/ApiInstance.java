package dev.substrate.api;

import static org.awaitility.Awaitility.await;

import dev.substrate.api.auth.TokenStore;
import dev.substrate.client.SubstrateClient;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.streams.SubstrateFold;
import dev.substrate.testing.KafkaCluster;
import dev.substrate.testing.TestSettings;
import dev.substrate.topic.Topics;
import dev.substrate.topic.internal.TopicSetup;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;

/** One Substrate instance for tests: client, HTTP API and fold, started in the order the product starts them. */
final class ApiInstance implements AutoCloseable {

    final SubstrateClient client;
    final HttpApi api;
    final SubstrateFold fold;
    final Topics topics;

    private ApiInstance(SubstrateClient client, HttpApi api, SubstrateFold fold, Topics topics) {
        this.client = client;
        this.api = api;
        this.fold = fold;
        this.topics = topics;
    }

    static ApiInstance start(SubstrateConfig config, TokenStore tokens) {
        SubstrateClient client = SubstrateClient.create(config);
        HttpApi api = HttpApi.start(config, client, tokens);
        SubstrateFold fold = SubstrateFold.start(config, api.instance());
        api.serve(fold.queries(), fold::metrics);
        return new ApiInstance(client, api, fold, Topics.from(config));
    }

    /**
     * Starts one instance on topics of its own in {@code kafka} (3 partitions, prefixed {@code name} and a random
     * suffix), data in {@code dataDir}, a free port and a 50 ms commit interval, with {@code more} settings as
     * key, value pairs; returns once {@code /ready} answers 200.
     */
    static ApiInstance startReady(KafkaCluster kafka, String name, Path dataDir, TokenStore tokens, String... more)
            throws Exception {
        String prefix = name + UUID.randomUUID().toString().substring(0, 6) + ".";
        List<String> settings = new ArrayList<>(List.of("commit.interval.ms", "50", "http.port", "0"));
        settings.addAll(List.of(more));
        SubstrateConfig config = SubstrateConfig.of(
                TestSettings.of(kafka, prefix, dataDir, prefix + "fold", settings.toArray(String[]::new)));
        try (Admin admin = kafka.admin()) {
            TopicSetup.ensure(admin, Topics.from(config), 3, (short) -1);
        }
        ApiInstance instance = start(config, tokens);
        await().atMost(Duration.ofSeconds(60))
                .until(() -> ApiCalls.get(instance.url() + "/ready", null).statusCode() == 200);
        return instance;
    }

    String url() {
        return api.baseUrl();
    }

    @Override
    public void close() {
        api.close();
        fold.close();
        client.close();
    }
}
