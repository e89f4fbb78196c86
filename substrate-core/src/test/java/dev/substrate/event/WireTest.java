package dev.substrate.event;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.substrate.config.InvalidConfiguration;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.config.TopicSettings;
import dev.substrate.config.WireFormat;
import dev.substrate.events.run.RunEvent;
import dev.substrate.testing.SampleEvents;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The parts of {@link Wire} that need no registry; with one, see the integration tests in substrate-cli. */
class WireTest {

    private final RunEvent event = SampleEvents.run("run-1", SampleEvents.started());

    @Test
    void theDefaultWritesSingleObjectAndReadsIt() {
        Wire wire = Wire.start(SubstrateConfig.of(Map.of()));

        byte[] bytes = wire.encode("substrate.run-events", WireCodec.RUN, event);

        assertThat(wire.format()).isEqualTo(WireFormat.SINGLE_OBJECT);
        assertThat(bytes).startsWith(WireCodec.MARKER);
        assertThat(wire.decode(WireCodec.RUN, bytes)).isEqualTo(event);
    }

    @Test
    void confluentWithoutARegistryIsAConfigurationError() {
        assertThatThrownBy(() -> Wire.start(SubstrateConfig.of(Map.of(TopicSettings.WIRE_FORMAT.key(), "confluent"))))
                .isInstanceOf(InvalidConfiguration.class)
                .hasMessageContaining("schema.registry.url");
        assertThatThrownBy(() -> SubstrateConfig.of(Map.of(TopicSettings.WIRE_FORMAT.key(), "protobuf")))
                .isInstanceOf(InvalidConfiguration.class)
                .hasMessageContaining("wire.format");
    }

    @Test
    void aConfluentRecordWithNoRegistryToAskIsUndecodableWithItsOwnReason() {
        byte[] record = {0, 0, 0, 0, 42, 2, 'x'};

        assertThatThrownBy(() -> Wire.singleObject().decode(WireCodec.RUN, record))
                .isInstanceOfSatisfying(
                        UndecodableRecord.class,
                        e -> assertThat(e.reason()).isEqualTo(UndecodableRecord.Reason.UNKNOWN_SCHEMA_ID))
                .hasMessageContaining("schema id 42");
    }

    @Test
    void aConfluentHeaderCutShortIsABadHeader() {
        assertThatThrownBy(() -> Wire.singleObject().decode(WireCodec.RUN, new byte[] {0, 0, 1}))
                .isInstanceOfSatisfying(
                        UndecodableRecord.class,
                        e -> assertThat(e.reason()).isEqualTo(UndecodableRecord.Reason.BAD_HEADER))
                .hasMessageContaining("5-byte Confluent header");
    }

    @Test
    void settingsAreSpelledAsTheyAreConfigured() {
        assertThat(WireFormat.fromSetting("confluent")).isEqualTo(WireFormat.CONFLUENT);
        assertThat(WireFormat.SINGLE_OBJECT.setting()).isEqualTo("single-object");
        assertThat(SubstrateConfig.of(Map.of(TopicSettings.SCHEMA_REGISTRY_URLS.key(), "http://a:8081, http://b:8081"))
                        .get(TopicSettings.SCHEMA_REGISTRY_URLS))
                .containsExactly("http://a:8081", "http://b:8081");
        assertThat(SubstrateConfig.of(Map.of(TopicSettings.SCHEMA_REGISTRY_USER_INFO.key(), "u:hunter2"))
                        .toString())
                .doesNotContain("hunter2");
    }
}
