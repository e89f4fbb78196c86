package dev.substrate.streams;

import dev.substrate.events.room.EnvironmentStatus;
import dev.substrate.events.room.RoomKind;
import dev.substrate.events.room.StreamMode;
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
            w.events.add(Events.run(runId, Events.created()));
            w.events.add(Events.run(runId, Events.started()));
            w.events.add(Events.run(runId, Events.waiting()));
            w.events.add(Events.run(runId, Events.resumed()));
            w.events.add(Events.run(runId, Events.labelled(Map.of("batch", "b" + (i % 10)))));
            boolean success = i % 2 == 0;
            w.events.add(Events.run(runId, success ? Events.succeeded() : Events.failed()));
            if (i % 20 == 0) {
                w.events.add(Events.run(runId, Events.started()));
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
            w.events.add(Events.room(roomId, Events.roomCreated(RoomKind.session, StreamMode.durable)));
            w.events.add(Events.room(roomId, Events.status(EnvironmentStatus.ready, "up")));
            for (int turn = 0; turn < 3; turn++) {
                String turnId = "t" + turn;
                String blockId = "b" + turn;
                w.events.add(Events.room(roomId, Events.turnStarted(turnId)));
                w.events.add(Events.room(roomId, Events.blockStarted(blockId, turnId)));
                for (int d = 0; d < 8; d++) {
                    w.events.add(Events.room(roomId, Events.delta(blockId, "token" + d + " ")));
                }
                w.events.add(Events.room(roomId, Events.blockCompleted(blockId)));
                w.events.add(Events.room(roomId, Events.log("turn " + turn + " done")));
                w.events.add(Events.room(roomId, Events.turnEnded(turnId)));
                w.blocks++;
            }
            w.events.add(Events.room(roomId, Events.closed()));
            w.rooms++;
        }
        for (int i = 0; i < scale * 5; i++) {
            String artifactId = "artifact-" + i;
            w.events.add(Events.artifact(artifactId, Events.registered()));
            w.events.add(Events.artifact(artifactId, Events.revised("https://example.com/" + i, "v2")));
            w.artifacts++;
            if (i % 5 == 0) {
                w.events.add(Events.artifact(artifactId, Events.artifactDeleted()));
                w.deletedArtifacts++;
            }
        }
        return w;
    }
}
