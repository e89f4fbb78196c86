package dev.substrate.topic;

import dev.substrate.config.SubstrateConfig;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The producer of Substrate's small topics of its own (tokens, webhook subscriptions and deliveries): {@code
 * acks=all}, idempotent, never transactional whatever the configuration says, with the configuration's other
 * Kafka client settings (security included).
 */
public final class TopicWriters {

    private TopicWriters() {}

    /** A producer of string keys and byte values, named {@code clientId}. */
    public static KafkaProducer<String, byte[]> idempotent(SubstrateConfig config, String clientId) {
        Map<String, Object> props = new HashMap<>(config.kafkaProperties(ProducerConfig.configNames()));
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.remove(ProducerConfig.TRANSACTIONAL_ID_CONFIG);
        props.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
        return new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer());
    }
}
