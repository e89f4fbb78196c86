package dev.substrate.cli.internal;

import dev.substrate.api.HttpApi;
import dev.substrate.api.auth.Role;
import dev.substrate.api.auth.TokenStore;
import dev.substrate.client.SubstrateClient;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.config.TopicSettings;
import dev.substrate.event.Wire;
import dev.substrate.streams.SubstrateFold;
import dev.substrate.topic.TopicSetup;
import dev.substrate.topic.Topics;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

/**
 * The parts of one Substrate process that run against a Kafka cluster, started together and stopped in
 * reverse order. At start it creates Substrate's missing topics and checks the existing ones, starts the fold,
 * and serves the HTTP API.
 */
public final class SubstrateNode implements AutoCloseable {

    private final SubstrateFold fold;
    private final SubstrateClient client;
    private final HttpApi http;
    private final String topicPrefix;
    private final List<String> createdTopics;
    private final Wire wire;
    private final TokenStore tokens;

    private SubstrateNode(
            SubstrateFold fold,
            SubstrateClient client,
            HttpApi http,
            String topicPrefix,
            List<String> createdTopics,
            Wire wire,
            TokenStore tokens) {
        this.wire = wire;
        this.tokens = tokens;
        this.fold = fold;
        this.client = client;
        this.http = http;
        this.topicPrefix = topicPrefix;
        this.createdTopics = createdTopics;
    }

    /**
     * Sets up the topics and starts every part against the cluster named by {@code config.bootstrapServers()}.
     *
     * @throws dev.substrate.topic.TopicMisconfigured if an existing topic has the wrong cleanup policy
     */
    public static SubstrateNode start(SubstrateConfig config) {
        List<String> created;
        Map<String, Object> adminConfig = new HashMap<>(config.kafkaProperties(AdminClientConfig.configNames()));
        try (Admin admin = Admin.create(adminConfig)) {
            created = TopicSetup.ensure(
                    admin,
                    Topics.from(config),
                    config.get(TopicSettings.PARTITIONS),
                    config.get(TopicSettings.REPLICATION_FACTOR));
        }
        // Started once for the process (in the confluent format, registering the subjects first) and passed down:
        // the client and the fold write with the same ids.
        Wire wire = Wire.start(config);
        SubstrateClient client = SubstrateClient.create(config, wire);
        TokenStore tokens = TokenStore.start(config);
        HttpApi http = null;
        SubstrateFold fold = null;
        try {
            // The API starts first: the fold advertises where it answers, so other instances can forward to it.
            http = HttpApi.start(config, client, tokens);
            fold = SubstrateFold.start(config, wire, http.instance());
            http.serve(fold.queries(), fold::metrics);
            return new SubstrateNode(fold, client, http, config.get(TopicSettings.PREFIX), created, wire, tokens);
        } catch (RuntimeException e) {
            if (fold != null) {
                fold.close();
            }
            if (http != null) {
                http.close();
            }
            tokens.close();
            client.close();
            throw e;
        }
    }

    /** Where the HTTP API answers. */
    public String httpUrl() {
        return http.baseUrl();
    }

    /** The topics this start created (empty when they all existed). */
    public List<String> createdTopics() {
        return createdTopics;
    }

    /** The bearer tokens of the HTTP API, followed from the tokens topic. */
    public TokenStore tokens() {
        return tokens;
    }

    /**
     * Mints a token once the tokens are read (at most 60 s), for a principal reaching every project.
     *
     * @return the token
     */
    public String mintToken(String principal, Set<Role> roles, String createdBy) throws InterruptedException {
        if (!tokens.awaitReady(Duration.ofSeconds(60))) {
            throw new IllegalStateException(
                    "Cannot read the tokens: " + tokens.notReady().orElse(""));
        }
        return tokens.create(principal, roles, List.of(), createdBy).token();
    }

    /**
     * Makes sure an admin token exists for {@code substrate dev}: on first start (or when the one in the file is no
     * longer known, its Kafka data gone), mints one for the principal {@code admin} and writes it, readable by its
     * owner only, to {@code <data-dir>/admin.token}.
     *
     * @return the file holding the admin token
     */
    public Path ensureAdminToken(Path dataDir) throws InterruptedException {
        Path file = dataDir.resolve("admin.token");
        if (!tokens.awaitReady(Duration.ofSeconds(60))) {
            throw new IllegalStateException(
                    "Cannot read the tokens: " + tokens.notReady().orElse(""));
        }
        try {
            if (Files.exists(file)
                    && tokens.authenticate(Files.readString(file).strip()).isPresent()) {
                return file;
            }
            String token =
                    tokens.create("admin", Set.of(Role.ADMIN), List.of(), "dev").token();
            Files.createDirectories(file.toAbsolutePath().getParent());
            Files.deleteIfExists(file);
            // Created owner-only, before the token is in it: it is never readable by others, not even briefly.
            try {
                Files.createFile(
                        file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            } catch (UnsupportedOperationException e) {
                // Not a POSIX file system: its own access rules apply.
                Files.createFile(file);
            }
            Files.writeString(file, token + System.lineSeparator());
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write the admin token to " + file, e);
        }
        return file;
    }

    /** The client appending events. */
    public SubstrateClient client() {
        return client;
    }

    /** The fold, for interactive queries and health. */
    public SubstrateFold fold() {
        return fold;
    }

    /** Prints where each part listens, one line each, for the start-up banner. */
    public void describe(PrintWriter out) {
        out.printf("  HTTP    %s   (health: %s/health)%n", httpUrl(), httpUrl());
        out.printf(
                "  Topics  %s*   (%s)%n",
                topicPrefix, createdTopics.isEmpty() ? "all present" : createdTopics.size() + " created");
        out.printf("  Fold    Kafka Streams application %s, state in %s%n", fold.applicationId(), fold.stateDir());
        out.printf("  Wire    %s%n", wire.describe());
    }

    @Override
    public void close() {
        try {
            http.close();
        } finally {
            try {
                client.close();
            } finally {
                try {
                    fold.close();
                } finally {
                    tokens.close();
                }
            }
        }
    }
}
