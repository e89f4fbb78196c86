package dev.substrate.retention;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.topic.TopicFollower;
import dev.substrate.topic.Topics;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The retention policies as {@code <prefix>retention-policies} holds them, followed from the start of the topic by
 * every instance: the fold applies what it reads, the API lists and plans it. A record that is not a policy is
 * skipped with a warning; a tombstone removes its policy.
 */
public final class RetentionPolicyFollower implements Supplier<RetentionPolicies>, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(RetentionPolicyFollower.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String topic;
    private final Map<String, RetentionPolicy> policies = new ConcurrentHashMap<>();
    private final TopicFollower follower;
    private volatile RetentionPolicies current = RetentionPolicies.NONE;

    private RetentionPolicyFollower(SubstrateConfig config, Topics topics) {
        this.topic = topics.retentionPolicies().name();
        this.follower = TopicFollower.start(config, topic, "retention policies", this::apply);
    }

    /** Starts following {@code topics}' policy topic. */
    public static RetentionPolicyFollower start(SubstrateConfig config, Topics topics) {
        return new RetentionPolicyFollower(config, topics);
    }

    /** The policies read so far. */
    @Override
    public RetentionPolicies get() {
        return current;
    }

    /** The follower underneath, to wait until a write is read back. */
    public TopicFollower follower() {
        return follower;
    }

    private void apply(ConsumerRecord<byte[], byte[]> record) {
        String id = record.key() == null ? "" : new String(record.key(), StandardCharsets.UTF_8);
        if (record.value() == null) {
            policies.remove(id);
        } else {
            try {
                RetentionPolicy policy = RetentionPolicy.read(JSON.readTree(record.value()));
                if (!policy.id().equals(id)) {
                    throw new InvalidPolicy("id", "is " + policy.id() + " under the key " + id);
                }
                policies.put(id, policy);
            } catch (IOException | RuntimeException e) {
                log.warn(
                        "Skipped a record of {} at offset {}: not a retention policy ({})",
                        topic,
                        record.offset(),
                        e.toString());
                return;
            }
        }
        current = RetentionPolicies.of(policies.values());
    }

    @Override
    public void close() {
        follower.close();
    }
}
