package dev.substrate.api.internal;

import dev.substrate.config.KafkaSettings;
import dev.substrate.config.OtelSettings;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.event.Wire;
import dev.substrate.event.WireCodec;
import dev.substrate.events.common.Usage;
import dev.substrate.events.room.BlockCompleted;
import dev.substrate.events.room.BlockStarted;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.events.room.TextDelta;
import dev.substrate.events.room.TurnEnded;
import dev.substrate.events.room.TurnStarted;
import dev.substrate.state.RunState;
import dev.substrate.state.RunStatus;
import dev.substrate.state.UsageTotal;
import dev.substrate.topic.Topics;
import dev.substrate.webhook.WebhookEvents;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporterBuilder;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.common.InstrumentationLibraryInfo;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.data.EventData;
import io.opentelemetry.sdk.trace.data.LinkData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.data.StatusData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.utils.Utils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Exports each finished run as an OpenTelemetry trace with OpenTelemetry's own OTLP exporter, as the GenAI
 * conventions describe agent work: the run an {@code invoke_agent} span inside the trace its {@code traceparent}
 * named (its parent span the caller's), each turn of its session room a {@code chat} span with its model, finish
 * reason and usage, each tool_use with its tool_result an {@code execute_tool} span, and the turn's blocks span
 * events (their text only with {@code otel.export.content}).
 *
 * <p>Driven by the fold's notifications (a run finished) with a consumer group's stored position, moved only after the
 * exporter took the spans: a restart loses no finished run and sends again at most the spans of the export it was
 * in. Span ids derive from the run, turn and tool call, so a span sent again is the same span.
 */
final class OtlpExport implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(OtlpExport.class);

    /** The most room records read to find one run's turns. */
    static final int MAX_ROOM_RECORDS = 100_000;

    private static final Set<String> FINISHED = Set.of(
            WebhookEvents.RUN_SUCCEEDED,
            WebhookEvents.RUN_FAILED,
            WebhookEvents.RUN_CANCELLED,
            WebhookEvents.RUN_TIMED_OUT);
    private static final Pattern TRACEPARENT = Pattern.compile("00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})");
    private static final Duration WINDOW_MARGIN = Duration.ofMinutes(1);
    private static final InstrumentationScopeInfo SCOPE = InstrumentationScopeInfo.create("dev.substrate");
    private static final Resource RESOURCE =
            Resource.create(Attributes.of(AttributeKey.stringKey("service.name"), "substrate"));

    private final Topics topics;
    private final SpanExporter exporter;
    private final boolean content;
    private final Wire wire;
    private final KafkaConsumer<String, byte[]> notifications;
    private final KafkaConsumer<String, byte[]> rooms;
    private final Thread reader;
    private volatile boolean closed;

    private OtlpExport(SubstrateConfig config, String endpoint, Map<String, String> headers) {
        this.topics = Topics.from(config);
        OtlpHttpSpanExporterBuilder builder = OtlpHttpSpanExporter.builder().setEndpoint(endpoint);
        headers.forEach(builder::addHeader);
        this.exporter = builder.build();
        this.content = config.get(OtelSettings.CONTENT);
        this.wire = Wire.start(config, topics);
        Map<String, Object> props = new HashMap<>(config.kafkaProperties(ConsumerConfig.configNames()));
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 100);
        Map<String, Object> group = new HashMap<>(props);
        group.put(ConsumerConfig.GROUP_ID_CONFIG, config.get(KafkaSettings.APPLICATION_ID) + ".otlp-export");
        group.put(ConsumerConfig.CLIENT_ID_CONFIG, "substrate-otlp-export");
        this.notifications = new KafkaConsumer<>(group, new StringDeserializer(), new ByteArrayDeserializer());
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, "substrate-otlp-export-rooms");
        this.rooms = new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
        this.reader = new Thread(this::run, "substrate-otlp-export");
        this.reader.setDaemon(true);
        this.reader.start();
        log.info("Exporting finished runs as OpenTelemetry traces to {}", endpoint);
    }

    /**
     * The exporter {@code config} and the environment ask for: {@code otel.exporter.otlp.endpoint}, else {@code
     * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT} (as it is) or {@code OTEL_EXPORTER_OTLP_ENDPOINT} (with {@code /v1/traces}),
     * with {@code OTEL_EXPORTER_OTLP_HEADERS}; null when none is set.
     */
    static OtlpExport startIfConfigured(SubstrateConfig config, Map<String, String> environment) {
        String base = config.get(OtelSettings.ENDPOINT);
        String endpoint = null;
        if (!base.isBlank()) {
            endpoint = traces(base);
        } else if (!environment
                .getOrDefault("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
                .isBlank()) {
            endpoint = environment.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
        } else if (!environment.getOrDefault("OTEL_EXPORTER_OTLP_ENDPOINT", "").isBlank()) {
            endpoint = traces(environment.get("OTEL_EXPORTER_OTLP_ENDPOINT"));
        }
        if (endpoint == null) {
            return null;
        }
        return new OtlpExport(config, endpoint, headers(environment.getOrDefault("OTEL_EXPORTER_OTLP_HEADERS", "")));
    }

    private static String traces(String base) {
        return base.endsWith("/") ? base + "v1/traces" : base + "/v1/traces";
    }

    /** {@code OTEL_EXPORTER_OTLP_HEADERS}: {@code key=value} pairs, comma-separated, values URL-encoded. */
    static Map<String, String> headers(String spec) {
        Map<String, String> headers = new LinkedHashMap<>();
        for (String pair : spec.split(",")) {
            int equals = pair.indexOf('=');
            if (equals > 0) {
                headers.put(
                        pair.substring(0, equals).trim(),
                        URLDecoder.decode(pair.substring(equals + 1).trim(), StandardCharsets.UTF_8));
            }
        }
        return headers;
    }

    private void run() {
        notifications.subscribe(List.of(topics.notifications().name()));
        while (!closed) {
            try {
                ConsumerRecords<String, byte[]> records = notifications.poll(Duration.ofSeconds(1));
                if (records.isEmpty()) {
                    continue;
                }
                List<SpanData> spans = new ArrayList<>();
                for (ConsumerRecord<String, byte[]> record : records) {
                    if ("run".equals(header(record, "substrate.entity"))
                            && FINISHED.contains(header(record, "substrate.type"))) {
                        spans.addAll(spans(WireCodec.RUN_STATE.decode(record.value())));
                    }
                }
                if (!spans.isEmpty() && !export(spans)) {
                    // Not taken: read the same notifications again after a pause (the position stays).
                    for (TopicPartition partition : records.partitions()) {
                        notifications.seek(
                                partition, records.records(partition).get(0).offset());
                    }
                    Thread.sleep(5_000);
                    continue;
                }
                notifications.commitSync();
            } catch (WakeupException e) {
                if (closed) {
                    break;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (RuntimeException e) {
                log.warn("OTLP export: a notification could not be exported; it is skipped", e);
                notifications.commitSync();
            }
        }
    }

    private boolean export(List<SpanData> spans) {
        CompletableResultCode result = exporter.export(spans).join(30, TimeUnit.SECONDS);
        if (!result.isSuccess()) {
            log.warn("OTLP export: {} spans were not taken; trying again in 5 s", spans.size());
        }
        return result.isSuccess();
    }

    private static String header(ConsumerRecord<String, byte[]> record, String name) {
        Header header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    /** A finished run's spans: the run, its session room's turns, and their tool calls. */
    List<SpanData> spans(RunState run) {
        String traceId;
        SpanContext parent = SpanContext.getInvalid();
        var traceparent = run.getTraceparent() == null ? null : TRACEPARENT.matcher(run.getTraceparent());
        if (traceparent != null && traceparent.matches()) {
            traceId = traceparent.group(1);
            parent = SpanContext.createFromRemoteParent(
                    traceId, traceparent.group(2), TraceFlags.getSampled(), TraceState.getDefault());
        } else {
            traceId = hash("trace:" + run.getRunId(), 32);
        }
        Instant start = run.getTimestamps().getStartedAt() != null
                ? run.getTimestamps().getStartedAt()
                : run.getTimestamps().getCreatedAt();
        Instant end = run.getTimestamps().getFinishedAt() != null
                ? run.getTimestamps().getFinishedAt()
                : run.getTimestamps().getUpdatedAt();
        String agent = run.getLabels().get("agent");
        AttributesBuilder attributes = Attributes.builder()
                .put("gen_ai.operation.name", "invoke_agent")
                .put("gen_ai.agent.id", run.getRunId())
                .put("substrate.run.id", run.getRunId())
                .put("substrate.project", run.getProject())
                .put("substrate.run.status", run.getStatus().name());
        if (agent != null) {
            attributes.put("gen_ai.agent.name", agent);
        }
        if (run.getSessionRoomId() != null) {
            attributes.put("gen_ai.conversation.id", run.getSessionRoomId());
        }
        List<SpanData> spans = new ArrayList<>();
        SpanContext runSpan = context(traceId, hash("run:" + run.getRunId(), 16));
        long input = 0;
        long output = 0;
        for (UsageTotal total : run.getUsage()) {
            input += total.getInputTokens();
            output += total.getOutputTokens();
        }
        if (run.getSessionRoomId() != null) {
            Turns turns = turns(run, start, end);
            for (Turn turn : turns.turns.values()) {
                if (turn.end == null) {
                    continue;
                }
                spans.add(chat(traceId, runSpan, run, turn));
                if (turn.usage != null) {
                    input += turn.usage.getInputTokens();
                    output += turn.usage.getOutputTokens();
                }
            }
            for (Tool tool : turns.tools.values()) {
                if (tool.end != null) {
                    Turn turn = tool.turnId == null ? null : turns.turns.get(tool.turnId);
                    SpanContext toolParent = turn == null || turn.end == null
                            ? runSpan
                            : context(traceId, hash("turn:" + run.getRunId() + ":" + turn.turnId, 16));
                    spans.add(tool(traceId, toolParent, run, tool));
                }
            }
        }
        attributes.put("gen_ai.usage.input_tokens", input).put("gen_ai.usage.output_tokens", output);
        boolean failed = run.getStatus() == RunStatus.failed || run.getStatus() == RunStatus.timed_out;
        String message = run.getFailure() != null ? run.getFailure().getMessage() : run.getEndReason();
        spans.add(
                0,
                new ExportedSpan(
                        "invoke_agent" + (agent == null ? "" : " " + agent),
                        SpanKind.INTERNAL,
                        runSpan,
                        parent,
                        failed ? StatusData.create(StatusCode.ERROR, message == null ? "" : message) : StatusData.ok(),
                        nanos(start),
                        nanos(end),
                        attributes.build(),
                        List.of()));
        return spans;
    }

    private SpanData chat(String traceId, SpanContext parent, RunState run, Turn turn) {
        AttributesBuilder attributes = Attributes.builder()
                .put("gen_ai.operation.name", "chat")
                .put("gen_ai.conversation.id", run.getSessionRoomId());
        String model = turn.usage != null ? turn.usage.getModel() : turn.participant;
        if (model != null) {
            attributes.put("gen_ai.request.model", model).put("gen_ai.response.model", model);
        }
        if (turn.usage != null) {
            if (turn.usage.getProvider() != null) {
                attributes.put("gen_ai.provider.name", turn.usage.getProvider());
            }
            attributes
                    .put("gen_ai.usage.input_tokens", turn.usage.getInputTokens())
                    .put("gen_ai.usage.output_tokens", turn.usage.getOutputTokens());
        }
        if (turn.reason != null) {
            attributes.put(AttributeKey.stringArrayKey("gen_ai.response.finish_reasons"), List.of(turn.reason));
        }
        return new ExportedSpan(
                "chat" + (model == null ? "" : " " + model),
                SpanKind.CLIENT,
                context(traceId, hash("turn:" + run.getRunId() + ":" + turn.turnId, 16)),
                parent,
                StatusData.unset(),
                nanos(turn.start),
                nanos(turn.end),
                attributes.build(),
                turn.events);
    }

    private SpanData tool(String traceId, SpanContext parent, RunState run, Tool tool) {
        AttributesBuilder attributes = Attributes.builder()
                .put("gen_ai.operation.name", "execute_tool")
                .put("gen_ai.tool.call.id", tool.callId);
        if (tool.name != null) {
            attributes.put("gen_ai.tool.name", tool.name);
        }
        if (content) {
            attributes.put("gen_ai.tool.call.arguments", tool.arguments.toString());
            attributes.put("gen_ai.tool.call.result", tool.result.toString());
        }
        return new ExportedSpan(
                "execute_tool" + (tool.name == null ? "" : " " + tool.name),
                SpanKind.INTERNAL,
                context(traceId, hash("tool:" + run.getRunId() + ":" + tool.callId, 16)),
                parent,
                StatusData.unset(),
                nanos(tool.start),
                nanos(tool.end),
                attributes.build(),
                List.of());
    }

    /** One turn as the room's log tells it. */
    private static final class Turn {
        final String turnId;
        final Instant start;
        final String participant;
        Instant end;
        String reason;
        Usage usage;
        final List<EventData> events = new ArrayList<>();

        Turn(String turnId, Instant start, String participant) {
            this.turnId = turnId;
            this.start = start;
            this.participant = participant;
        }
    }

    /** One tool call: its tool_use block's start, its tool_result block's completion. */
    private static final class Tool {
        final String callId;
        final String name;
        final String turnId;
        final Instant start;
        final StringBuilder arguments = new StringBuilder();
        final StringBuilder result = new StringBuilder();
        Instant end;

        Tool(String callId, String name, String turnId, Instant start) {
            this.callId = callId;
            this.name = name;
            this.turnId = turnId;
            this.start = start;
        }
    }

    private record Turns(Map<String, Turn> turns, Map<String, Tool> tools) {}

    /**
     * The run's session room's turns and tool calls between the run's start and end, read from the room's log
     * partition from the offset of its start (at most {@value #MAX_ROOM_RECORDS} records).
     */
    private Turns turns(RunState run, Instant start, Instant end) {
        String roomId = run.getSessionRoomId();
        String topic = topics.roomEvents().name();
        int partitions = rooms.partitionsFor(topic).size();
        TopicPartition partition = new TopicPartition(
                topic, Utils.toPositive(Utils.murmur2(roomId.getBytes(StandardCharsets.UTF_8))) % partitions);
        rooms.assign(List.of(partition));
        Map<TopicPartition, OffsetAndTimestamp> from = rooms.offsetsForTimes(Map.of(
                partition,
                run.getTimestamps().getCreatedAt().minus(WINDOW_MARGIN).toEpochMilli()));
        long endOffset = rooms.endOffsets(List.of(partition)).get(partition);
        OffsetAndTimestamp first = from.get(partition);
        rooms.seek(partition, first == null ? endOffset : first.offset());
        Map<String, Turn> turns = new LinkedHashMap<>();
        Map<String, Tool> tools = new LinkedHashMap<>();
        Map<String, Tool> toolBlocks = new HashMap<>();
        Map<String, String[]> blocks = new HashMap<>();
        int read = 0;
        Instant last = end.plus(WINDOW_MARGIN);
        while (rooms.position(partition) < endOffset && read < MAX_ROOM_RECORDS) {
            for (ConsumerRecord<String, byte[]> record : rooms.poll(Duration.ofMillis(500))) {
                read++;
                if (!roomId.equals(record.key())) {
                    continue;
                }
                RoomEvent event;
                try {
                    event = wire.decode(WireCodec.ROOM, record.value());
                } catch (RuntimeException e) {
                    continue;
                }
                Instant at = event.getOccurredAt();
                if (at.isBefore(run.getTimestamps().getCreatedAt()) || at.isAfter(last)) {
                    continue;
                }
                Object payload = event.getPayload();
                if (payload instanceof TurnStarted started) {
                    turns.putIfAbsent(started.getTurnId(), new Turn(started.getTurnId(), at, started.getParticipant()));
                } else if (payload instanceof TurnEnded ended && turns.containsKey(ended.getTurnId())) {
                    Turn turn = turns.get(ended.getTurnId());
                    turn.end = at;
                    turn.reason = ended.getReason();
                    turn.usage = event.getUsage();
                } else if (payload instanceof BlockStarted block) {
                    blocks.put(block.getBlockId(), new String[] {block.getKind(), block.getRole(), block.getTurnId()});
                    String callId = block.getMetadata().get("toolCallId");
                    if (block.getKind().equals("tool_use") && callId != null) {
                        Tool tool = new Tool(callId, block.getMetadata().get("toolName"), block.getTurnId(), at);
                        tools.putIfAbsent(callId, tool);
                        toolBlocks.put(block.getBlockId(), tools.get(callId));
                    } else if (block.getKind().equals("tool_result") && callId != null && tools.containsKey(callId)) {
                        toolBlocks.put(block.getBlockId(), tools.get(callId));
                    }
                } else if (payload instanceof TextDelta delta && toolBlocks.containsKey(delta.getBlockId())) {
                    append(toolBlocks.get(delta.getBlockId()), blocks.get(delta.getBlockId()), delta.getText());
                } else if (payload instanceof BlockCompleted completed) {
                    String[] block = blocks.get(completed.getBlockId());
                    Tool tool = toolBlocks.get(completed.getBlockId());
                    if (tool != null && completed.getText() != null) {
                        append(tool, block, completed.getText());
                    }
                    if (tool != null && block != null && block[0].equals("tool_result")) {
                        tool.end = at;
                    }
                    if (block != null && block[2] != null && turns.containsKey(block[2])) {
                        turns.get(block[2]).events.add(blockEvent(at, block, completed));
                    }
                }
            }
        }
        return new Turns(turns, tools);
    }

    private static void append(Tool tool, String[] block, String text) {
        StringBuilder into = block != null && block[0].equals("tool_result") ? tool.result : tool.arguments;
        if (into.length() < 64 * 1024) {
            into.append(text, 0, Math.min(text.length(), 64 * 1024 - into.length()));
        }
    }

    private EventData blockEvent(Instant at, String[] block, BlockCompleted completed) {
        AttributesBuilder attributes = Attributes.builder().put("substrate.block.kind", block[0]);
        if (block[1] != null) {
            attributes.put("gen_ai.message.role", block[1]);
        }
        if (content && completed.getText() != null) {
            attributes.put("gen_ai.message.content", completed.getText());
        }
        return EventData.create(nanos(at), "substrate.block", attributes.build());
    }

    private static SpanContext context(String traceId, String spanId) {
        return SpanContext.create(traceId, spanId, TraceFlags.getSampled(), TraceState.getDefault());
    }

    private static long nanos(Instant at) {
        return TimeUnit.SECONDS.toNanos(at.getEpochSecond()) + at.getNano();
    }

    /** The first {@code digits} hex digits of the SHA-256 of {@code text}: an id that is the same every time. */
    private static String hash(String text, int digits) {
        try {
            String hex = HexFormat.of()
                    .formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
            return hex.substring(0, digits);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    @Override
    public void close() {
        closed = true;
        notifications.wakeup();
        try {
            reader.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        notifications.close();
        rooms.close();
        exporter.shutdown().join(10, TimeUnit.SECONDS);
    }

    /** A finished span, as the exporter takes it. */
    private record ExportedSpan(
            String name,
            SpanKind kind,
            SpanContext spanContext,
            SpanContext parentSpanContext,
            StatusData status,
            long startEpochNanos,
            long endEpochNanos,
            Attributes attributes,
            List<EventData> events)
            implements SpanData {

        @Override
        public String getName() {
            return name;
        }

        @Override
        public SpanKind getKind() {
            return kind;
        }

        @Override
        public SpanContext getSpanContext() {
            return spanContext;
        }

        @Override
        public SpanContext getParentSpanContext() {
            return parentSpanContext;
        }

        @Override
        public StatusData getStatus() {
            return status;
        }

        @Override
        public long getStartEpochNanos() {
            return startEpochNanos;
        }

        @Override
        public Attributes getAttributes() {
            return attributes;
        }

        @Override
        public List<EventData> getEvents() {
            return events;
        }

        @Override
        public List<LinkData> getLinks() {
            return List.of();
        }

        @Override
        public long getEndEpochNanos() {
            return endEpochNanos;
        }

        @Override
        public boolean hasEnded() {
            return true;
        }

        @Override
        public int getTotalRecordedEvents() {
            return events.size();
        }

        @Override
        public int getTotalRecordedLinks() {
            return 0;
        }

        @Override
        public int getTotalAttributeCount() {
            return attributes.size();
        }

        @Override
        @SuppressWarnings("deprecation") // The interface still asks for it; the exporter reads the scope.
        public InstrumentationLibraryInfo getInstrumentationLibraryInfo() {
            return InstrumentationLibraryInfo.create(SCOPE.getName(), null);
        }

        @Override
        public InstrumentationScopeInfo getInstrumentationScopeInfo() {
            return SCOPE;
        }

        @Override
        public Resource getResource() {
            return RESOURCE;
        }
    }
}
