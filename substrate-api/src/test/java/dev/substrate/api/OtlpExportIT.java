package dev.substrate.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.substrate.api.auth.Role;
import dev.substrate.api.auth.TokenFile;
import dev.substrate.testing.KafkaCluster;
import dev.substrate.testing.SharedKafka;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.Status;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A finished run reaches an OTLP/HTTP receiver built on OpenTelemetry's own protobuf classes as a GenAI trace, sent
 * by OpenTelemetry's own exporter: an {@code invoke_agent} span inside the caller's trace (its traceparent's trace id
 * and parent span), a {@code chat} span per turn with its model, usage and finish reason, an {@code execute_tool}
 * span under the turn that called it, block span events without their text (content is off by default).
 */
@ExtendWith(SharedKafka.class)
@Timeout(300)
class OtlpExportIT {

    @TempDir
    static Path dataDir;

    private static HttpServer receiver;
    private static final List<Span> received = new CopyOnWriteArrayList<>();
    private static final List<String> contentTypes = new CopyOnWriteArrayList<>();
    private static ApiInstance instance;
    private static String token;

    @BeforeAll
    static void start(KafkaCluster kafka) throws Exception {
        receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        receiver.createContext("/v1/traces", exchange -> {
            contentTypes.add(exchange.getRequestHeaders().getFirst("Content-Type"));
            ExportTraceServiceRequest request = ExportTraceServiceRequest.parseFrom(exchange.getRequestBody());
            for (ResourceSpans resource : request.getResourceSpansList()) {
                for (ScopeSpans scope : resource.getScopeSpansList()) {
                    received.addAll(scope.getSpansList());
                }
            }
            exchange.getResponseHeaders().add("Content-Type", "application/x-protobuf");
            exchange.sendResponseHeaders(200, 0);
            exchange.close();
        });
        receiver.start();
        TokenFile tokens = new TokenFile(dataDir.resolve("tokens.json"));
        token = tokens.create("svc:agent", Set.of(Role.ADMIN));
        instance = ApiInstance.startReady(
                kafka,
                "otlp-export",
                dataDir,
                tokens,
                "otel.exporter.otlp.endpoint",
                "http://127.0.0.1:" + receiver.getAddress().getPort());
    }

    @AfterAll
    static void stop() {
        if (instance != null) {
            instance.close();
        }
        if (receiver != null) {
            receiver.stop(0);
        }
    }

