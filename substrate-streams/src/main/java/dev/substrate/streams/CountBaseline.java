package dev.substrate.streams;

import dev.substrate.config.SubstrateConfig;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Materialized;

/**
 * What a user would run instead of the fold, as a yardstick: a plain Kafka Streams application that counts
 * records by key over the same logs, with the fold's own settings (exactly once, RocksDB, a changelog).
 * {@code substrate bench} folds one backlog with each and compares.
 */
public final class CountBaseline implements AutoCloseable {

    private final KafkaStreams streams;
    private final String applicationId;

    private CountBaseline(KafkaStreams streams, String applicationId) {
        this.streams = streams;
        this.applicationId = applicationId;
    }

    /** Starts counting the records of {@code topics} by key, as Kafka Streams application {@code applicationId}. */
    public static CountBaseline start(SubstrateConfig config, String applicationId, List<String> topics) {
        StreamsBuilder builder = new StreamsBuilder();
        builder.stream(topics, Consumed.with(Serdes.String(), Serdes.ByteArray()))
                .groupByKey()
                .count(Materialized.as("counts"));
        Properties properties = SubstrateFold.streamsProperties(config);
        properties.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
        properties.remove(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG);
        KafkaStreams streams = new KafkaStreams(builder.build(), properties);
        streams.start();
        return new CountBaseline(streams, applicationId);
    }

    /** Its application id: the consumer group whose committed offsets say how far it got. */
    public String applicationId() {
        return applicationId;
    }

    /** Where it is: starting, running or stopped. */
    public Phase phase() {
        return Phase.of(streams.state());
    }

    @Override
    public void close() {
        streams.close();
    }
}
