package dev.substrate.testing;

import dev.substrate.kafka.embedded.EmbeddedKafka;
import java.nio.file.Path;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ExtensionContext.Namespace;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * One real embedded KRaft broker for the whole test JVM, started on first use and stopped when the JVM's
 * tests are done. Tests receive it as a {@link KafkaCluster} parameter:
 *
 * <pre>{@code
 * @ExtendWith(SharedKafka.class)
 * class AppendIT {
 *     @Test
 *     void appendsAreReadBack(KafkaCluster kafka) { ... }
 * }
 * }</pre>
 *
 * <p>Tests share the broker, so each must use topic names, group ids and transactional ids of its own.
 */
public final class SharedKafka implements ParameterResolver {

    private static final Namespace NAMESPACE = Namespace.create(SharedKafka.class);

    @Override
    public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return parameterContext.getParameter().getType() == KafkaCluster.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return broker(extensionContext);
    }

    /** The JVM's shared broker, started if this is its first use. */
    public static KafkaCluster broker(ExtensionContext context) {
        return context.getRoot()
                .getStore(NAMESPACE)
                .getOrComputeIfAbsent(Broker.class, key -> Broker.start(), Broker.class);
    }

    /** The running broker, closed by JUnit with the root context at the end of the run. */
    static final class Broker implements KafkaCluster, AutoCloseable {
        private final EmbeddedKafka kafka;
        private final Path dataDir;

        private Broker(EmbeddedKafka kafka, Path dataDir) {
            this.kafka = kafka;
            this.dataDir = dataDir;
        }

        static Broker start() {
            Path dataDir = TempDirs.create("substrate-shared-kafka-");
            return new Broker(EmbeddedKafka.builder().dataDir(dataDir).start(), dataDir);
        }

        @Override
        public String bootstrapServers() {
            return kafka.bootstrapServers();
        }

        @Override
        public void close() {
            try {
                kafka.close();
            } finally {
                TempDirs.delete(dataDir);
            }
        }
    }
}
