package dev.substrate.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code substrate prices show|set}: the price table that prices usage which said no cost ({@code /v1/prices}). */
@Command(
        name = "prices",
        mixinStandardHelpOptions = true,
        description = "Shows and sets the price table: what each model's tokens cost per million, kept in Kafka with"
                + " every earlier version; it prices the usage events that said no cost.",
        footer = {
            "  substrate prices show",
            "  substrate prices set --model gpt-4o=2.50/10.00/1.25 --model claude-sonnet=3/15"
        },
        subcommands = {PricesCommand.Show.class, PricesCommand.Set.class})
final class PricesCommand {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Command(
            name = "show",
            mixinStandardHelpOptions = true,
            description = "Shows the latest version of the price table, or the one asked for.",
            footer = {"  substrate prices show", "  substrate prices show --table-version 2 --json"})
    static final class Show implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Option(
                names = "--table-version",
                paramLabel = "N",
                description = "A version set earlier (default: the latest).")
        Long version;

        @Override
        public Integer call() {
            Map<String, Object> query = new LinkedHashMap<>();
            if (version != null) {
                query.put("version", version);
            }
            JsonNode table = client.client().get("/v1/prices", query);
            client.print(spec.commandLine().getOut(), table, table(table));
            return 0;
        }
    }

    @Command(
            name = "set",
            mixinStandardHelpOptions = true,
            description = "Sets a new version of the price table (an admin token): every model it prices, per million"
                    + " tokens.",
            footer = {
                "  substrate prices set --model gpt-4o=2.50/10.00/1.25",
                "  substrate prices set --currency EUR --model mistral-large=2/6"
            })
    static final class Set implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Option(
                names = "--model",
                required = true,
                paramLabel = "MODEL=INPUT/OUTPUT[/CACHED]",
                description = "A model's prices per million input, output and (optionally, else the input price)"
                        + " cached input tokens. Repeatable.")
        List<String> models;

        @Option(names = "--currency", defaultValue = "USD", description = "ISO 4217 (default: ${DEFAULT-VALUE}).")
        String currency;

        @Override
        public Integer call() {
            ObjectNode body = JSON.createObjectNode();
            body.put("currency", currency);
            ObjectNode prices = body.putObject("models");
            for (String model : models) {
                int equals = model.lastIndexOf('=');
                String[] parts =
                        equals < 1 ? new String[0] : model.substring(equals + 1).split("/");
                if (parts.length < 2 || parts.length > 3) {
                    throw new CommandLine.ParameterException(
                            spec.commandLine(), "--model takes MODEL=INPUT/OUTPUT[/CACHED], not " + model);
                }
                ObjectNode price = prices.putObject(model.substring(0, equals));
                price.put("inputPerMillion", parts[0]);
                price.put("outputPerMillion", parts[1]);
                if (parts.length == 3) {
                    price.put("cachedInputPerMillion", parts[2]);
                }
            }
            JsonNode table = client.client().put("/v1/prices", body);
            client.print(spec.commandLine().getOut(), table, table(table));
            return 0;
        }
    }

    private static Table table(JsonNode table) {
        Table rows = new Table("MODEL", "INPUT/M", "OUTPUT/M", "CACHED/M", "CURRENCY", "VERSION");
        table.path("models")
                .properties()
                .forEach(model -> rows.row(
                        model.getKey(),
                        model.getValue().path("inputPerMillion").asText(),
                        model.getValue().path("outputPerMillion").asText(),
                        model.getValue().path("cachedInputPerMillion").asText(),
                        table.path("currency").asText(),
                        table.path("version").asText()));
        return rows;
    }
}
