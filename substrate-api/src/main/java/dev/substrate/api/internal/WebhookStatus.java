package dev.substrate.api.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.topic.TopicFollower;
import dev.substrate.topic.Topics;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Each webhook subscription's delivery status, as every instance reads it from {@link Topics#webhookDeliveries()}
 * (whichever instance delivered): how many messages were delivered, dead-lettered and replayed, the last outcome, and
 * the latest dead letters ({@value #KEPT_DEAD_LETTERS}, with their bodies). Thread-safe.
 */
final class WebhookStatus implements AutoCloseable {

    /** How many dead letters of each subscription are shown. */
    static final int KEPT_DEAD_LETTERS = 20;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Map<String, Counts> counts = new ConcurrentHashMap<>();
    private final TopicFollower follower;

    WebhookStatus(SubstrateConfig config, Topics topics) {
        this.follower =
                TopicFollower.start(config, topics.webhookDeliveries().name(), "webhook deliveries", this::apply);
    }

    private static final class Counts {
        long delivered;
        long deadLettered;
        long replayed;
        JsonNode last;
        final Deque<JsonNode> deadLetters = new ArrayDeque<>();
    }

    private void apply(ConsumerRecord<byte[], byte[]> record) {
        JsonNode outcome;
        try {
            outcome = JSON.readTree(record.value());
        } catch (IOException e) {
            return;
        }
        Counts of = counts.computeIfAbsent(outcome.path("webhookId").asText(), id -> new Counts());
        synchronized (of) {
            if (outcome.path("outcome").asText().equals("delivered")) {
                of.delivered++;
            } else {
                of.deadLettered++;
                of.deadLetters.addLast(outcome);
                if (of.deadLetters.size() > KEPT_DEAD_LETTERS) {
                    of.deadLetters.removeFirst();
                }
            }
            if (outcome.path("replay").asBoolean()) {
                of.replayed++;
            }
            ObjectNode last = ((ObjectNode) outcome).deepCopy();
            last.remove("body");
            of.last = last;
        }
    }

    /** The status of subscription {@code id}: {@code delivered}, {@code deadLettered}, {@code replayed}, {@code last}. */
    ObjectNode of(String id, boolean withDeadLetters) {
        ObjectNode status = JsonNodeFactory.instance.objectNode();
        Counts of = counts.get(id);
        if (of == null) {
            status.put("delivered", 0).put("deadLettered", 0).put("replayed", 0).putNull("last");
            if (withDeadLetters) {
                status.putArray("deadLetters");
            }
            return status;
        }
        synchronized (of) {
            status.put("delivered", of.delivered);
            status.put("deadLettered", of.deadLettered);
            status.put("replayed", of.replayed);
            status.set("last", of.last);
            if (withDeadLetters) {
                status.putArray("deadLetters").addAll(of.deadLetters);
            }
        }
        return status;
    }

    @Override
    public void close() {
        follower.close();
    }
}
