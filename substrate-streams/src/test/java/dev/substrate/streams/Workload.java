package dev.substrate.streams;

import dev.substrate.events.common.Cost;
import dev.substrate.events.common.Usage;
import dev.substrate.events.room.EnvironmentStatus;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.events.room.RoomKind;
import dev.substrate.events.room.StreamMode;
import dev.substrate.events.run.RunCreated;
import dev.substrate.events.run.RunEvent;
import dev.substrate.testing.SampleEvents;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A deterministic mixed workload: run lifecycles, session rooms with turns, streamed blocks and logs, and
 * artifacts that are revised and some deleted; with a known number of events the fold must refuse. Runs' last
 * events and rooms' turn ends carry random usage (of two projects, three days, four models), and so do refused
 * events: {@link #usage} lists what the fold must count, to be summed by brute force.
 */
final class Workload {

    /** Usage the fold must count: what an applied event carried, with where it is counted. */
    record Counted(String project, String day, String runId, Usage usage) {}

    private static final List<String> MODELS = List.of("gpt-4o", "claude-sonnet", "gemini-pro", "llama");

    final List<Counted> usage = new ArrayList<>();
    private final Random random = new Random(38);

    final List<Object> events = new ArrayList<>();
    int runs;
    int succeeded;
    int failed;
    int rooms;
    int blocks;
    int artifacts;
    int deletedArtifacts;
    int refusals;

    /** About {@code 83 * scale} events. */
    static Workload of(int scale) {
        Workload w = new Workload();
        for (int i = 0; i < scale * 5; i++) {
            String runId = "run-" + i;
            String project = i % 3 == 0 ? "project:acme/api" : "project:acme/web";
            w.events.add(SampleEvents.run(
                    runId,
                    RunCreated.newBuilder((RunCreated) SampleEvents.created())
                            .setProject(project)
                            .build()));
            w.events.add(SampleEvents.run(runId, SampleEvents.started()));
            w.events.add(SampleEvents.run(runId, SampleEvents.waiting()));
            w.events.add(SampleEvents.run(runId, SampleEvents.resumed()));
            w.events.add(SampleEvents.run(runId, SampleEvents.labelled(Map.of("batch", "b" + (i % 10)))));
            boolean success = i % 2 == 0;
            Usage spent = w.randomUsage();
            Instant finished = SampleEvents.AT.plus(Duration.ofDays(i % 3));
            w.events.add(RunEvent.newBuilder(
                            SampleEvents.run(runId, success ? SampleEvents.succeeded() : SampleEvents.failed()))
                    .setOccurredAt(finished)
                    .setUsage(spent)
                    .build());
            w.usage.add(new Counted(project, finished.toString().substring(0, 10), runId, spent));
            if (i % 20 == 0) {
                w.events.add(RunEvent.newBuilder(SampleEvents.run(runId, SampleEvents.started()))
                        .setUsage(w.randomUsage())
                        .build());
                w.refusals++;
            }
            w.runs++;
            if (success) {
                w.succeeded++;
            } else {
                w.failed++;
            }
        }
        for (int i = 0; i < scale; i++) {
            String roomId = "room-" + i;
            w.events.add(SampleEvents.room(roomId, SampleEvents.roomCreated(RoomKind.session, StreamMode.durable)));
            w.events.add(SampleEvents.room(roomId, SampleEvents.status(EnvironmentStatus.ready, "up")));
            for (int turn = 0; turn < 3; turn++) {
                String turnId = "t" + turn;
                String blockId = "b" + turn;
                w.events.add(SampleEvents.room(roomId, SampleEvents.turnStarted(turnId)));
                w.events.add(SampleEvents.room(roomId, SampleEvents.blockStarted(blockId, turnId)));
                for (int d = 0; d < 8; d++) {
                    w.events.add(SampleEvents.room(roomId, SampleEvents.delta(blockId, "token" + d + " ")));
                }
                w.events.add(SampleEvents.room(roomId, SampleEvents.blockCompleted(blockId)));
                w.events.add(SampleEvents.room(roomId, SampleEvents.log("turn " + turn + " done")));
                // A third of the turns name the run that spent them (not the room's own run-1).
                Usage spent = turn == 2
                        ? Usage.newBuilder(w.randomUsage()).setRunId("run-" + i).build()
                        : w.randomUsage();
                w.events.add(RoomEvent.newBuilder(SampleEvents.room(roomId, SampleEvents.turnEnded(turnId)))
                        .setUsage(spent)
                        .build());
                w.usage.add(new Counted(
                        "project:acme/web",
                        SampleEvents.AT.toString().substring(0, 10),
                        spent.getRunId() != null ? spent.getRunId() : "run-1",
                        spent));
                w.blocks++;
            }
            w.events.add(SampleEvents.room(roomId, SampleEvents.closed()));
            w.rooms++;
        }
        for (int i = 0; i < scale * 5; i++) {
            String artifactId = "artifact-" + i;
            w.events.add(SampleEvents.artifact(artifactId, SampleEvents.registered()));
            w.events.add(SampleEvents.artifact(artifactId, SampleEvents.revised("https://example.com/" + i, "v2")));
            w.artifacts++;
            if (i % 5 == 0) {
                w.events.add(SampleEvents.artifact(artifactId, SampleEvents.artifactDeleted()));
                w.deletedArtifacts++;
            }
        }
        return w;
    }

    private Usage randomUsage() {
        long input = random.nextInt(100_000);
        long output = random.nextInt(10_000);
        return Usage.newBuilder()
                .setProvider("p")
                .setModel(MODELS.get(random.nextInt(MODELS.size())))
                .setInputTokens(input)
                .setOutputTokens(output)
                .setCachedInputTokens(input / (1 + random.nextInt(4)))
                .setReasoningTokens(output / (1 + random.nextInt(4)))
                .setCost(random.nextBoolean() ? null : new Cost(random.nextInt(10_000) / 10_000d, "USD"))
                .build();
    }
}
