package dev.substrate.stream;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.substrate.events.room.BlockCompleted;
import dev.substrate.events.room.BlockStarted;
import dev.substrate.events.room.EnvironmentStatus;
import dev.substrate.events.room.ErrorRaised;
import dev.substrate.events.room.MetadataUpdated;
import dev.substrate.events.room.RoomClosed;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.events.room.StatusChanged;
import dev.substrate.events.room.TextDelta;
import dev.substrate.events.room.TurnEnded;
import dev.substrate.events.room.TurnStarted;
import dev.substrate.testing.SampleEvents;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The room-to-AG-UI translation, event by event (AG-UI's own client checks the same over HTTP: AgUiIT). */
class AgUiTranslatorTest {

    private final AgUiTranslator live = new AgUiTranslator("room-1", "run-ui", 1 << 20);

    @Test
    void aTurnWithATextBlockIsAStepWithAStreamedMessage() {
        List<ObjectNode> events = new ArrayList<>(live.start(Instant.EPOCH));
        for (Object payload : List.of(
                new TurnStarted("t1", "agent"),
                new BlockStarted("b1", "t1", "text", "assistant", Map.of()),
                new TextDelta("b1", "Hel"),
                new TextDelta("b1", "lo"),
                new BlockCompleted("b1", null),
                new TurnEnded("t1", null))) {
            events.addAll(live.next(event(payload)));
        }

        assertThat(types(events))
                .containsExactly(
                        "RUN_STARTED",
                        "MESSAGES_SNAPSHOT",
                        "STATE_SNAPSHOT",
                        "STATE_DELTA",
                        "STEP_STARTED",
                        "TEXT_MESSAGE_START",
                        "TEXT_MESSAGE_CONTENT",
                        "TEXT_MESSAGE_CONTENT",
                        "TEXT_MESSAGE_END",
                        "STEP_FINISHED",
                        "STATE_DELTA");
        assertThat(events.get(0).get("threadId").asText()).isEqualTo("room-1");
        assertThat(events.get(0).get("runId").asText()).isEqualTo("run-ui");
        assertThat(events.get(6).get("delta").asText()).isEqualTo("Hel");
        assertThat(events.get(4).get("stepName").asText()).isEqualTo("t1");
        assertThat(events)
                .allSatisfy(event -> assertThat(event.has("timestamp")).isTrue());
    }

    @Test
    void aClientStartingMidBlockGetsTheSnapshotTheOpenBlockSoFarAndTheRest() {
        AgUiTranslator late = new AgUiTranslator("room-1", "run-ui", 1 << 20);
        for (Object payload : List.of(
                new TurnStarted("t1", "agent"),
                new BlockStarted("b0", "t1", "tool_use", null, Map.of("name", "bash")),
                new TextDelta("b0", "{}"),
                new BlockCompleted("b0", null),
                new BlockStarted("b1", "t1", "thinking", null, Map.of()),
                new TextDelta("b1", "Let me "))) {
            late.replay(event(payload));
        }

        List<ObjectNode> start = late.start(Instant.EPOCH);
        List<ObjectNode> rest = late.next(event(new TextDelta("b1", "look.")));

        assertThat(types(start))
                .containsExactly(
                        "RUN_STARTED",
                        "MESSAGES_SNAPSHOT",
                        "STATE_SNAPSHOT",
                        "STEP_STARTED",
                        "REASONING_START",
                        "REASONING_MESSAGE_START",
                        "REASONING_MESSAGE_CONTENT");
        ObjectNode toolCall = (ObjectNode) start.get(1).get("messages").get(0);
        assertThat(toolCall.get("role").asText()).isEqualTo("assistant");
        assertThat(toolCall.get("toolCalls").get(0).get("function").get("name").asText())
                .isEqualTo("bash");
        assertThat(start.get(2).get("snapshot").get("activeTurn").get("turnId").asText())
                .isEqualTo("t1");
        assertThat(start.get(6).get("delta").asText()).isEqualTo("Let me ");
        assertThat(types(rest)).containsExactly("REASONING_MESSAGE_CONTENT");
        assertThat(rest.get(0).get("delta").asText()).isEqualTo("look.");
    }

    @Test
    void stateChangesArePatchesAndAClosedRoomFinishesTheRunClosingWhatIsOpen() {
        live.start(Instant.EPOCH);
        live.next(event(new TurnStarted("t1", null)));
        live.next(event(new BlockStarted("b1", "t1", "text", "assistant", Map.of())));

        List<ObjectNode> status = live.next(event(new StatusChanged(EnvironmentStatus.ready, "up")));
        List<ObjectNode> metadata = live.next(event(new MetadataUpdated(Map.of("a/b", "1"))));
        List<ObjectNode> error = live.next(event(new ErrorRaised("E1", "slow")));
        List<ObjectNode> closed = live.next(event(new RoomClosed(null)));

        assertThat(status.get(0).get("delta").get(0).get("path").asText()).isEqualTo("/status");
        assertThat(metadata.get(0).get("delta").get(0).get("path").asText()).isEqualTo("/metadata/a~1b");
        assertThat(error.get(0).get("name").asText()).isEqualTo("substrate.error");
        assertThat(types(closed)).containsExactly("STATE_DELTA", "TEXT_MESSAGE_END", "STEP_FINISHED", "RUN_FINISHED");
        assertThat(live.ended()).isTrue();
        assertThat(live.next(event(new TextDelta("b1", "late")))).isEmpty();
    }

    @Test
    void theSnapshotKeepsWithinItsBoundAndSaysWhatItLeftOut() {
        AgUiTranslator small = new AgUiTranslator("room-1", "run-ui", 10);
        for (int i = 0; i < 3; i++) {
            small.replay(event(new BlockStarted("b" + i, null, "text", "user", Map.of())));
            small.replay(event(new TextDelta("b" + i, "12345678")));
            small.replay(event(new BlockCompleted("b" + i, null)));
        }

        List<ObjectNode> start = small.start(Instant.EPOCH);

        assertThat(types(start)).containsExactly("RUN_STARTED", "CUSTOM", "MESSAGES_SNAPSHOT", "STATE_SNAPSHOT");
        assertThat(start.get(1).get("value").get("messagesLeftOut").asInt()).isEqualTo(2);
        assertThat(start.get(2).get("messages")).hasSize(1);
        assertThat(start.get(2).get("messages").get(0).get("role").asText()).isEqualTo("user");
    }

    private static RoomEvent event(Object payload) {
        return SampleEvents.room("room-1", payload);
    }

    private static List<String> types(List<ObjectNode> events) {
        return events.stream().map(event -> event.get("type").asText()).toList();
    }
}
