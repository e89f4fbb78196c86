package dev.substrate.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.substrate.events.run.Activation;
import dev.substrate.events.run.ActivationSurface;
import dev.substrate.events.run.Result;
import dev.substrate.events.run.RunCreated;
import dev.substrate.events.run.RunScope;
import dev.substrate.events.run.RunStarted;
import dev.substrate.events.run.RunSucceeded;
import dev.substrate.testing.KafkaCluster;
import dev.substrate.testing.SharedKafka;
import dev.substrate.topic.TopicSetup;
import dev.substrate.topic.Topics;
import java.util.List;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** The README's "Appending events from Java" example, as written there, against a real broker. */
@ExtendWith(SharedKafka.class)
@Timeout(120)
class ReadmeExampleIT {

    @Test
    void theReadmeExampleAppendsARunLifecycle(KafkaCluster kafka) {
        try (Admin admin = kafka.admin()) {
            TopicSetup.ensure(admin, new Topics("substrate.", 1024 * 1024), 3, (short) -1);
        }

        try (SubstrateClient client = SubstrateClient.builder()
                .kafkaProperty("bootstrap.servers", kafka.bootstrapServers())
                .build()) {
            Appended created = client.createRun(
                            null,
                            RunCreated.newBuilder()
                                    .setScope(RunScope.shared)
                                    .setProject("project:acme/web")
                                    .setActivation(new Activation(ActivationSurface.operator, "alice"))
                                    .build())
                    .join();
            String runId = created.entityId();
            client.startRun(
                    runId,
                    new RunStarted(null),
                    AppendOptions.none().withExpectedVersion(1).withActor("svc:runner"));
            Appended succeeded = client.succeedRun(runId, new RunSucceeded(new Result("PR opened", List.of())))
                    .join();

            assertThat(succeeded.position().topic()).isEqualTo("substrate.run-events");
            assertThat(succeeded.position().offset())
                    .isEqualTo(created.position().offset() + 2);
        }
    }
}
