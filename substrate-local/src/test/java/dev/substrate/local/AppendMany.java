package dev.substrate.local;

import dev.substrate.events.run.RunEvent;
import dev.substrate.events.run.RunLabelled;
import dev.substrate.testing.SampleEvents;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** A child process for {@link TwoProcessesIT}: appends {@code count} labels to one run, one transaction each. */
public final class AppendMany {

    private AppendMany() {}

    public static void main(String[] args) {
        Path file = Path.of(args[0]);
        String runId = args[1];
        String writer = args[2];
        int count = Integer.parseInt(args[3]);
        try (LocalRuns runs = LocalRuns.open(file)) {
            for (int i = 0; i < count; i++) {
                RunEvent event =
                        SampleEvents.runEvent(runId, new RunLabelled(Map.of(writer + "." + i, "x"), List.of()));
                if (runs.append(event).outcome() != LocalRuns.Outcome.APPLIED) {
                    System.exit(2);
                }
            }
        }
    }
}