    @Test
    void aFinishedRunIsAGenAiTraceInsideItsCallersTrace() throws Exception {
        String tag = UUID.randomUUID().toString().substring(0, 8);
        String runId = "export-run-" + tag;
        String roomId = "export-room-" + tag;
        String traceId = UUID.randomUUID().toString().replace("-", "");
        String callerSpan = "00f067aa0ba902b7";
        appended(
                "/v1/runs",
                "{\"runId\": \"" + runId + "\", \"project\": \"project:export\", \"sessionRoomId\": \""
                        + roomId + "\", \"labels\": {\"agent\": \"planner\"}, \"traceparent\": \"00-" + traceId + "-"
                        + callerSpan + "-01\"}");
        appended("/v1/runs/" + runId + "/events", "{\"type\": \"RunStarted\"}");
        appended(
                "/v1/rooms",
                "{\"roomId\": \"" + roomId + "\", \"kind\": \"session\", \"project\": \"project:export\","
                        + " \"runId\": \"" + runId + "\"}");
        String room = "/v1/rooms/" + roomId + "/events";
        appended(room, "{\"type\": \"TurnStarted\", \"turnId\": \"t1\", \"participant\": \"gpt-4o\"}");
        appended(
                room,
                "{\"type\": \"BlockStarted\", \"blockId\": \"b1\", \"turnId\": \"t1\", \"kind\": \"text\","
                        + " \"role\": \"assistant\"}");
        appended(room, "{\"type\": \"TextDelta\", \"blockId\": \"b1\", \"text\": \"the secret plan\"}");
        appended(room, "{\"type\": \"BlockCompleted\", \"blockId\": \"b1\"}");
        appended(
                room,
                "{\"type\": \"BlockStarted\", \"blockId\": \"b2\", \"turnId\": \"t1\", \"kind\": \"tool_use\","
                        + " \"role\": \"assistant\", \"metadata\": {\"toolCallId\": \"call-1\", \"toolName\": \"search\"}}");
        appended(room, "{\"type\": \"BlockCompleted\", \"blockId\": \"b2\", \"text\": \"{}\"}");
        appended(
                room,
                "{\"type\": \"BlockStarted\", \"blockId\": \"b3\", \"turnId\": \"t1\", \"kind\": \"tool_result\","
                        + " \"role\": \"tool\", \"metadata\": {\"toolCallId\": \"call-1\"}}");
        appended(room, "{\"type\": \"BlockCompleted\", \"blockId\": \"b3\", \"text\": \"found\"}");
        appended(
                room,
                "{\"type\": \"TurnEnded\", \"turnId\": \"t1\", \"reason\": \"stop\", \"usage\": {\"provider\":"
                        + " \"openai\", \"model\": \"gpt-4o\", \"inputTokens\": 100, \"outputTokens\": 20}}");
        appended(
                "/v1/runs/" + runId + "/events",
                "{\"type\": \"RunFailed\", \"failure\": {\"code\": \"tool_error\","
                        + " \"message\": \"the search broke\"}}");

        List<Span> trace = await().atMost(Duration.ofSeconds(60))
                .until(
                        () -> received.stream()
                                .filter(span ->
                                        hex(span.getTraceId().toByteArray()).equals(traceId))
                                .toList(),
                        spans -> spans.size() == 3);
        assertThat(contentTypes).allMatch(type -> type.startsWith("application/x-protobuf"));
        Map<String, Span> byName = trace.stream().collect(Collectors.toMap(Span::getName, span -> span));
        assertThat(byName).containsOnlyKeys("invoke_agent planner", "chat gpt-4o", "execute_tool search");

        Span agent = byName.get("invoke_agent planner");
        assertThat(hex(agent.getParentSpanId().toByteArray())).isEqualTo(callerSpan);
        assertThat(agent.getStatus().getCode()).isEqualTo(Status.StatusCode.STATUS_CODE_ERROR);
        assertThat(agent.getStatus().getMessage()).isEqualTo("the search broke");
        assertThat(attributes(agent))
                .containsEntry("gen_ai.operation.name", "invoke_agent")
                .containsEntry("gen_ai.agent.name", "planner")
                .containsEntry("gen_ai.conversation.id", roomId)
                .containsEntry("gen_ai.usage.input_tokens", "100");

        Span chat = byName.get("chat gpt-4o");
        assertThat(chat.getParentSpanId()).isEqualTo(agent.getSpanId());
        assertThat(attributes(chat))
                .containsEntry("gen_ai.operation.name", "chat")
                .containsEntry("gen_ai.provider.name", "openai")
                .containsEntry("gen_ai.response.model", "gpt-4o")
                .containsEntry("gen_ai.usage.input_tokens", "100")
                .containsEntry("gen_ai.usage.output_tokens", "20")
                .containsEntry("gen_ai.response.finish_reasons", "[stop]");
        assertThat(chat.getStartTimeUnixNano()).isLessThanOrEqualTo(chat.getEndTimeUnixNano());
        assertThat(chat.getEventsList()).hasSize(3);
        // Content stays home unless otel.export.content asks.
        assertThat(chat.toString()).doesNotContain("the secret plan");

        Span tool = byName.get("execute_tool search");
        assertThat(tool.getParentSpanId()).isEqualTo(chat.getSpanId());
        assertThat(attributes(tool))
                .containsEntry("gen_ai.operation.name", "execute_tool")
                .containsEntry("gen_ai.tool.call.id", "call-1")
                .doesNotContainKey("gen_ai.tool.call.result");
    }

    private static void appended(String path, String body) throws Exception {
        var answer = ApiCalls.post(instance.url() + path + "?wait=applied", body, token);
        assertThat(answer.statusCode()).as(path + ": " + answer.body()).isEqualTo(200);
    }

    private static Map<String, String> attributes(Span span) {
        return span.getAttributesList().stream()
                .collect(Collectors.toMap(KeyValue::getKey, attribute -> text(attribute.getValue())));
    }

    private static String text(AnyValue value) {
        return switch (value.getValueCase()) {
            case STRING_VALUE -> value.getStringValue();
            case INT_VALUE -> Long.toString(value.getIntValue());
            case ARRAY_VALUE ->
                value.getArrayValue().getValuesList().stream()
                        .map(OtlpExportIT::text)
                        .toList()
                        .toString();
            default -> value.toString();
        };
    }

    private static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }
}
