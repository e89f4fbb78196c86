package dev.substrate.streams;

import dev.substrate.events.room.EnvironmentStatus;
import dev.substrate.events.room.RoomKind;
import dev.substrate.events.room.StreamMode;
import dev.substrate.testing.SampleEvents;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A deterministic mixed workload: run lifecycles, session rooms with turns, streamed blocks and logs, and
 * artifacts that are revised and some deleted; with a known number of events the fold must refuse.
 */
final class Workload {

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
            w.events.add(SampleEvents.run(runId, SampleEvents.created()));
            w.events.add(SampleEvents.run(runId, SampleEvents.started()));
            w.events.add(SampleEvents.run(runId, SampleEvents.waiting()));
            w.events.add(SampleEvents.run(runId, SampleEvents.resumed()));
            w.events.add(SampleEvents.run(runId, SampleEvents.labelled(Map.of("batch", "b" + (i % 10)))));
            boolean success = i % 2 == 0;
            w.events.add(SampleEvents.run(runId, success ? SampleEvents.succeeded() : SampleEvents.failed()));
            if (i % 20 == 0) {
                w.events.add(SampleEvents.run(runId, SampleEvents.started()));
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
                w.events.add(SampleEvents.room(roomId, SampleEvents.turnEnded(turnId)));
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
}
