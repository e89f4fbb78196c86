package dev.substrate.stream;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.substrate.events.room.BlockCompleted;
import dev.substrate.events.room.BlockStarted;
import dev.substrate.events.room.ErrorRaised;
import dev.substrate.events.room.LogEmitted;
import dev.substrate.events.room.LogLevel;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.events.room.TextDelta;
import dev.substrate.events.room.TurnEnded;
import dev.substrate.events.room.TurnStarted;
import dev.substrate.testing.SampleEvents;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The room-to-AI-SDK translation (the AI SDK's own code assembles it over HTTP: ObserverClientsIT). */
class UiMessageTranslatorTest {

    @Test
    void aTurnIsOneMessageOfChunksAndTheSameMessageAssembled() {
        UiMessageTranslator translator = new UiMessageTranslator(1 << 20, true);
        List<ObjectNode> chunks = new ArrayList<>();
        for (Object payload : List.of(
                new TurnStarted("t1", "agent"),
                new BlockStarted("b1", "t1", "text", "assistant", Map.of()),
                new TextDelta("b1", "Hi"),
                new BlockCompleted("b1", null),
                new BlockStarted("c1", "t1", "tool_use", null, Map.of("name", "search")),
                new TextDelta("c1", "{\"q\": 1}"),
                new BlockCompleted("c1", null),
                new BlockStarted("r1", "t1", "tool_result", null, Map.of()),
                new TextDelta("r1", "found"),
                new BlockCompleted("r1", null),
                new LogEmitted(LogLevel.info, "l"),
                new ErrorRaised("e", "m"),
                new TurnEnded("t1", "length"))) {
            chunks.addAll(translator.next(event(payload)));
        }

        assertThat(chunks.stream().map(chunk -> chunk.get("type").asText()))
                .containsExactly(
                        "start",
                        "start-step",
                        "text-start",
                        "text-delta",
                        "text-end",
                        "tool-input-start",
                        "tool-input-delta",
                        "tool-input-available",
                        "tool-output-available",
                        "data-substrate-log",
                        "error",
                        "data-substrate-error",
                        "finish-step",
                        "finish");
        assertThat(chunks.get(0).get("messageId").asText()).isEqualTo("t1");
        assertThat(chunks.get(7).get("input").get("q").asInt()).isEqualTo(1);
        assertThat(chunks.get(8).get("toolCallId").asText())
                .as("the turn's last call")
                .isEqualTo("c1");
        assertThat(chunks.get(8).get("output").asText()).isEqualTo("found");
        assertThat(chunks.get(13).get("finishReason").asText()).isEqualTo("length");

        var message = translator.messages().get(0);
        assertThat(message.get("id").asText()).isEqualTo("t1");
        assertThat(message.get("parts").get(1).get("text").asText()).isEqualTo("Hi");
        assertThat(message.get("parts").get(2).get("type").asText()).isEqualTo("tool-search");
        assertThat(message.get("parts").get(2).get("state").asText()).isEqualTo("output-available");
    }

    @Test
    void aResultForNoCallOfItsMessageIsADataPartAndAnUnknownEndReasonIsOther() {
        UiMessageTranslator translator = new UiMessageTranslator(1 << 20, false);
        translator.next(event(new TurnStarted("t1", "user")));
        translator.next(event(new BlockStarted("r1", "t1", "tool_result", null, Map.of("toolCallId", "elsewhere"))));
        List<ObjectNode> result = translator.next(event(new BlockCompleted("r1", "{\"ok\": true}")));
        List<ObjectNode> end = translator.next(event(new TurnEnded("t1", "interrupted")));

        assertThat(result.get(0).get("type").asText()).isEqualTo("data-substrate-tool-result");
        assertThat(result.get(0).get("data").get("output").get("ok").asBoolean())
                .isTrue();
        assertThat(end.get(1).get("finishReason").asText()).isEqualTo("other");
    }

    @Test
    void theKeptMessagesStayWithinTheBoundOldestLeftOut() {
        UiMessageTranslator translator = new UiMessageTranslator(10, true);
        for (int turn = 0; turn < 3; turn++) {
            translator.next(event(new TurnStarted("t" + turn, "agent")));
            translator.next(event(new BlockStarted("b" + turn, null, "text", null, Map.of())));
            translator.next(event(new TextDelta("b" + turn, "12345678")));
            translator.next(event(new BlockCompleted("b" + turn, null)));
            translator.next(event(new TurnEnded("t" + turn, null)));
        }

        assertThat(translator.messages()).hasSize(1);
        assertThat(translator.messages().get(0).get("id").asText()).isEqualTo("t2");
        assertThat(translator.messagesLeftOut()).isEqualTo(2);
    }

    private static RoomEvent event(Object payload) {
        return SampleEvents.room("room-1", payload);
    }
}
