package dev.substrate.api.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class MetricsTest {

    @Test
    void kafkaNamesBecomePrometheusNames() {
        assertThat(Metrics.sanitize("producer-metrics")).isEqualTo("producer_metrics");
        assertThat(Metrics.sanitize("Record-Send-Rate")).isEqualTo("record_send_rate");
        assertThat(Metrics.sanitize("a.b:c d")).isEqualTo("a_b_c_d");
        assertThat(Metrics.sanitize("99th-percentile")).isEqualTo("_99th_percentile");
        assertThat(Metrics.sanitize("ünïcode")).isEqualTo("_n_code");
        assertThat(Metrics.sanitize("")).isEmpty();
    }
}
