package dev.substrate.cli;

import dev.substrate.api.auth.Role;
import dev.substrate.api.auth.TokenStore;
import dev.substrate.cli.internal.SubstrateNode;
import dev.substrate.config.SubstrateConfig;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code substrate tokens create}: what {@code POST /v1/tokens} does, straight into the data directory. */
@Command(
        name = "tokens",
        mixinStandardHelpOptions = true,
        description = "Manages the bearer tokens of the HTTP API (kept hashed in <data-dir>/tokens.json).",
        subcommands = {TokensCommand.Create.class})
final class TokensCommand {

    @Command(
            name = "create",
            mixinStandardHelpOptions = true,
            description = {
                "Creates a token for PRINCIPAL and prints it: the only time it is shown.",
                "A running server picks it up without a restart."
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
                names = "--data-dir",
                paramLabel = "DIR",
                description = "The server's data directory (default: ./.substrate, or SUBSTRATE_DATA_DIR).")
        Path dataDir;

        @Override
        public Integer call() {
            Map<String, String> explicit = new HashMap<>();
            if (dataDir != null) {
                explicit.put(SubstrateConfig.DATA_DIR, dataDir.toString());
            }
            SubstrateConfig config = SubstrateConfig.load(System.getenv(), explicit);
            Set<Role> granted = EnumSet.noneOf(Role.class);
            roles.forEach(role -> granted.add(Role.of(role)));
            TokenStore tokens = SubstrateNode.tokenStore(config);
            spec.commandLine().getOut().println(tokens.create(principal, granted));
            spec.commandLine().getOut().flush();
            return 0;
        }
    }
}
