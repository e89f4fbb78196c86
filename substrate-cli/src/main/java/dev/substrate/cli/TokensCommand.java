package dev.substrate.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.substrate.api.auth.Role;
import dev.substrate.api.auth.TokenStore;
import dev.substrate.cli.internal.ApiClient;
import dev.substrate.config.KafkaSettings;
import dev.substrate.config.SubstrateConfig;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code substrate tokens create|list|revoke}: through the API ({@code /v1/tokens}, an admin token), or, with
 * {@code --bootstrap-servers}, straight on the tokens topic (how the first admin token of a deployment is made).
 */
@Command(
        name = "tokens",
        mixinStandardHelpOptions = true,
        description = "Manages the bearer tokens of the HTTP API (kept hashed in Kafka, on <prefix>tokens).",
        footer = {"  substrate tokens create svc:ci --role service", "  substrate tokens list"},
        subcommands = {TokensCommand.Create.class, TokensCommand.ListTokens.class, TokensCommand.Revoke.class})
final class TokensCommand {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Where the tokens are changed: the API, or Kafka with {@code --bootstrap-servers}. */
    static final class Target {

        @Option(
                names = "--url",
                paramLabel = "URL",
                description = "The API (default: SUBSTRATE_URL, else http://localhost:8080).")
        String url;

        @Option(
                names = "--token",
                paramLabel = "TOKEN",
                description = "An admin token (default: SUBSTRATE_TOKEN, else ./.substrate/admin.token if present).")
        String token;

        @Option(
                names = "--bootstrap-servers",
                paramLabel = "HOST:PORT[,...]",
                description = "Change the tokens topic straight in Kafka instead of through the API (no token needed:"
                        + " Kafka's own access control decides).")
        String bootstrapServers;

        @Option(
                names = {"-c", "--config"},
                paramLabel = "KEY=VALUE",
                description = "A Substrate or Kafka client setting, with --bootstrap-servers (such as topic.prefix or "
                        + "security.protocol). Repeatable.")
        Map<String, String> settings = new HashMap<>();

        boolean kafka() {
            return bootstrapServers != null;
        }

        ApiClient api() {
            return new ApiClient(
                    url != null ? url : ClientOptions.defaultUrl(),
                    token != null ? token : ClientOptions.defaultToken());
        }

        /** The tokens topic, read to its end. */
        TokenStore store() throws InterruptedException {
            Map<String, String> explicit = new HashMap<>(settings);
            explicit.put(KafkaSettings.BOOTSTRAP_SERVERS.key(), bootstrapServers);
            TokenStore store = TokenStore.open(SubstrateConfig.load(System.getenv(), explicit));
            if (!store.awaitReady(Duration.ofSeconds(30))) {
                String reason = store.notReady().orElse("");
                store.close();
                throw new IllegalStateException(
                        "Cannot read the tokens from Kafka at " + bootstrapServers + ": " + reason);
            }
            return store;
        }
    }

    @Command(
            name = "create",
            mixinStandardHelpOptions = true,
            description = {
                "Creates a token for PRINCIPAL and prints it: the only time it is shown.",
                "Every instance honours it within moments."
            },
            footer = {
                "  substrate tokens create svc:ci --role service",
                "  substrate tokens create user:ana --role operator --project 'project:acme/*'",
                "  substrate tokens create ops --role admin --bootstrap-servers kafka-1:9092"
            })
    static final class Create implements Callable<Integer> {

        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "PRINCIPAL", description = "The name the token acts as.")
        String principal;

        @Option(
                names = {"-r", "--role"},
                required = true,
                paramLabel = "ROLE",
                description = "admin, operator, service or observer. Repeatable.")
        List<String> roles;

        @Option(
                names = {"-p", "--project"},
                paramLabel = "PATTERN",
                description = "Limit the token to runs, rooms and artifacts of projects matching PATTERN, such as "
                        + "project:acme/* (* matches anything). Repeatable; none reaches every project.")
        List<String> projects = new ArrayList<>();

        @ArgGroup(exclusive = false)
        Target target = new Target();

        @Override
        public Integer call() throws Exception {
            Set<Role> granted = EnumSet.noneOf(Role.class);
            roles.forEach(role -> granted.add(Role.of(role)));
            PrintWriter out = spec.commandLine().getOut();
            if (target.kafka()) {
                try (TokenStore store = target.store()) {
                    out.println(
                            store.create(principal, granted, projects, "cli").token());
                }
            } else {
                ObjectNode body = JSON.createObjectNode().put("principal", principal);
                ArrayNode roleNames = body.putArray("roles");
                granted.forEach(role -> roleNames.add(role.id()));
                if (!projects.isEmpty()) {
                    ArrayNode patterns = body.putArray("projects");
                    projects.forEach(patterns::add);
                }
                out.println(target.api().post("/v1/tokens", body).path("token").asText());
            }
            out.flush();
            return 0;
        }
    }

    @Command(
            name = "list",
            mixinStandardHelpOptions = true,
            description = "Lists the tokens (never their secrets).",
            footer = {"  substrate tokens list --json"})
    static final class ListTokens implements Callable<Integer> {

        @Spec
        CommandSpec spec;

        @Option(names = "--json", description = "Print JSON instead of a table.")
        boolean json;

        @ArgGroup(exclusive = false)
        Target target = new Target();

        @Override
        public Integer call() throws Exception {
            List<JsonNode> items = new ArrayList<>();
            if (target.kafka()) {
                try (TokenStore store = target.store()) {
                    store.list().forEach(token -> items.add(token.toJson()));
                }
            } else {
                target.api().get("/v1/tokens", Map.of()).path("items").forEach(items::add);
            }
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                ArrayNode array = JSON.createArrayNode();
                items.forEach(array::add);
                out.println(JSON.createObjectNode().set("items", array).toString());
            } else {
                Table table = new Table("TOKEN ID", "PRINCIPAL", "ROLES", "PROJECTS", "CREATED", "BY");
                for (JsonNode item : items) {
                    table.row(
                            item.path("tokenId").asText(),
                            item.path("principal").asText(),
                            join(item.path("roles")),
                            item.path("projects").isEmpty() ? "*" : join(item.path("projects")),
                            item.path("createdAt").asText(),
                            item.path("createdBy").asText());
                }
                out.print(table.render());
            }
            out.flush();
            return 0;
        }

        private static String join(JsonNode array) {
            List<String> values = new ArrayList<>();
            array.forEach(value -> values.add(value.asText()));
            return String.join(",", values);
        }
    }

    @Command(
            name = "revoke",
            mixinStandardHelpOptions = true,
            description = "Revokes the token TOKEN_ID: every instance refuses it within moments.",
            footer = {"  substrate tokens revoke 0193a2b4c5d6e7f8"})
    static final class Revoke implements Callable<Integer> {

        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "TOKEN_ID", description = "The token's id, as tokens list shows it.")
        String tokenId;

        @ArgGroup(exclusive = false)
        Target target = new Target();

        @Override
        public Integer call() throws Exception {
            if (target.kafka()) {
                try (TokenStore store = target.store()) {
                    if (!store.revoke(tokenId)) {
                        spec.commandLine().getErr().println("No token " + tokenId);
                        return 1;
                    }
                }
            } else {
                target.api().delete("/v1/tokens/" + tokenId);
            }
            spec.commandLine().getOut().println("Revoked " + tokenId);
            spec.commandLine().getOut().flush();
            return 0;
        }
    }
}
