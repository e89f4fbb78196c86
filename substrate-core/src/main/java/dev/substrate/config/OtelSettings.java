package dev.substrate.config;

import java.util.List;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;

/** OpenTelemetry: where finished runs are exported as traces, and whether their content goes too. */
public final class OtelSettings {

    /** The OTLP/HTTP endpoint runs are exported to; empty: the standard environment variables, or none. */
    public static final Setting<String> ENDPOINT = Setting.text(
            "otel.exporter.otlp.endpoint",
            "",
            null,
            Importance.MEDIUM,
            "The OTLP/HTTP base endpoint (such as a collector's http://localhost:4318) that finished runs are "
                    + "exported to as traces, to /v1/traces under it. Empty: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or "
                    + "OTEL_EXPORTER_OTLP_ENDPOINT from the environment, with OTEL_EXPORTER_OTLP_HEADERS; no export "
                    + "when none is set.");

    /** Whether exported spans carry the text of the blocks (transcripts can hold secrets). */
    public static final Setting<Boolean> CONTENT = Setting.of(
            "otel.export.content",
            Type.BOOLEAN,
            false,
            null,
            Importance.LOW,
            "Whether exported spans carry what was said: each block's text as a span event attribute. Off: only "
                    + "kinds, roles, sizes, models and usage leave Substrate (transcripts can hold secrets).",
            (value, config) -> (Boolean) value);

    static final List<Setting<?>> ALL = List.of(ENDPOINT, CONTENT);

    private OtelSettings() {}
}
