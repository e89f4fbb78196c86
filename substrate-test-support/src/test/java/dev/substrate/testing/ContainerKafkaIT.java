package dev.substrate.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.testcontainers.junit.jupiter.Testcontainers;

/**
 * The same produce-and-consume check against Kafka in the official image. Needs a Docker engine; where there is
 * none (as on the project's CI machines) JUnit reports it skipped because Docker is not available.
 */
@Testcontainers(disabledWithoutDocker = true)
@Timeout(300)
class ContainerKafkaIT {

    @Test
    void producesAndConsumesThroughTheApacheKafkaImage() {
        try (ContainerKafka kafka = ContainerKafka.start()) {
            String topic = TestRecords.uniqueTopic("container");

            TestRecords.produce(kafka, topic, Map.of("k", "v"));

            assertThat(TestRecords.consume(kafka, topic, 1, Duration.ofSeconds(60)))
                    .containsExactlyEntriesOf(Map.of("k", "v"));
        }
    }
}
