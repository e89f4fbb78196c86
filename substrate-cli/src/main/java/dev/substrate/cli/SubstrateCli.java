package dev.substrate.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code substrate} command: {@code dev}, {@code serve}, and the operator commands as they land. */
@Command(
        name = "substrate",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "An event-sourced substrate for agent and automation work on Apache Kafka.",
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

    /** The configured command line, with errors reported as one readable line and exit code 1. */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(SubstrateCli.class);
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            PrintWriter err = commandLine.getErr();
            err.println(commandLine.getColorScheme().errorText("substrate: " + describe(e)));
            err.flush();
            return 1;
        });
        return cli;
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
