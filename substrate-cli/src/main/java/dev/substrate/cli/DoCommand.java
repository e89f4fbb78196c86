package dev.substrate.cli;

import dev.substrate.cli.internal.SharedRuns;
import dev.substrate.event.EventIds;
import dev.substrate.events.common.Correlation;
import dev.substrate.events.run.Activation;
import dev.substrate.events.run.ActivationSurface;
import dev.substrate.events.run.Failure;
import dev.substrate.events.run.Result;
import dev.substrate.events.run.RunCreated;
import dev.substrate.events.run.RunEvent;
import dev.substrate.events.run.RunFailed;
import dev.substrate.events.run.RunLabelled;
import dev.substrate.events.run.RunScope;
import dev.substrate.events.run.RunStarted;
import dev.substrate.events.run.RunSucceeded;
import dev.substrate.events.run.Where;
import dev.substrate.local.LocalRuns;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code substrate do -- COMMAND...}: runs a command as a shared run, mirrored in the local store. */
@Command(
        name = "do",
        mixinStandardHelpOptions = true,
        description = {
            "Runs COMMAND as a run of the substrate, mirrored in the local store.",
            "Creates a shared run, marks it running, runs the command, and records RunSucceeded or RunFailed (with"
                    + " the exit code and the end of stderr)."
        },
        exitCodeList = {
            "0:the command succeeded",
            "125:the substrate cannot be reached (the command is not run)",
            "127:the command cannot be started",
            "N:the command's own exit code"
        },
        footer = {"  substrate do -- make test", "  substrate do --project project:acme/web -- ./deploy.sh staging"})
final class DoCommand implements Callable<Integer> {

    /** How much of the end of stderr a failure keeps. */
    static final int STDERR_TAIL = 4_000;

    @Spec
    CommandSpec spec;

    @Mixin
    LocalStoreOptions store;

    @Mixin
    TargetOptions target;

    @Option(
            names = "--project",
            paramLabel = "P",
            description = "The ownership scope (default: local:<name of this directory>).")
    String project;

    @Parameters(arity = "1..*", paramLabel = "COMMAND", description = "The command and its arguments, after --.")
    List<String> command;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter err = spec.commandLine().getErr();
        String runId = "run-" + EventIds.next();
        String actor = LocalStoreOptions.actor();
        String line = String.join(" ", command);
        String host = hostName();
        RunEvent created = event(
                runId,
                actor,
                RunCreated.newBuilder()
                        .setScope(RunScope.shared)
                        .setProject(project != null ? project : LocalCommand.defaultProject())
                        .setActivation(new Activation(ActivationSurface.operator, actor))
                        .setLabels(Map.of("do.command", shorten(line, 1_000)))
                        .build());
        RunEvent started = event(runId, actor, new RunStarted(new Where("substrate do", host, null)));
        try (SharedRuns shared = target.open();
                LocalRuns local = store.open()) {
            try {
                shared.check();
                shared.append(List.of(created, started));
            } catch (SharedRuns.NotShared e) {
                err.println("substrate: cannot create the run: " + e.getMessage() + ". The command was not run.");
                err.flush();
                return 125;
            }
            local.append(created);
            local.append(started);
            err.println("substrate: run " + runId + " started (" + shared.target() + ")");
            err.flush();

            StringBuilder tail = new StringBuilder();
            int exit;
            try {
                Process process = new ProcessBuilder(command)
                        .redirectInput(ProcessBuilder.Redirect.INHERIT)
                        .redirectOutput(ProcessBuilder.Redirect.INHERIT)
                        .start();
                // Finer than the shared run: which process, where. Kept in the local mirror only.
                local.append(event(
                        runId,
                        actor,
                        new RunLabelled(
                                Map.of(
                                        "do.pid", Long.toString(process.pid()),
                                        "do.cwd",
                                                shorten(
                                                        Path.of("")
                                                                .toAbsolutePath()
                                                                .toString(),
                                                        1_000)),
                                List.of())));
                Thread pump = new Thread(() -> copyKeepingTail(process.getErrorStream(), err, tail), "do-stderr");
                pump.start();
                exit = process.waitFor();
                pump.join();
            } catch (IOException e) {
                tail.append(e.getMessage());
                exit = 127;
            }
            RunEvent finished = exit == 0
                    ? event(
                            runId,
                            actor,
                            new RunSucceeded(new Result(shorten(line, 200) + " exited with 0", List.of())))
                    : event(
                            runId,
                            actor,
                            new RunFailed(new Failure(
                                    exit == 127 ? "command_not_started" : "exit_" + exit,
                                    shorten(line, 200)
                                            + (exit == 127 ? " could not be started" : " exited with " + exit),
                                    false,
                                    tail.length() == 0 ? null : tail.toString())));
            local.append(finished);
            try {
                shared.append(List.of(finished));
            } catch (SharedRuns.NotShared e) {
                err.println("substrate: the substrate did not take the run's end (" + e.getMessage()
                        + "); the local mirror has it: `substrate share " + runId + "` sends it later.");
            }
            err.println("substrate: run " + runId + (exit == 0 ? " succeeded" : " failed (exit " + exit + ")"));
            err.flush();
            return exit;
        }
    }

    private static RunEvent event(String runId, String actor, Object payload) {
        return RunEvent.newBuilder()
                .setEventId(EventIds.next())
                .setRunId(runId)
                .setOccurredAt(Instant.now().truncatedTo(ChronoUnit.MILLIS))
                .setActor(actor)
                .setCorrelation(new Correlation(runId, null, null))
                .setPayload(payload)
                .build();
    }

    /** Copies the command's stderr to ours as it comes, keeping its last {@value #STDERR_TAIL} characters. */
    private static void copyKeepingTail(InputStream from, PrintWriter to, StringBuilder tail) {
        byte[] buffer = new byte[8192];
        try (from) {
            for (int read = from.read(buffer); read >= 0; read = from.read(buffer)) {
                String text = new String(buffer, 0, read, StandardCharsets.UTF_8);
                to.print(text);
                to.flush();
                synchronized (tail) {
                    tail.append(text);
                    if (tail.length() > STDERR_TAIL) {
                        tail.delete(0, tail.length() - STDERR_TAIL);
                    }
                }
            }
        } catch (IOException e) {
            to.println("substrate: stopped reading the command's stderr: " + e.getMessage());
        }
    }

    private static String shorten(String text, int max) {
        return text.length() <= max ? text : text.substring(0, max - 1) + "…";
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "unknown";
        }
    }
}
