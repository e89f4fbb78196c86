package dev.substrate.api.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.substrate.api.auth.Principal;
import dev.substrate.api.auth.Role;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.topic.TopicFollower;
import dev.substrate.topic.TopicWriters;
import dev.substrate.topic.Topics;
import dev.substrate.webhook.WebhookEvents;
import dev.substrate.webhook.WebhookSignature;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The webhook subscriptions, kept in Kafka as the tokens are: a compacted topic ({@link Topics#webhooks()}) holds
 * each one's id, URL, events, projects, creator and time, and its signing secret encrypted (AES-GCM) under a key
 * derived from {@code cluster.secret}, so the topic gives an outside reader nothing to sign with; a deletion is a
 * tombstone. Every instance reads the topic and follows it, and a change is read back before it is answered, so it
 * holds on every instance as soon as it returns. The secret is shown once, to whoever subscribed. Thread-safe.
 */
final class WebhookSubscriptions implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(WebhookSubscriptions.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SecureRandom RANDOM = new SecureRandom();

    /** What a subscription may ask to be told of. */
    static final Set<String> EVENTS = Set.copyOf(WebhookEvents.ALL);

    /** The most subscriptions an application holds. */
    static final int MAX_SUBSCRIPTIONS = 1_000;

    /** A subscription: where to deliver which notifications of which projects, and the secret they are signed with. */
    record Subscription(
            String id,
            String url,
            List<String> events,
            List<String> projects,
            String createdBy,
            Instant createdAt,
            byte[] secret) {

        /** Whether a notification of {@code type} about an entity of {@code project} is for this subscription. */
        boolean wants(String type, String project) {
            return events.contains(type) && reach().reaches(project);
        }

        /** The projects as a principal's scope: none reaches every project. */
        Principal reach() {
            return new Principal("webhook:" + id, Set.of(Role.OBSERVER), projects);
        }

        /** The secret as Standard Webhooks writes it: {@code whsec_} and its base64. */
        String signingSecret() {
            return WebhookSignature.secretText(secret);
        }

        /** What the API shows of it: everything but the secret. */
        ObjectNode toJson() {
            ObjectNode node = JsonNodeFactory.instance.objectNode();
            node.put("webhookId", id);
            node.put("url", url);
            ArrayNode eventList = node.putArray("events");
            events.forEach(eventList::add);
            ArrayNode projectList = node.putArray("projects");
            projects.forEach(projectList::add);
            node.put("createdBy", createdBy);
            node.put("createdAt", createdAt.toString());
            return node;
        }
    }

    private final String topic;
    private final Cluster cluster;
    private final KafkaProducer<String, byte[]> producer;
    private final TopicFollower follower;
    private final Map<String, Subscription> subscriptions = new ConcurrentHashMap<>();

    WebhookSubscriptions(SubstrateConfig config, Topics topics, Cluster cluster) {
        this.topic = topics.webhooks().name();
        this.cluster = cluster;
        this.producer = TopicWriters.idempotent(config, "substrate-webhooks");
        this.follower = TopicFollower.start(config, topic, "webhook subscriptions", this::apply);
    }

    /** Why subscriptions cannot be read yet, or empty once they can. */
    Optional<String> notReady() {
        return follower.notReady().map(reason -> "webhook subscriptions: " + reason);
    }

    /** Every subscription. */
    Collection<Subscription> all() {
        return List.copyOf(subscriptions.values());
    }

    /** The subscription {@code id}, if there is one. */
    Optional<Subscription> find(String id) {
        return Optional.ofNullable(subscriptions.get(id));
    }

    /**
     * Subscribes {@code url} to {@code events} of {@code projects} (none: every project), in {@code createdBy}'s
     * name, with a new secret; once every instance would read it.
     */
    Subscription create(String url, List<String> events, List<String> projects, String createdBy) {
        if (!cluster.keyShared()) {
            throw Problem.ofStatus(
                    409,
                    "Webhooks need cluster.secret",
                    "a subscription's signing secret is kept in Kafka encrypted under a key derived from"
                            + " cluster.secret, which this instance does not have (it would be lost with this"
                            + " process); set cluster.secret (substrate dev sets one) and subscribe again");
        }
        if (subscriptions.size() >= MAX_SUBSCRIPTIONS) {
            throw Problem.ofStatus(
                    409,
                    "Too many webhook subscriptions",
                    "this application holds " + MAX_SUBSCRIPTIONS + " subscriptions already; delete one first");
        }
        byte[] secret = new byte[32];
        RANDOM.nextBytes(secret);
        Subscription subscription = new Subscription(
                "wh-" + Long.toHexString(RANDOM.nextLong() & Long.MAX_VALUE),
                url,
                List.copyOf(events),
                List.copyOf(projects),
                createdBy,
                Instant.now(),
                secret);
        ObjectNode record = subscription.toJson();
        record.put("v", 1);
        record.put("secret", seal(subscription.id(), secret));
        awaitApplied(write(subscription.id(), record.toString().getBytes(StandardCharsets.UTF_8)));
        return subscription;
    }

    /** Deletes subscription {@code id}; false when there is none. */
    boolean delete(String id) {
        if (!subscriptions.containsKey(id)) {
            return false;
        }
        awaitApplied(write(id, null));
        return true;
    }

    private void apply(ConsumerRecord<byte[], byte[]> record) {
        String id = new String(record.key(), StandardCharsets.UTF_8);
        if (record.value() == null) {
            subscriptions.remove(id);
            return;
        }
        JsonNode node;
        try {
            node = JSON.readTree(record.value());
        } catch (IOException e) {
            log.warn("Skipped webhook subscription {}: not JSON ({})", id, e.getMessage());
            return;
        }
        byte[] secret;
        try {
            secret = open(id, node.path("secret").asText());
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            log.warn(
                    "Skipped webhook subscription {}: its secret cannot be read with this cluster.secret ({}); a"
                            + " subscription made under another cluster.secret is subscribed again",
                    id,
                    e.toString());
            subscriptions.remove(id);
            return;
        }
        List<String> events = new ArrayList<>();
        node.path("events").forEach(event -> events.add(event.asText()));
        List<String> projects = new ArrayList<>();
        node.path("projects").forEach(project -> projects.add(project.asText()));
        subscriptions.put(
                id,
                new Subscription(
                        id,
                        node.path("url").asText(),
                        List.copyOf(events),
                        List.copyOf(projects),
                        node.path("createdBy").asText(),
                        Instant.parse(node.path("createdAt").asText()),
                        secret));
    }

    /** {@code secret} encrypted under the application's key for webhook secrets, bound to the subscription id. */
    private String seal(String id, byte[] secret) {
        try {
            byte[] iv = new byte[12];
            RANDOM.nextBytes(iv);
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.ENCRYPT_MODE, key(), new GCMParameterSpec(128, iv));
            cipher.updateAAD(id.getBytes(StandardCharsets.UTF_8));
            byte[] sealed = cipher.doFinal(secret);
            byte[] out = new byte[iv.length + sealed.length];
            System.arraycopy(iv, 0, out, 0, iv.length);
            System.arraycopy(sealed, 0, out, iv.length, sealed.length);
            return "v1:" + Base64.getEncoder().encodeToString(out);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is missing from this JVM", e);
        }
    }

    private byte[] open(String id, String sealed) throws GeneralSecurityException {
        if (!sealed.startsWith("v1:")) {
            throw new IllegalArgumentException("not a sealed secret");
        }
        byte[] bytes = Base64.getDecoder().decode(sealed.substring(3));
        Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
        cipher.init(Cipher.DECRYPT_MODE, key(), new GCMParameterSpec(128, bytes, 0, 12));
        cipher.updateAAD(id.getBytes(StandardCharsets.UTF_8));
        return cipher.doFinal(bytes, 12, bytes.length - 12);
    }

    private SecretKeySpec key() {
        return new SecretKeySpec(cluster.mac("webhook-secrets", new byte[0]), "AES");
    }

    private RecordMetadata write(String key, byte[] value) {
        return SmallTopicWrites.write(producer, topic, key, value);
    }

    private void awaitApplied(RecordMetadata written) {
        SmallTopicWrites.awaitApplied(follower, topic, written);
    }

    @Override
    public void close() {
        follower.close();
        producer.close(Duration.ofSeconds(5));
    }
}
