package dev.substrate.cli;

import dev.substrate.config.ClientVariable;
import dev.substrate.config.KafkaSettings;
import dev.substrate.config.SubstrateConfig;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code substrate config}: the configuration reference, generated from the one definition of every setting, or
 * with {@code --effective} the values in effect and where each comes from.
 */
@Command(
        name = "config",
        mixinStandardHelpOptions = true,
        description = {
            "Prints every setting: its key, environment variable, type, default and meaning.",
            "Settings come from -c KEY=VALUE (or an option), else the environment variable, else the default."
                    + " With --effective, prints the values in effect here instead (secrets masked)."
        },
        footer = {
            "  substrate config",
            "  substrate config --effective",
            "  SUBSTRATE_TOPIC_PREFIX=acme. substrate config --effective -c http.port=9090"
        })
final class ConfigCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(
            names = "--effective",
            description = "Print the value in effect of every setting and where it comes from (option,"
                    + " environment or default), secrets masked.")
    boolean effective;

    @Option(
            names = {"-c", "--config"},
            paramLabel = "KEY=VALUE",
            description = "A setting as serve and dev would take it, for --effective. Repeatable.")
    Map<String, String> settings = new LinkedHashMap<>();

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        out.print(effective ? effective(System.getenv(), settings) : SubstrateConfig.markdownTable());
        out.flush();
        return 0;
    }

    /** Each setting's value in effect under {@code environment} and {@code explicit}, and where it comes from. */
    static String effective(Map<String, String> environment, Map<String, String> explicit) {
        SubstrateConfig config = SubstrateConfig.load(environment, explicit);
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"SETTING", "VALUE", "FROM"});
        config.effectiveValues().forEach((key, value) -> {
            String variable = SubstrateConfig.envName(key);
            String from =
                    explicit.containsKey(key) ? "option" : environment.containsKey(variable) ? variable : "default";
            if (key.equals(KafkaSettings.APPLICATION_ID.key()) && from.equals("default")) {
                from = "derived from topic.prefix";
            }
            rows.add(new String[] {key, value.isEmpty() ? "(none)" : value, from});
        });
        config.effectiveKafkaValues()
                .forEach((key, value) -> rows.add(new String[] {
                    key, value, explicit.containsKey(key) ? "option (Kafka)" : SubstrateConfig.KAFKA_ENV_PREFIX + "*"
                }));
        for (ClientVariable variable : ClientVariable.ALL) {
            String value = variable.in(environment)
                    .map(set -> variable.secret() ? "[hidden]" : set)
                    .orElse(variable.defaultValue());
            rows.add(new String[] {
                variable.name(), value, variable.in(environment).isPresent() ? "environment" : "default"
            });
        }
        return columns(rows);
    }

    /** The rows as columns padded to their widest cell; values are never cut. */
    private static String columns(List<String[]> rows) {
        int[] widths = new int[2];
        for (String[] row : rows) {
            widths[0] = Math.max(widths[0], row[0].length());
            widths[1] = Math.max(widths[1], row[1].length());
        }
        StringBuilder out = new StringBuilder();
        for (String[] row : rows) {
            out.append(String.format("%-" + widths[0] + "s  %-" + widths[1] + "s  %s", row[0], row[1], row[2])
                    .stripTrailing());
            out.append(System.lineSeparator());
        }
        return out.toString();
    }
}
