package dev.substrate.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;

/** The gate itself: it must fail on the changes it exists to catch, and pass on the ones Avro allows. */
class CompatibilityGateTest {

    private static final ReleasedSchemas.Version RUN_V1 =
            ReleasedSchemas.of(WireSchema.RUN).get(0);

    @Test
    void shouldFailWhenAFieldIsAddedWithoutADefault() {
        Schema changed = withRunStartedField("{\"name\": \"attempt\", \"type\": \"int\"}");

        assertThat(CompatibilityGate.violations(changed, List.of(RUN_V1)))
                .anyMatch(violation -> violation.contains("cannot read records written with run-event/v1.avsc"));
    }

    @Test
    void shouldFailWhenAnEnumSymbolIsAddedWithoutADefault() {
        Schema changed = parse(RUN_V1.schema()
                .toString()
                .replace("\"symbols\":[\"local\",\"shared\"]", "\"symbols\":[\"local\",\"shared\",\"remote\"]"));

        assertThat(CompatibilityGate.violations(changed, List.of(RUN_V1)))
                .anyMatch(violation -> violation.contains("run-event/v1.avsc cannot read records it writes"));
    }

    @Test
    void shouldFailWhenAFieldChangesType() {
        String since = "\"name\":\"since\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}";
        assertThat(RUN_V1.schema().toString()).contains(since);
        Schema changed = parse(RUN_V1.schema().toString().replace(since, "\"name\":\"since\",\"type\":\"string\""));

        assertThat(CompatibilityGate.violations(changed, List.of(RUN_V1))).hasSize(2);
    }

    @Test
    void shouldPassWhenAnOptionalFieldIsAdded() {
        Schema changed =
                withRunStartedField("{\"name\": \"attempt\", \"type\": [\"null\", \"int\"], \"default\": null}");

        assertThat(CompatibilityGate.violations(changed, List.of(RUN_V1))).isEmpty();
    }

    @Test
    void shouldPassForTheReleasedSchemaItself() {
        assertThat(CompatibilityGate.violations(RUN_V1.schema(), List.of(RUN_V1)))
                .isEmpty();
    }

    @Test
    void shouldRefuseAReleasedFileThatNoLongerMatchesItsFingerprint() {
        Schema edited =
                withRunStartedField("{\"name\": \"attempt\", \"type\": [\"null\", \"int\"], \"default\": null}");

        assertThat(ReleasedSchemas.fingerprint(edited)).isNotEqualTo(RUN_V1.fingerprint());
        assertThatThrownBy(() -> ReleasedSchemas.of(
                        WireSchema.RUN,
                        name -> name.equals("run-event/v1.avsc") ? edited.toString() : ReleasedSchemas.read(name)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("run-event/v1.avsc")
                .hasMessageContaining("must never change");
    }

    private static Schema withRunStartedField(String field) {
        String json = RUN_V1.schema().toString();
        String marker = "\"name\":\"RunStarted\",\"doc\":\"A run began executing.\",\"fields\":[";
        assertThat(json).contains(marker);
        return parse(json.replace(marker, marker + field + ","));
    }

    private static Schema parse(String json) {
        return new Schema.Parser().parse(json);
    }
}
