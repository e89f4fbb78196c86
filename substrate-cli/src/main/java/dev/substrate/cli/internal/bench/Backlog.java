package dev.substrate.cli.internal.bench;

import dev.substrate.event.EventIds;
import dev.substrate.event.WireCodec;
import dev.substrate.events.common.Correlation;
import dev.substrate.events.room.BlockCompleted;
import dev.substrate.events.room.BlockStarted;
import dev.substrate.events.room.RoomCreated;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.events.room.RoomKind;
import dev.substrate.events.room.StreamMode;
import dev.substrate.events.room.TextDelta;
import dev.substrate.events.run.Activation;
import dev.substrate.events.run.ActivationSurface;
import dev.substrate.events.run.Result;
import dev.substrate.events.run.RunCreated;
import dev.substrate.events.run.RunEvent;
import dev.substrate.events.run.RunLabelled;
import dev.substrate.events.run.RunScope;
import dev.substrate.events.run.RunStarted;
import dev.substrate.events.run.RunSucceeded;
import dev.substrate.topic.Topics;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The events a benchmark appends, half run events (runs created, started, labelled, succeeded) and half room
 * stream events (rooms created, then blocks: started, three deltas, completed), each with its encoded bytes, so
 * that the raw baseline sends records of exactly the same keys and sizes.
 */
final class Backlog {

    /** One event: what Substrate appends, and the topic, key and bytes the raw producer sends. */
    record Item(Object event, String topic, String key, byte[] bytes) {}

    private final List<Item> items = new ArrayList<>();
    private final List<String> runIds = new ArrayList<>();

    private Backlog() {}

    /** About {@code events} events, in an order the fold applies every one of. */
    static Backlog of(int events, Topics topics, String prefix) {
        Backlog backlog = new Backlog();
        int runs = Math.max(1, events / 8);
        for (int i = 0; i < runs; i++) {
            String runId = prefix + "run-" + i;
            backlog.runIds.add(runId);
            backlog.run(
                    topics,
                    runId,
                    RunCreated.newBuilder()
                            .setScope(RunScope.shared)
                            .setProject("project:bench")
                            .setActivation(new Activation(ActivationSurface.automation, "svc:bench"))
                            .build());
            backlog.run(topics, runId, new RunStarted(null));
            backlog.run(topics, runId, new RunLabelled(Map.of("step", "implement"), List.of()));
            backlog.run(topics, runId, new RunSucceeded(new Result("done", List.of())));
        }
        int rooms = Math.max(1, events / 100);
        int roomEvents = events - backlog.items.size();
        for (int r = 0; r < rooms; r++) {
            String roomId = prefix + "room-" + r;
            backlog.room(
                    topics,
                    roomId,
                    RoomCreated.newBuilder()
                            .setKind(RoomKind.session)
                            .setProject("project:bench")
                            .setStream(StreamMode.durable)
                            .build());
        }
        for (int b = 0; backlog.items.size() < runs * 4 + rooms + roomEvents; b++) {
            String roomId = prefix + "room-" + (b % rooms);
            String blockId = "b" + b;
            backlog.room(
                    topics,
                    roomId,
                    BlockStarted.newBuilder()
                            .setBlockId(blockId)
                            .setKind("text")
                            .build());
            for (int d = 0; d < 3; d++) {
                backlog.room(topics, roomId, new TextDelta(blockId, "a few tokens of streamed text " + d));
            }
            backlog.room(topics, roomId, new BlockCompleted(blockId, null));
        }
        return backlog;
    }

    List<Item> items() {
        return items;
    }

    /** The runs the backlog creates. */
    List<String> runIds() {
        return runIds;
    }

    /** The average encoded size. */
    long averageBytes() {
        return items.stream().mapToLong(item -> item.bytes().length).sum() / Math.max(1, items.size());
    }

    private void run(Topics topics, String runId, Object payload) {
        RunEvent event = RunEvent.newBuilder()
                .setEventId(EventIds.next())
                .setRunId(runId)
                .setOccurredAt(Instant.now().truncatedTo(ChronoUnit.MILLIS))
                .setActor("svc:bench")
                .setCorrelation(new Correlation(null, null, null))
                .setPayload(payload)
                .build();
        items.add(new Item(event, topics.runEvents().name(), runId, WireCodec.RUN.encode(event)));
    }

    private void room(Topics topics, String roomId, Object payload) {
        RoomEvent event = roomEvent(roomId, payload);
        items.add(new Item(event, topics.roomEvents().name(), roomId, WireCodec.ROOM.encode(event)));
    }

    static RoomEvent roomEvent(String roomId, Object payload) {
        return RoomEvent.newBuilder()
                .setEventId(EventIds.next())
                .setRoomId(roomId)
                .setOccurredAt(Instant.now().truncatedTo(ChronoUnit.MILLIS))
                .setActor("svc:bench")
                .setCorrelation(new Correlation(null, null, null))
                .setPayload(payload)
                .build();
    }
}
