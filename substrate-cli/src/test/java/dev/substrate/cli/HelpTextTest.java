package dev.substrate.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;

/** Every command's help, as a reader at an 80-column terminal sees it. */
class HelpTextTest {

    /** Every command of the tree (but picocli's own {@code help}), by its full name. */
    static Stream<String> commands() {
        List<String> names = new ArrayList<>();
        collect(SubstrateCli.commandLine(), names);
        return names.stream();
    }

    private static void collect(CommandLine command, List<String> names) {
        if (!command.getCommandName().equals("help")) {
            names.add(command.getCommandSpec().qualifiedName());
            command.getSubcommands().values().forEach(sub -> collect(sub, names));
        }
    }

    @ParameterizedTest
    @MethodSource("commands")
    void fitsEightyColumnsWithoutBreakingAWord(String command) {
        String narrow = usage(command, 80);
        String wide = usage(command, 1000);

        assertThat(narrow.lines())
                .allSatisfy(line ->
                        assertThat(line.length()).as("at 80 columns: %s", line).isLessThanOrEqualTo(80));
        // Wrapping moves words to the next line; it never cuts one: the words are the same at any width.
        assertThat(words(narrow)).isEqualTo(words(wide));
    }

    @ParameterizedTest
    @MethodSource("commands")
    void summarisesItselfInOneFullSentence(String command) {
        String[] description = find(command).getCommandSpec().usageMessage().description();

        assertThat(description).as("description").isNotEmpty();
        assertThat(description[0].strip())
                .as("the summary a command list shows")
                .endsWith(".");
    }

    @ParameterizedTest
    @MethodSource("commands")
    void describesEveryArgumentAndEndsWithExitCodesAndExamples(String command) {
        CommandLine line = find(command);
        for (ArgSpec arg : line.getCommandSpec().args()) {
            assertThat(String.join(" ", arg.description()))
                    .as("the description of %s", arg.paramLabel())
                    .isNotBlank();
        }
        String usage = usage(command, 80);
        assertThat(usage).as("an exit code list under its heading").containsPattern("Exit codes:\\R\\s+0\\s+\\S");
        assertThat(usage).contains("Examples:");
        assertThat(usage.substring(usage.indexOf("Examples:"))).contains(command);
    }

    private static CommandLine find(String qualifiedName) {
        CommandLine line = SubstrateCli.commandLine();
        for (String name : Arrays.asList(qualifiedName.split(" ")).subList(1, qualifiedName.split(" ").length)) {
            line = line.getSubcommands().get(name);
        }
        return line;
    }

    private static String usage(String command, int width) {
        CommandLine line = find(command);
        line.setUsageHelpAutoWidth(false);
        line.setUsageHelpWidth(width);
        return line.getUsageMessage(CommandLine.Help.Ansi.OFF);
    }

    private static List<String> words(String text) {
        return Arrays.stream(text.split("\\s+")).filter(word -> !word.isEmpty()).toList();
    }
}
