package dev.substrate.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(SharedKafka.class)
@Timeout(120)
class SharedKafkaIT {

    @Test
    void producesAndConsumesThroughTheSharedBroker(KafkaCluster kafka) {
        String topic = TestRecords.uniqueTopic("shared");

        TestRecords.produce(kafka, topic, Map.of("run-1", "created", "run-2", "started"));

        assertThat(TestRecords.consume(kafka, topic, 2, Duration.ofSeconds(30)))
                .containsExactlyInAnyOrderEntriesOf(Map.of("run-1", "created", "run-2", "started"));
    }

    @Test
    void everyUseInTheJvmGetsTheSameBroker(KafkaCluster first, KafkaCluster second) {
        assertThat(second).isSameAs(first);
        assertThat(first.bootstrapServers()).startsWith("localhost:");
    }
}
