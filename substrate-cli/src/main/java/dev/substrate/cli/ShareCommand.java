package dev.substrate.cli;

import dev.substrate.cli.internal.SharedRuns;
import dev.substrate.events.run.RunCreated;
import dev.substrate.events.run.RunEvent;
import dev.substrate.events.run.RunScope;
import dev.substrate.local.LocalRuns;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code substrate share RUN_ID}: a local run's whole history, into the substrate. */
@Command(
        name = "share",
        mixinStandardHelpOptions = true,
        description = {
            "Shares a local run into the substrate, with every event it applied.",
            "The events go in order, each with its event id, time and actor. Sharing again adds nothing (the"
                    + " substrate ignores an event id it has seen). The local run is not changed. The shared run"
                    + " keeps scope local and gets the label " + ShareCommand.IMPORTED + ":local."
        },
        footer = {
            "  substrate share run-0193a2b4c5d6",
            "  substrate share run-0193a2b4c5d6 --url https://substrate.example.com",
            "  substrate share run-0193a2b4c5d6 --bootstrap-servers kafka-1:9092"
        })
final class ShareCommand implements Callable<Integer> {

    /** The label that marks a shared run as imported from a local store. */
    static final String IMPORTED = "substrate.imported-from";

    /** Events sent between two updates of the progress bar. */
    private static final int CHUNK = 50;

    @Spec
    CommandSpec spec;

    @Mixin
    LocalStoreOptions store;

    @Mixin
    TargetOptions target;

    @Parameters(paramLabel = "RUN_ID", description = "The local run, as substrate local list shows it.")
    String runId;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        List<RunEvent> events = new ArrayList<>();
        try (LocalRuns runs = store.open()) {
            for (LocalRuns.Stored stored : runs.events(runId)) {
                if (stored.outcome() == LocalRuns.Outcome.APPLIED) {
                    events.add(marked(stored.event()));
                }
            }
        }
        if (events.isEmpty()) {
            err.println("substrate: run " + runId + " is not in the local store " + store.file());
            err.flush();
            return 1;
        }
        try (SharedRuns shared = target.open()) {
            try {
                shared.check();
            } catch (SharedRuns.NotShared e) {
                err.println("substrate: cannot share run " + runId + ": " + e.getMessage()
                        + ". The local run is unchanged; share it again once the substrate answers.");
                err.flush();
                return 1;
            }
            Progress progress = new Progress(err, "Sharing " + runId, events.size());
            for (int from = 0; from < events.size(); from += CHUNK) {
                List<RunEvent> chunk = events.subList(from, Math.min(from + CHUNK, events.size()));
                try {
                    shared.append(chunk);
                } catch (SharedRuns.NotShared e) {
                    progress.stop();
                    err.println("substrate: sharing run " + runId + " broke off after " + from + " of "
                            + events.size() + " events: " + e.getMessage()
                            + ". Share it again: events already shared are not applied twice.");
                    err.flush();
                    return 1;
                }
                progress.advance(chunk.size());
            }
            progress.stop();
            Optional<Set<String>> applied = shared.appliedEventIds(runId);
            if (applied.isEmpty()) {
                out.println("Shared run " + runId + ": " + events.size() + " events written to " + shared.target()
                        + "; the fold applies them (events shared before are ignored).");
                out.flush();
                return 0;
            }
            List<RunEvent> missing = events.stream()
                    .filter(event -> !applied.get().contains(event.getEventId()))
                    .toList();
            if (!missing.isEmpty()) {
                err.println("substrate: the substrate did not apply " + missing.size() + " of " + events.size()
                        + " events of run " + runId + " (the first: "
                        + missing.get(0).getEventId()
                        + "); a run with that id may already exist there with another history. See "
                        + "substrate.rejections or GET /v1/runs/" + runId + "/outcomes/"
                        + missing.get(0).getEventId());
                err.flush();
                return 1;
            }
            out.println("Shared run " + runId + ": " + events.size() + " events, all in the substrate's history at "
                    + shared.target());
            out.flush();
            return 0;
        }
    }

    /** The event as shared: a local run's creation gains the label {@value #IMPORTED}. */
    static RunEvent marked(RunEvent event) {
        if (!(event.getPayload() instanceof RunCreated created) || created.getScope() != RunScope.local) {
            return event;
        }
        Map<String, String> labels = new HashMap<>(created.getLabels());
        labels.put(IMPORTED, "local");
        return RunEvent.newBuilder(event)
                .setPayload(RunCreated.newBuilder(created).setLabels(labels).build())
                .build();
    }

    /** A progress bar on a terminal, nothing elsewhere. */
    static final class Progress {
        private final PrintWriter err;
        private final String label;
        private final int total;
        private final boolean terminal = System.console() != null;
        private int done;

        Progress(PrintWriter err, String label, int total) {
            this.err = err;
            this.label = label;
            this.total = total;
        }

        void advance(int count) {
            done += count;
            if (terminal) {
                int width = 30;
                int filled = (int) ((long) width * done / total);
                err.print("\r" + label + " [" + "#".repeat(filled) + ".".repeat(width - filled) + "] " + done + "/"
                        + total + " events");
                err.flush();
            }
        }

        void stop() {
            if (terminal && done > 0) {
                err.println();
                err.flush();
            }
        }
    }
}
