package dev.substrate.cli;

import dev.substrate.config.SubstrateConfig;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code substrate config}: the configuration reference, generated from the one definition of every key. */
@Command(
        name = "config",
        mixinStandardHelpOptions = true,
        description = "Prints every configuration key with its environment variable, type, default and meaning.")
final class ConfigCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().getOut().print(SubstrateConfig.markdownTable());
        spec.commandLine().getOut().flush();
        return 0;
    }
}
