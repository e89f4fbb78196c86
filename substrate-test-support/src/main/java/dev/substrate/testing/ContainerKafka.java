package dev.substrate.testing;

import org.testcontainers.kafka.KafkaContainer;

/**
 * Kafka from the official {@code apache/kafka} image, for users who run the tests where Docker is available.
 * Tests that use it are annotated {@code @Testcontainers(disabledWithoutDocker = true)} so that they skip, with
 * that reason, on machines without a Docker engine; the embedded broker covers those machines.
 */
public final class ContainerKafka implements KafkaCluster, AutoCloseable {

    /** The image, the same Kafka release the project builds against. */
    public static final String IMAGE = "apache/kafka:4.3.1";

    private final KafkaContainer container;

    private ContainerKafka(KafkaContainer container) {
        this.container = container;
    }

    /** Starts a single-node KRaft broker in a container. */
    @SuppressWarnings("resource") // closed by close()
    public static ContainerKafka start() {
        KafkaContainer container = new KafkaContainer(IMAGE);
        container.start();
        return new ContainerKafka(container);
    }

    @Override
    public String bootstrapServers() {
        return container.getBootstrapServers();
    }

    @Override
    public void close() {
        container.stop();
    }
}
