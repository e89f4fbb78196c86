package dev.substrate.api;

import static org.awaitility.Awaitility.await;

import dev.substrate.api.auth.Role;
import dev.substrate.api.auth.TokenFile;
import dev.substrate.api.auth.TokenStore;
import dev.substrate.client.SubstrateClient;
import dev.substrate.config.HttpSettings;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.streams.SubstrateFold;
import dev.substrate.testing.KafkaCluster;
import dev.substrate.testing.TestSettings;
import dev.substrate.topic.TopicSetup;
import dev.substrate.topic.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;

/** One Substrate instance for tests: client, HTTP API and fold, started in the order the product starts them. */
final class ApiInstance implements AutoCloseable {

    final SubstrateClient client;
    final HttpApi api;
    final SubstrateFold fold;
    final Topics topics;
    final TokenStore tokens;

    private ApiInstance(SubstrateClient client, HttpApi api, SubstrateFold fold, Topics topics, TokenStore tokens) {
        this.tokens = tokens;
        this.client = client;
        this.api = api;
        this.fold = fold;
        this.topics = topics;
    }

    /**
     * Starts an instance whose tokens are those of the tokens topic, with the tokens of {@code legacy} (an earlier
     * version's token file, where tests write the tokens they start with) imported.
     */
    static ApiInstance start(SubstrateConfig config, TokenFile legacy) {
        SubstrateConfig withFile =
                config.with(HttpSettings.TOKENS_FILE.key(), legacy.file().toString());
        SubstrateClient client = SubstrateClient.create(withFile);
        TokenStore tokens = TokenStore.start(withFile);
        HttpApi api = HttpApi.start(withFile, client, tokens);
        SubstrateFold fold = SubstrateFold.start(withFile, api.instance());
        api.serve(fold.queries(), fold::metrics);
        return new ApiInstance(client, api, fold, Topics.from(withFile), tokens);
    }

    /** Mints a token on this instance (in Kafka: every instance of the application honours it). */
    String mint(String principal, Role... roles) {
        return tokens.create(principal, Set.of(roles), List.of(), "test").token();
    }

    /**
     * Starts one instance on topics of its own in {@code kafka} (3 partitions, prefixed {@code name} and a random
     * suffix), data in {@code dataDir}, a free port and a 50 ms commit interval, with {@code more} settings as
     * key, value pairs; returns once {@code /ready} answers 200.
     */
    static ApiInstance startReady(KafkaCluster kafka, String name, Path dataDir, TokenFile tokens, String... more)
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

    /**
     * Starts {@code count} instances of one application (named {@code name} and a random suffix) on topics of their
     * own in {@code kafka} with {@code partitions} partitions each, data under {@code dir}, the tokens of {@code
     * tokens} imported and a 50 ms commit interval; returns once every one answers {@code /ready} with 200.
     */
    static List<ApiInstance> startApplication(
            KafkaCluster kafka, String name, Path dir, TokenFile tokens, int count, int partitions) throws Exception {
        String prefix = name + UUID.randomUUID().toString().substring(0, 6) + ".";
        List<ApiInstance> started = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            SubstrateConfig config = SubstrateConfig.of(TestSettings.of(
                    kafka,
                    prefix,
                    dir.resolve("instance-" + i),
                    prefix + "app",
                    "commit.interval.ms",
                    "50",
                    "http.port",
                    "0"));
            if (started.isEmpty()) {
                try (Admin admin = kafka.admin()) {
                    TopicSetup.ensure(admin, Topics.from(config), partitions, (short) -1);
                }
            }
            started.add(start(config, tokens));
        }
        for (ApiInstance instance : started) {
            await().atMost(Duration.ofMinutes(2))
                    .until(() -> ApiCalls.get(instance.url() + "/ready", null).statusCode() == 200);
        }
        return started;
    }

    String url() {
        return api.baseUrl();
    }

    @Override
    public void close() {
        api.close();
        fold.close();
        client.close();
        tokens.close();
    }
}
