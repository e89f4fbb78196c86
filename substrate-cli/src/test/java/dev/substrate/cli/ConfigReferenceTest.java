package dev.substrate.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.substrate.config.ClientVariable;
import dev.substrate.config.SubstrateConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * {@code substrate config} is the one list of what configures Substrate: every environment variable the product's
 * code reads (its sources, resources and the {@code ./substrate} launcher; the test tooling in {@code
 * substrate-test-support} is not the product) is a setting of the definition or one of its client variables.
 */
class ConfigReferenceTest {

    private static final Path ROOT = Path.of("..");
    private static final Pattern VARIABLE = Pattern.compile("SUBSTRATE_[A-Z0-9_]*[A-Z0-9]");

    @Test
    void everyVariableTheCodeReadsIsInTheDefinition() throws IOException {
        Set<String> defined = new TreeSet<>();
        SubstrateConfig.definition().names().forEach(key -> defined.add(SubstrateConfig.envName(key)));
        ClientVariable.ALL.forEach(variable -> defined.add(variable.name()));

        Set<String> read = new TreeSet<>();
        for (Path file : productFiles()) {
            Matcher matcher = VARIABLE.matcher(Files.readString(file, StandardCharsets.UTF_8));
            while (matcher.find()) {
                String name = matcher.group();
                // SUBSTRATE_KAFKA_<KEY> passes any Kafka client setting through: one row of the reference.
                if (!(name + "_").startsWith(SubstrateConfig.KAFKA_ENV_PREFIX)) {
                    read.add(name);
                }
            }
        }

        assertThat(read).as("variables named in the product's code").isNotEmpty();
        assertThat(defined).as("the definition").containsAll(read);
    }

    @Test
    void theCodeReadsTheEnvironmentOnlyThroughTheDefinition() throws IOException {
        List<String> literalReads = new ArrayList<>();
        Pattern literal = Pattern.compile("getenv\\(\\s*\"");
        for (Path file : productFiles()) {
            if (file.toString().endsWith(".java")
                    && literal.matcher(Files.readString(file, StandardCharsets.UTF_8))
                            .find()) {
                literalReads.add(ROOT.relativize(file).toString());
            }
        }
        assertThat(literalReads)
                .as("read a variable by name instead of through SubstrateConfig")
                .isEmpty();
    }

    @Test
    void configListsEverySettingAndVariable() {
        String reference = CliRun.of("config").out();
        String effective = ConfigCommand.effective(
                Map.of("SUBSTRATE_TOKEN", "sbt_secret", "SUBSTRATE_TOPIC_PREFIX", "acme."),
                Map.of("http.port", "9090", "sasl.jaas.config", "secret stuff"));

        for (String key : SubstrateConfig.definition().names()) {
            assertThat(reference).contains("`" + key + "`", "`" + SubstrateConfig.envName(key) + "`");
            assertThat(effective).contains(key);
        }
        for (ClientVariable variable : ClientVariable.ALL) {
            assertThat(reference).contains("`" + variable.name() + "`");
            assertThat(effective).contains(variable.name());
        }
        assertThat(effective)
                .containsPattern("application\\.id\\s+acme\\s+derived from topic.prefix")
                .containsPattern("topic\\.prefix\\s+acme\\.\\s+SUBSTRATE_TOPIC_PREFIX")
                .containsPattern("http\\.port\\s+9090\\s+option")
                .containsPattern("SUBSTRATE_TOKEN\\s+\\[hidden\\]\\s+environment")
                .containsPattern("sasl\\.jaas\\.config\\s+\\[hidden\\]")
                .doesNotContain("sbt_secret")
                .doesNotContain("secret stuff");
    }

    private static List<Path> productFiles() throws IOException {
        List<Path> files = new ArrayList<>();
        files.add(ROOT.resolve("substrate"));
        try (Stream<Path> modules = Files.list(ROOT)) {
            for (Path module : modules.filter(Files::isDirectory).toList()) {
                Path main = module.resolve("src").resolve("main");
                if (module.getFileName().toString().equals("substrate-test-support") || !Files.isDirectory(main)) {
                    continue;
                }
                try (Stream<Path> walk = Files.walk(main)) {
                    walk.filter(Files::isRegularFile)
                            .filter(file -> file.toString().matches(".*\\.(java|xml|js|html|properties|sh)$"))
                            .forEach(files::add);
                }
            }
        }
        return files;
    }
}
