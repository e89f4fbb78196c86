package dev.substrate.cli;

import dev.substrate.cli.internal.WrappedHelp;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.UsageMessageSpec;

/** The {@code substrate} command: {@code dev}, {@code serve}, and the operator commands as they land. */
@Command(
        name = "substrate",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "An event-sourced substrate for agent and automation work on Apache Kafka.",
        footer = {
            "  substrate dev                  # Kafka and Substrate on this machine",
            "  substrate runs list --status waiting",
            "  substrate rooms tail ROOM_ID",
            "  substrate help runs list       # the help of one command"
        },
        subcommands = {
            DevCommand.class,
            ServeCommand.class,
            RunsCommand.class,
            RoomsCommand.class,
            ArtifactsCommand.class,
            LocalCommand.class,
            ShareCommand.class,
            DoCommand.class,
            BenchCommand.class,
            TokensCommand.class,
            WebhooksCommand.class,
            UsageCommand.class,
            PricesCommand.class,
            RetentionCommand.class,
            EraseCommand.class,
            KeysCommand.class,
            ConfigCommand.class,
            CommandLine.HelpCommand.class
        })
public final class SubstrateCli {

    private SubstrateCli() {}

    /** Runs the command line and exits the JVM with its exit code. */
    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns its exit code, without exiting. */
    public static int run(String... args) {
        return commandLine().execute(args);
    }

    /**
     * The configured command line: errors reported as one readable line and exit code 1, help wrapped to the
     * terminal at spaces ({@link WrappedHelp}), and every command's help ending with its exit codes.
     */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(SubstrateCli.class);
        WrappedHelp.install(cli);
        withHelpSections(cli);
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            PrintWriter err = commandLine.getErr();
            err.println(commandLine.getColorScheme().errorText("substrate: " + describe(e)));
            err.flush();
            return 1;
        });
        return cli;
    }

    /**
     * Gives every command that states none the exit codes every command has, and heads the footers as the
     * examples they are, recursively.
     */
    private static void withHelpSections(CommandLine command) {
        UsageMessageSpec usage = command.getCommandSpec().usageMessage();
        usage.exitCodeListHeading("%nExit codes:%n");
        usage.footerHeading("%nExamples:%n");
        if (usage.exitCodeList().isEmpty()) {
            Map<String, String> codes = new LinkedHashMap<>();
            codes.put("0", "done");
            codes.put("1", "failed; the reason is printed on standard error");
            codes.put("2", "the command line is wrong (an unknown option, a missing or malformed argument)");
            usage.exitCodeList(codes);
        }
        command.getSubcommands().values().forEach(SubstrateCli::withHelpSections);
    }

    /** The message of a failure and of each of its causes that adds something, joined into one line. */
    static String describe(Throwable failure) {
        StringBuilder text = new StringBuilder(String.valueOf(failure.getMessage()));
        for (Throwable cause = failure.getCause(); cause != null; cause = cause.getCause()) {
            String message = cause.getMessage();
            if (message != null && !text.toString().contains(message)) {
                text.append(": ").append(message);
            }
        }
        return text.toString();
    }
}
