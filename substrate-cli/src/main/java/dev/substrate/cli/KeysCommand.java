package dev.substrate.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code substrate keys rewrap}: the last step of a master key rotation ({@code POST /v1/keys/rewrap}). */
@Command(
        name = "keys",
        mixinStandardHelpOptions = true,
        description = "The content keys of encrypted rooms, wrapped by the master keys of encryption.master.key.file.",
        footer = {"  substrate keys rewrap"},
        subcommands = {KeysCommand.Rewrap.class})
final class KeysCommand {

    @Command(
            name = "rewrap",
            mixinStandardHelpOptions = true,
            description = "Writes again, wrapped by the key file's first (current) master key, every room key an older"
                    + " master key wrapped (an admin token); then the older line may leave the key file.",
            footer = {"  substrate keys rewrap"})
    static final class Rewrap implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Override
        public Integer call() {
            JsonNode answer = client.client().post("/v1/keys/rewrap", new ObjectMapper().createObjectNode());
            Table rows = new Table("REWRAPPED");
            rows.row(answer.path("rewrapped").asText());
            client.print(spec.commandLine().getOut(), answer, rows);
            return 0;
        }
    }
}
