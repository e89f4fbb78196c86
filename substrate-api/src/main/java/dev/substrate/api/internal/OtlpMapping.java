package dev.substrate.api.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.substrate.entity.EntityKind;
import dev.substrate.event.EventValidator;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * How the spans of an OTLP export become Substrate events, as OpenTelemetry's GenAI conventions (and the Vercel AI
 * SDK's own {@code ai.*} spans) describe agent work:
 *
 * <ul>
 *   <li>an agent invocation ({@code gen_ai.operation.name} {@code invoke_agent}, or {@code ai.streamText},
 *       {@code ai.generateText} ...) is a run {@code otel.<traceId>.<spanId>}: created, started and finished at the
 *       span's times, failed when its status is an error; an agent inside another is its child run;
 *   <li>a trace's spans share one session room: the {@code gen_ai.conversation.id} when a span names one, otherwise
 *       {@code otel.<traceId>}; its run is the trace's outermost agent in the export that creates it (or, when an AI
 *       SDK model call comes before its agent, the call's parent: the AI SDK's calls are children of its agent span),
 *       and the caller owns it;
 *   <li>a model call ({@code chat}, or {@code ai.streamText.doStream} ...) is a turn of that room: its new user
 *       input (the messages after the last assistant message) and its output text are blocks, and its token usage
 *       rides on its end;
 *   <li>a tool execution ({@code execute_tool}, or {@code ai.toolCall}) is a {@code tool_use} block with its
 *       arguments and a {@code tool_result} block with its result;
 *   <li>usage is taken from model calls, naming the run it counts for (the call's agent); a GenAI agent's own usage
 *       only when none of its model calls is in the export, an AI SDK agent's never (its figures are its calls' sum).
 * </ul>
 *
 * Every event id derives from the trace and span ids, so an export sent again appends only duplicates. Spans of no
 * such kind (an HTTP handler's, say) are not mapped: they are counted as rejected, as OTLP's partial success says.
 */
final class OtlpMapping {

    /** The events planned for one entity: its creation, then the rest in order. */
    record Planned(EntityKind<?, ?> kind, String id, ObjectNode creation, List<ObjectNode> events) {}

    /** What an export becomes: the entities' events, and how many spans were not mapped (with a reason). */
    record Plan(List<Planned> entities, Set<String> projects, int rejected, String rejectedReason) {}

    /** What a span is, as far as the mapping goes. */
    enum Role {
        AGENT,
        CHAT,
        TOOL
    }

    /** The longest text a block is given from a span; past it the text is cut, so that an event stays under the 1 MiB limit. */
    static final int MAX_TEXT = 128 * 1024;

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final Set<String> AI_SDK_AGENTS =
            Set.of("ai.generateText", "ai.streamText", "ai.generateObject", "ai.streamObject");
    private static final Set<String> AI_SDK_CALLS = Set.of(
            "ai.generateText.doGenerate",
            "ai.streamText.doStream",
            "ai.generateObject.doGenerate",
            "ai.streamObject.doStream");
    private static final Set<String> CHAT_OPERATIONS = Set.of("chat", "text_completion", "generate_content");

    private OtlpMapping() {}

    /** What {@code span} is, or null for a span the mapping leaves out. */
    static Role role(OtlpSpans.Span span) {
        // Empty rather than null: Set.of(...).contains(null) throws.
        String operation = String.valueOf(span.text("gen_ai.operation.name"));
        String aiSdk = String.valueOf(span.text("ai.operationId"));
        if ("invoke_agent".equals(operation) || AI_SDK_AGENTS.contains(aiSdk)) {
            return Role.AGENT;
        }
        if (CHAT_OPERATIONS.contains(operation) || AI_SDK_CALLS.contains(aiSdk)) {
            return Role.CHAT;
        }
        if ("execute_tool".equals(operation) || "ai.toolCall".equals(aiSdk)) {
            return Role.TOOL;
        }
        return null;
    }

    /** The events {@code spans} become. */
    static Plan plan(List<OtlpSpans.Span> spans) {
        Map<String, List<OtlpSpans.Span>> traces = new LinkedHashMap<>();
        spans.forEach(span ->
                traces.computeIfAbsent(span.traceId(), id -> new ArrayList<>()).add(span));
        List<Planned> runs = new ArrayList<>();
        List<Planned> rooms = new ArrayList<>();
        Set<String> projects = new LinkedHashSet<>();
        int rejected = 0;
        Set<String> unmapped = new LinkedHashSet<>();
        for (List<OtlpSpans.Span> trace : traces.values()) {
            trace.sort(Comparator.comparingLong(OtlpSpans.Span::startNanos));
            Trace mapped = new Trace(trace);
            for (OtlpSpans.Span span : trace) {
                if (role(span) == null) {
                    rejected++;
                    if (unmapped.size() < 5) {
                        unmapped.add(span.name());
                    }
                }
            }
            if (mapped.mapped.isEmpty()) {
                continue;
            }
            projects.add(mapped.project);
            runs.addAll(mapped.runs());
            rooms.add(mapped.room());
        }
        List<Planned> entities = new ArrayList<>(runs);
        entities.addAll(rooms);
        String reason = rejected == 0
                ? ""
                : rejected + " span(s) are not GenAI agent, model-call or tool spans and were not mapped (such as "
                        + String.join(", ", unmapped) + ")";
        return new Plan(entities, projects, rejected, reason);
    }

    /** One trace's spans of this export. */
    private static final class Trace {
        private final String traceId;
        private final Map<String, OtlpSpans.Span> byId = new LinkedHashMap<>();
        private final List<OtlpSpans.Span> mapped = new ArrayList<>();
        private final String project;
        private final String roomId;

        Trace(List<OtlpSpans.Span> spans) {
            this.traceId = spans.get(0).traceId();
            spans.forEach(span -> byId.put(span.spanId(), span));
            spans.stream().filter(span -> role(span) != null).forEach(mapped::add);
            this.project = mapped.isEmpty() ? null : project(mapped.get(0));
            this.roomId = mapped.stream()
                    .map(span -> span.text("gen_ai.conversation.id"))
                    .filter(id -> id != null && !id.isEmpty())
                    .findFirst()
                    .map(Trace::conversationRoom)
                    .orElse("otel." + traceId);
        }

        /** The nearest ancestor of {@code span} in this export that plays {@code role}, or null. */
        OtlpSpans.Span ancestor(OtlpSpans.Span span, Role role) {
            Set<String> seen = new LinkedHashSet<>();
            OtlpSpans.Span parent = byId.get(span.parentSpanId());
            while (parent != null && seen.add(parent.spanId())) {
                if (role(parent) == role) {
                    return parent;
                }
                parent = byId.get(parent.parentSpanId());
            }
            return null;
        }

        /**
         * The run a model call spends for: its agent's in this export, else, for an AI SDK call, its parent's (the
         * AI SDK's call spans are children of its agent span); null when neither says.
         */
        String runOf(OtlpSpans.Span call) {
            OtlpSpans.Span agent = ancestor(call, Role.AGENT);
            if (agent != null) {
                return runId(agent);
            }
            return isAiSdk(call) && !call.parentSpanId().isEmpty()
                    ? "otel." + traceId + "." + call.parentSpanId()
                    : null;
        }

        String runId(OtlpSpans.Span agent) {
            return "otel." + traceId + "." + agent.spanId();
        }

        String eventId(OtlpSpans.Span span, String what) {
            return "otel." + traceId + "." + span.spanId() + "." + what;
        }

        List<Planned> runs() {
            List<Planned> runs = new ArrayList<>();
            for (OtlpSpans.Span agent : mapped) {
                if (role(agent) != Role.AGENT) {
                    continue;
                }
                OtlpSpans.Span parentAgent = ancestor(agent, Role.AGENT);
                ObjectNode creation = event("RunCreated", eventId(agent, "created"), agent.startNanos());
                creation.put("project", project(agent));
                if (parentAgent != null) {
                    creation.put("parentRunId", runId(parentAgent));
                }
                creation.put("sessionRoomId", roomId);
                ObjectNode labels = creation.putObject("labels");
                labels.put(
                        "otel.service",
                        label(String.valueOf(agent.resource().getOrDefault("service.name", "unknown"))));
                String name = agentName(agent);
                if (name != null) {
                    labels.put("agent", label(name));
                }
                creation.put(
                        "traceparent",
                        "00-" + traceId + "-" + (agent.parentSpanId().isEmpty() ? agent.spanId() : agent.parentSpanId())
                                + "-01");
                List<ObjectNode> events = new ArrayList<>();
                events.add(event("RunStarted", eventId(agent, "started"), agent.startNanos()));
                ObjectNode end;
                if (agent.error()) {
                    end = event("RunFailed", eventId(agent, "ended"), agent.endNanos());
                    ObjectNode failure = end.putObject("failure");
                    failure.put("code", "otel_span_error");
                    failure.put("message", cut(errorMessage(agent), 1000));
                } else {
                    end = event("RunSucceeded", eventId(agent, "ended"), agent.endNanos());
                    String text = outputText(agent);
                    end.putObject("result")
                            .put("summary", text == null || text.isBlank() ? "completed" : cut(text, 1000));
                }
                // The AI SDK's call spans always carry its usage (its agent's is their sum); a GenAI agent's own
                // usage counts only when none of its model calls is in the export.
                boolean callsMapped = isAiSdk(agent)
                        || mapped.stream()
                                .anyMatch(span -> role(span) == Role.CHAT && ancestor(span, Role.AGENT) == agent);
                ObjectNode usage = callsMapped ? null : usage(agent);
                if (usage != null) {
                    end.set("usage", usage);
                }
                events.add(end);
                runs.add(new Planned(EntityKind.RUN, runId(agent), creation, events));
            }
            return runs;
        }

        Planned room() {
            OtlpSpans.Span first = mapped.get(0);
            ObjectNode creation = event("RoomCreated", "otel." + roomId + ".created", first.startNanos());
            creation.put("kind", "session");
            creation.put("project", project);
            OtlpSpans.Span outermost = mapped.stream()
                    .filter(span -> role(span) == Role.AGENT && ancestor(span, Role.AGENT) == null)
                    .findFirst()
                    .orElse(null);
            if (outermost != null) {
                creation.put("runId", runId(outermost));
                String name = agentName(outermost);
                if (name != null) {
                    creation.put("title", cut(name, 200));
                }
            } else {
                // A trace's model calls exported before its agent (a long agent, a batch cut mid-trace): an AI SDK
                // call's parent is always its agent (ai.streamText, ...), whose run this is.
                mapped.stream()
                        .filter(span ->
                                role(span) == Role.CHAT && isAiSdk(span) && !byId.containsKey(span.parentSpanId()))
                        .findFirst()
                        .ifPresent(call -> creation.put("runId", "otel." + traceId + "." + call.parentSpanId()));
            }
            List<Timed> events = new ArrayList<>();
            for (OtlpSpans.Span span : mapped) {
                Role role = role(span);
                if (role == Role.CHAT) {
                    chat(span, events);
                } else if (role == Role.TOOL) {
                    tool(span, events);
                }
            }
            events.sort(Comparator.comparingLong(Timed::nanos));
            return new Planned(
                    EntityKind.ROOM,
                    roomId,
                    creation,
                    events.stream().map(Timed::event).toList());
        }

        private void chat(OtlpSpans.Span call, List<Timed> events) {
            String turnId = call.spanId();
            ObjectNode started = event("TurnStarted", eventId(call, "turn"), call.startNanos());
            started.put("turnId", turnId);
            String model = model(call);
            if (model != null) {
                started.put("participant", cut(model, 256));
            }
            events.add(new Timed(call.startNanos(), started));
            List<String[]> inputs = newInputs(call);
            for (int i = 0; i < inputs.size(); i++) {
                block(
                        events,
                        call,
                        "in" + i,
                        turnId,
                        "text",
                        inputs.get(i)[0],
                        inputs.get(i)[1],
                        Map.of(),
                        call.startNanos());
            }
            String output = outputText(call);
            if (output != null && !output.isEmpty()) {
                block(events, call, "out", turnId, "text", "assistant", output, Map.of(), call.endNanos());
            }
            ObjectNode ended = event("TurnEnded", eventId(call, "turn-end"), call.endNanos());
            ended.put("turnId", turnId);
            String reason = finishReason(call);
            if (reason != null) {
                ended.put("reason", cut(reason, 200));
            }
            ObjectNode usage = usage(call);
            if (usage != null) {
                String runId = runOf(call);
                if (runId != null) {
                    usage.put("runId", runId);
                }
                ended.set("usage", usage);
            }
            events.add(new Timed(call.endNanos(), ended));
        }

        private void tool(OtlpSpans.Span execution, List<Timed> events) {
            OtlpSpans.Span call = ancestor(execution, Role.CHAT);
            // An AI SDK tool runs inside its model call's stream: its parent is the call, exported or not.
            String turnId = call != null
                    ? call.spanId()
                    : isAiSdk(execution) && !execution.parentSpanId().isEmpty() ? execution.parentSpanId() : null;
            Map<String, String> metadata = new LinkedHashMap<>();
            String name = first(execution, "gen_ai.tool.name", "ai.toolCall.name");
            String callId = first(execution, "gen_ai.tool.call.id", "ai.toolCall.id");
            if (name != null) {
                metadata.put("toolName", label(name));
            }
            if (callId != null) {
                metadata.put("toolCallId", label(callId));
            }
            String arguments = first(execution, "gen_ai.tool.call.arguments", "ai.toolCall.args");
            block(
                    events,
                    execution,
                    "use",
                    turnId,
                    "tool_use",
                    "assistant",
                    arguments == null ? "" : arguments,
                    metadata,
                    execution.startNanos());
            String result = first(execution, "gen_ai.tool.call.result", "ai.toolCall.result");
            if (result == null && execution.error()) {
                result = errorMessage(execution);
            }
            block(
                    events,
                    execution,
                    "result",
                    turnId,
                    "tool_result",
                    "tool",
                    result == null ? "" : result,
                    metadata,
                    execution.endNanos());
        }

        private void block(
                List<Timed> events,
                OtlpSpans.Span span,
                String part,
                String turnId,
                String kind,
                String role,
                String text,
                Map<String, String> metadata,
                long nanos) {
            String blockId = span.spanId() + "." + part;
            ObjectNode started = event("BlockStarted", eventId(span, part), nanos);
            started.put("blockId", blockId);
            if (turnId != null) {
                started.put("turnId", turnId);
            }
            started.put("kind", kind);
            started.put("role", role);
            ObjectNode fields = started.putObject("metadata");
            metadata.forEach(fields::put);
            events.add(new Timed(nanos, started));
            ObjectNode completed = event("BlockCompleted", eventId(span, part + "-end"), nanos);
            completed.put("blockId", blockId);
            completed.put("text", cut(text, MAX_TEXT));
            events.add(new Timed(nanos, completed));
        }

        /** The user and system messages a call's prompt adds after the last assistant message: (role, text). */
        private static List<String[]> newInputs(OtlpSpans.Span call) {
            JsonNode messages = parsed(first(call, "gen_ai.input.messages", "ai.prompt.messages"));
            List<String[]> inputs = new ArrayList<>();
            if (messages == null || !messages.isArray()) {
                return inputs;
            }
            for (JsonNode message : messages) {
                String role = message.path("role").asText("");
                if (role.equals("assistant")) {
                    inputs.clear();
                } else if (role.equals("user") || role.equals("system")) {
                    String text = messageText(message);
                    if (!text.isEmpty()) {
                        inputs.add(new String[] {role, text});
                    }
                }
            }
            return inputs;
        }

        private static String conversationRoom(String conversationId) {
            if (conversationId.length() <= 100
                    && EventValidator.ID.matcher(conversationId).matches()) {
                return conversationId;
            }
            return "otel.conversation." + sha256(conversationId).substring(0, 32);
        }
    }

    /** One room event and when it happened, to be put in time order. */
    private record Timed(long nanos, ObjectNode event) {}

    private static ObjectNode event(String type, String eventId, long nanos) {
        ObjectNode event = NODES.objectNode();
        event.put("type", type);
        event.put("eventId", eventId);
        event.put("occurredAt", Instant.ofEpochSecond(0, nanos).toString());
        return event;
    }

    /** The project a span's resource names ({@code substrate.project}), or one made of its {@code service.name}. */
    static String project(OtlpSpans.Span span) {
        Object named = span.resource().get("substrate.project");
        if (named instanceof String project && !project.isBlank()) {
            return project;
        }
        Object service = span.resource().getOrDefault("service.name", "unknown_service");
        return "project:" + String.valueOf(service).replaceAll("[^A-Za-z0-9._:/-]", "-");
    }

    /** Whether {@code span} is one of the Vercel AI SDK's own ({@code ai.operationId}). */
    private static boolean isAiSdk(OtlpSpans.Span span) {
        return span.text("ai.operationId") != null;
    }

    private static String agentName(OtlpSpans.Span agent) {
        return first(agent, "gen_ai.agent.name", "ai.telemetry.functionId");
    }

    private static String model(OtlpSpans.Span span) {
        return first(span, "gen_ai.response.model", "gen_ai.request.model", "ai.response.model", "ai.model.id");
    }

    private static String finishReason(OtlpSpans.Span span) {
        return first(span, "gen_ai.response.finish_reasons", "ai.response.finishReason");
    }

    /** A span's output text: {@code gen_ai.output.messages}' text parts, or the AI SDK's {@code ai.response.text}. */
    private static String outputText(OtlpSpans.Span span) {
        JsonNode messages = parsed(span.text("gen_ai.output.messages"));
        if (messages != null && messages.isArray()) {
            StringBuilder text = new StringBuilder();
            messages.forEach(message -> text.append(messageText(message)));
            return text.toString();
        }
        return span.text("ai.response.text");
    }

    /** The text of a message: its {@code content} string, or the text of its content or parts. */
    private static String messageText(JsonNode message) {
        JsonNode content = message.has("parts") ? message.get("parts") : message.path("content");
        if (content.isTextual()) {
            return content.asText();
        }
        StringBuilder text = new StringBuilder();
        for (JsonNode part : content) {
            if (part.path("type").asText().equals("text")) {
                text.append(
                        part.has("text")
                                ? part.path("text").asText()
                                : part.path("content").asText());
            }
        }
        return text.toString();
    }

    private static String errorMessage(OtlpSpans.Span span) {
        for (OtlpSpans.Event event : span.events()) {
            if (event.name().equals("exception")) {
                Object type = event.attributes().get("exception.type");
                Object message = event.attributes().get("exception.message");
                return (type == null ? "" : type + ": ") + (message == null ? "" : message);
            }
        }
        return span.statusMessage().isBlank() ? "the span ended with an error" : span.statusMessage();
    }

    /** A span's token usage as the {@code usage} of an event, or null when it says none. */
    static ObjectNode usage(OtlpSpans.Span span) {
        long input = firstNumber(span, "gen_ai.usage.input_tokens", "ai.usage.inputTokens", "ai.usage.promptTokens");
        long output =
                firstNumber(span, "gen_ai.usage.output_tokens", "ai.usage.outputTokens", "ai.usage.completionTokens");
        if (input < 0 && output < 0) {
            return null;
        }
        input = Math.max(0, input);
        output = Math.max(0, output);
        long cached = firstNumber(
                span,
                "gen_ai.usage.cache_read.input_tokens",
                "ai.usage.inputTokenDetails.cacheReadTokens",
                "ai.usage.cachedInputTokens");
        long reasoning = firstNumber(
                span,
                "gen_ai.usage.reasoning.output_tokens",
                "ai.usage.outputTokenDetails.reasoningTokens",
                "ai.usage.reasoningTokens");
        ObjectNode usage = NODES.objectNode();
        String provider = first(span, "gen_ai.provider.name", "gen_ai.system", "ai.model.provider");
        if (provider != null) {
            usage.put("provider", cut(provider, 256));
        }
        String model = model(span);
        usage.put("model", model == null || model.isBlank() ? "unknown" : cut(model, 256));
        usage.put("inputTokens", input);
        usage.put("outputTokens", output);
        usage.put("cachedInputTokens", Math.min(input, Math.max(0, cached)));
        usage.put("reasoningTokens", Math.min(output, Math.max(0, reasoning)));
        return usage;
    }

    private static String first(OtlpSpans.Span span, String... keys) {
        for (String key : keys) {
            String value = span.text(key);
            if (value != null) {
                return value;
            }
        }
        return null;
    }

    private static long firstNumber(OtlpSpans.Span span, String... keys) {
        for (String key : keys) {
            long value = span.number(key);
            if (value >= 0) {
                return value;
            }
        }
        return -1;
    }

    private static JsonNode parsed(String json) {
        if (json == null) {
            return null;
        }
        try {
            return JSON.readTree(json);
        } catch (java.io.IOException e) {
            return null;
        }
    }

    /** A label or metadata value: at most 1024 characters, control characters replaced. */
    private static String label(String value) {
        return cut(value.replaceAll("\\p{Cntrl}", " "), 1024);
    }

    private static String cut(String text, int max) {
        if (text.length() <= max) {
            return text;
        }
        int end = max - 1;
        if (Character.isHighSurrogate(text.charAt(end - 1))) {
            end--;
        }
        return text.substring(0, end) + "…";
    }

    private static String sha256(String text) {
        try {
            return HexFormat.of()
                    .formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
