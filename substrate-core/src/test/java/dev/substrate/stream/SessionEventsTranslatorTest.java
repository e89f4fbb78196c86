package dev.substrate.stream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.substrate.events.room.BlockCompleted;
import dev.substrate.events.room.BlockStarted;
import dev.substrate.events.room.BlockUpdated;
import dev.substrate.events.room.EnvironmentStatus;
import dev.substrate.events.room.ErrorRaised;
import dev.substrate.events.room.LogEmitted;
import dev.substrate.events.room.LogLevel;
import dev.substrate.events.room.RoomClosed;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.events.room.StatusChanged;
import dev.substrate.events.room.TextDelta;
import dev.substrate.events.room.TurnEnded;
import dev.substrate.events.room.TurnStarted;
import dev.substrate.testing.SampleEvents;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The room-to-session-events translation of the WebSocket view (the ws package checks it over HTTP: ObserverClientsIT). */
class SessionEventsTranslatorTest {

    @Test
    void aTurnBecomesTheSeedsSessionEventsInOrder() {
        SessionEventsTranslator live = new SessionEventsTranslator("room-1", 1 << 20);
        List<SessionEventsTranslator.Message> messages = new ArrayList<>();
        for (Object payload : List.of(
                new TurnStarted("t1", "agent"),
                new BlockStarted("b1", "t1", "text", "assistant", Map.of()),
                new TextDelta("b1", "Hel"),
                new BlockUpdated("b1", Map.of("model", "m")),
                new TextDelta("b1", "lo"),
                new BlockCompleted("b1", null),
                new LogEmitted(LogLevel.info, "done"),
                new ErrorRaised("e1", "slow"),
                new TurnEnded("t1", null),
                new RoomClosed("over"))) {
            messages.addAll(live.next(event(payload)));
        }

        assertThat(messages.stream().map(SessionEventsTranslator.Message::event))
                .containsExactly(
                        "session:turn:start",
                        "session:block:start",
                        "session:block:delta",
                        "session:block:update",
                        "session:block:metadata",
                        "session:block:delta",
                        "session:block:complete",
                        "session:log",
                        "session:error",
                        "session:turn:end",
                        "session:closed");
        assertThat(messages.get(2).data().get("delta").asText()).isEqualTo("Hel");
        assertThat(messages.get(6).data().get("text").asText()).isEqualTo("Hello");
        assertThat(messages.get(6).data().get("metadata").get("model").asText()).isEqualTo("m");
        assertThat(live.ended()).isTrue();
        assertThat(live.next(event(new LogEmitted(LogLevel.info, "after the close"))))
                .isEmpty();
    }

    @Test
    void theSnapshotHasTheEnvironmentTheActiveQueryAndTheOpenBlocksAsTheFoldCountsThem() {
        SessionEventsTranslator late = new SessionEventsTranslator("room-1", 1 << 20);
        for (Object payload : List.of(
                new StatusChanged(EnvironmentStatus.starting, null),
                new StatusChanged(EnvironmentStatus.ready, "up"),
                new StatusChanged(EnvironmentStatus.starting, "again"),
                new ErrorRaised("oom", "killed"),
                new TurnStarted("t2", "agent"),
                new BlockStarted("b2", "t2", "thinking", null, Map.of()),
                new TextDelta("b2", "Let me "))) {
            late.replay(event(payload));
        }

        var state = late.state();

        assertThat(state.event()).isEqualTo("session:state");
        var environment = state.data().get("executionEnvironment");
        assertThat(environment.get("status").asText()).isEqualTo("starting");
        assertThat(environment.get("restartCount").asInt()).isEqualTo(1);
        assertThat(environment.get("lastError").asText()).isEqualTo("oom: killed");
        assertThat(environment.get("lastHealthCheck").isTextual()).isTrue();
        assertThat(state.data().get("activeQuery").get("turnId").asText()).isEqualTo("t2");
        assertThat(state.data().get("openBlocks").get(0).get("text").asText()).isEqualTo("Let me ");
    }

    @Test
    void openBlocksHoldNoMoreTextThanTheBoundAndSayTheyAreTruncated() {
        SessionEventsTranslator bounded = new SessionEventsTranslator("room-1", 10);
        bounded.replay(event(new BlockStarted("b1", null, "text", null, Map.of())));
        bounded.replay(event(new TextDelta("b1", "0123456789")));
        List<SessionEventsTranslator.Message> past = bounded.next(event(new TextDelta("b1", "more")));

        assertThat(past.get(0).data().get("delta").asText())
                .as("the live delta is still sent")
                .isEqualTo("more");
        var block = bounded.state().data().get("openBlocks").get(0);
        assertThat(block.get("text").asText()).isEqualTo("0123456789");
        assertThat(block.get("truncated").asBoolean()).isTrue();
    }

    private static RoomEvent event(Object payload) {
        return SampleEvents.room("room-1", payload);
    }
}
