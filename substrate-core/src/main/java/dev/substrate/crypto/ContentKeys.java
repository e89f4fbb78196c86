package dev.substrate.crypto;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.substrate.config.EncryptionSettings;
import dev.substrate.config.InvalidConfiguration;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.entity.ProjectPattern;
import dev.substrate.topic.TopicFollower;
import dev.substrate.topic.TopicWriters;
import dev.substrate.topic.Topics;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The content keys of encrypted rooms: one or more random AES-256 keys per subject ({@code room:<roomId>}), each
 * kept on {@code <prefix>keys} wrapped by the current master key ({@code encryption.master.key.file}), and followed by
 * every instance. {@link #seal} encrypts a room's text under its key (creating one, written and read back, the first
 * time); {@link #open} decrypts what the subject's keys sealed; {@link #destroy} writes a tombstone for each of a
 * subject's keys, so that compaction removes them (within {@code erasure.bound.ms}) and what they sealed, wherever it
 * is copied, can no longer be read.
 *
 * <p>A sealed text is {@code \u0001e1.<keyId>.<base64url(nonce, ciphertext, tag)>\u0001}, AES-GCM bound to the subject
 * (a token copied into another room does not open there). Several sealed texts in a row (a block's deltas, as the
 * fold joins them) open one by one.
 */
public final class ContentKeys implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ContentKeys.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What begins and ends a sealed text. */
    static final char MARK = '\u0001';

    private static final String PREFIX = MARK + "e1.";

    /** The longest wait for Kafka to take a new key, and again for it to be read back. */
    private static final Duration WAIT = Duration.ofSeconds(10);

    /** The longest wait for the keys topic to be read to its end when a sealed text names a key not known here. */
    private static final Duration CATCH_UP = Duration.ofSeconds(2);

    /** A key, the subject it seals for and the project that subject belonged to when it was made (null: not said). */
    private record Key(String subject, String project, SecretKey key) {}

    private final List<String> projects;
    private final MasterKeys masters;
    private final String topic;
    private final KafkaProducer<String, byte[]> producer;
    private final TopicFollower follower;
    private final Map<String, Key> byId = new ConcurrentHashMap<>();
    private final Map<String, Set<String>> bySubject = new ConcurrentHashMap<>();
    /** The ids of the keys wrapped by the current master key, as read. */
    private final Set<String> current = ConcurrentHashMap.newKeySet();

    private ContentKeys(SubstrateConfig config, Topics topics, List<String> projects, MasterKeys masters) {
        this.projects = projects;
        this.masters = masters;
        this.topic = topics.keys().name();
        this.producer = TopicWriters.idempotent(config, "substrate-keys");
        this.follower = TopicFollower.start(config, topic, "content keys", this::apply);
    }

    /**
     * The keys of {@code config}'s encrypted projects, following {@code topics}' key topic; empty when {@code
     * encryption.projects} names none. Refuses a configuration that names projects without a master key file.
     */
    public static Optional<ContentKeys> start(SubstrateConfig config, Topics topics) {
        List<String> projects = config.get(EncryptionSettings.PROJECTS);
        if (projects.isEmpty()) {
            return Optional.empty();
        }
        String file = config.get(EncryptionSettings.MASTER_KEY_FILE);
        if (file.isBlank()) {
            throw new InvalidConfiguration(
                    EncryptionSettings.MASTER_KEY_FILE.key(),
                    "encryption.projects names projects to encrypt but encryption.master.key.file names no key file",
                    null);
        }
        MasterKeys masters = MasterKeys.read(EncryptionSettings.MASTER_KEY_FILE.key(), Path.of(file));
        return Optional.of(new ContentKeys(config, topics, projects, masters));
    }

    /** Whether the content of {@code project}'s rooms is sealed. */
    public boolean covers(String project) {
        return project != null && projects.stream().anyMatch(pattern -> ProjectPattern.matches(pattern, project));
    }

    /** The subject of a room's key. */
    public static String room(String roomId) {
        return "room:" + roomId;
    }

    /**
     * {@code plain} sealed under {@code subject}'s key (made, written and read back the first time, recording {@code
     * project}, the room's, so that erasing the project finds it); null stays null.
     */
    public String seal(String subject, String project, String plain) {
        if (plain == null) {
            return null;
        }
        String keyId = keyOf(subject, project);
        byte[] sealed = MasterKeys.seal(byId.get(keyId).key(), plain.getBytes(StandardCharsets.UTF_8), aad(subject));
        return PREFIX + keyId + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(sealed) + MARK;
    }

    /** Makes {@code subject}'s key now (of {@code project}), unless it has one: written and read back. */
    public void prepare(String subject, String project) {
        keyOf(subject, project);
    }

    /** {@code plain} bytes sealed under {@code subject}'s key as they are read ({@link SealedContent}). */
    public InputStream sealBytes(String subject, String project, InputStream plain) {
        String keyId = keyOf(subject, project);
        return SealedContent.seal(plain, keyId, byId.get(keyId).key(), subject);
    }

    /**
     * The plain bytes {@code first} to {@code last} of content sealed for {@code subject}: {@code header} is its first
     * {@link SealedContent#HEADER} bytes, {@code sealedFrom} its bytes from {@link SealedContent#sealedStart} of
     * {@code first} on, {@code sealedSize} its stored length.
     *
     * @throws ContentErased when the key it was sealed under is gone (or is another room's)
     */
    public InputStream openBytes(
            String subject, byte[] header, InputStream sealedFrom, long sealedSize, long first, long last) {
        String keyId = SealedContent.keyId(header);
        Key key = byId.get(keyId);
        if (key == null) {
            catchUp();
            key = byId.get(keyId);
        }
        if (key == null || !key.subject().equals(subject)) {
            throw new ContentErased("the key " + keyId + " this content was sealed under is not " + subject + "'s");
        }
        return SealedContent.open(sealedFrom, key.key(), subject, sealedSize, first, last);
    }

    /**
     * {@code text} with every sealed part that {@code subject}'s keys sealed opened; a part whose key is gone (erased)
     * opens as nothing; text that is not sealed is returned as it is.
     */
    public String open(String subject, String text) {
        if (text == null || text.indexOf(MARK) < 0) {
            return text;
        }
        StringBuilder out = new StringBuilder(text.length());
        int at = 0;
        while (at < text.length()) {
            int start = text.indexOf(PREFIX, at);
            int end = start < 0 ? -1 : text.indexOf(MARK, start + PREFIX.length());
            if (start < 0 || end < 0) {
                out.append(text, at, text.length());
                break;
            }
            out.append(text, at, start);
            String token = text.substring(start + PREFIX.length(), end);
            int dot = token.indexOf('.');
            String opened = dot < 0 ? null : open(subject, token.substring(0, dot), token.substring(dot + 1));
            out.append(opened == null ? text.substring(start, end + 1) : opened);
            at = end + 1;
        }
        return out.toString();
    }

    private String open(String subject, String keyId, String sealed) {
        Key key = byId.get(keyId);
        if (key == null) {
            catchUp();
            key = byId.get(keyId);
        }
        if (key == null) {
            // Not on the keys topic, read to its end: erased (or never one of ours).
            return "";
        }
        if (!key.subject().equals(subject)) {
            return null;
        }
        try {
            return new String(
                    MasterKeys.open(key.key(), Base64.getUrlDecoder().decode(sealed), aad(subject)),
                    StandardCharsets.UTF_8);
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return null;
        }
    }

    /**
     * Destroys every key of {@code subject}: a tombstone each, written and read back here; the ids destroyed (none
     * when it had no key).
     */
    public List<String> destroy(String subject) {
        catchUp();
        List<String> destroyed = new ArrayList<>();
        RecordMetadata last = null;
        for (String keyId : List.copyOf(bySubject.getOrDefault(subject, Set.of()))) {
            last = write(subject + "/" + keyId, null);
            destroyed.add(keyId);
        }
        if (last != null) {
            awaitRead(last);
        }
        return destroyed;
    }

    /** The rooms of {@code project} that have a key, by id: what erasing the project erases. */
    public List<String> roomsOf(String project) {
        catchUp();
        return byId.values().stream()
                .filter(key -> project.equals(key.project()) && key.subject().startsWith("room:"))
                .map(key -> key.subject().substring("room:".length()))
                .distinct()
                .sorted()
                .toList();
    }

    /** Whether {@code subject} has a key here. */
    public boolean has(String subject) {
        return !bySubject.getOrDefault(subject, Set.of()).isEmpty();
    }

    /**
     * Writes again, wrapped by the current master key, every key an older master key wrapped: after it, the older key's
     * line may leave the key file. Returns how many were rewrapped.
     */
    public int rewrap() {
        catchUp();
        int rewrapped = 0;
        RecordMetadata last = null;
        for (Map.Entry<String, Key> entry : Map.copyOf(byId).entrySet()) {
            String keyId = entry.getKey();
            Key key = entry.getValue();
            if (!current.contains(keyId)) {
                last = write(
                        key.subject() + "/" + keyId,
                        record(key.subject(), key.project(), keyId, key.key().getEncoded()));
                rewrapped++;
            }
        }
        if (last != null) {
            awaitRead(last);
        }
        return rewrapped;
    }

    private String keyOf(String subject, String project) {
        Set<String> known = bySubject.get(subject);
        if (known != null && !known.isEmpty()) {
            return known.iterator().next();
        }
        return newKey(subject, project);
    }

    /** Makes, writes and reads back a key for {@code subject}, unless another thread of this instance just did. */
    private synchronized String newKey(String subject, String project) {
        Set<String> known = bySubject.get(subject);
        if (known != null && !known.isEmpty()) {
            return known.iterator().next();
        }
        String keyId = HexFormat.of().formatHex(MasterKeys.newKey(), 0, 8);
        byte[] key = MasterKeys.newKey();
        awaitRead(write(subject + "/" + keyId, record(subject, project, keyId, key)));
        if (!byId.containsKey(keyId)) {
            throw new KeysUnavailable("the new key of " + subject + " was written but not read back");
        }
        return keyId;
    }

    private byte[] record(String subject, String project, String keyId, byte[] key) {
        ObjectNode value = JsonNodeFactory.instance.objectNode();
        if (project != null) {
            value.put("project", project);
        }
        value.put("master", masters.current());
        value.put("wrapped", Base64.getEncoder().encodeToString(masters.wrap(key, subject, keyId)));
        value.put("createdAt", Instant.now().toString());
        return value.toString().getBytes(StandardCharsets.UTF_8);
    }

    private RecordMetadata write(String recordKey, byte[] value) {
        try {
            return producer.send(new ProducerRecord<>(topic, recordKey, value))
                    .get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KeysUnavailable("interrupted while writing to " + topic);
        } catch (ExecutionException | TimeoutException e) {
            throw new KeysUnavailable("Kafka did not take the write to " + topic + ": " + e);
        }
    }

    private void awaitRead(RecordMetadata written) {
        try {
            if (!follower.awaitApplied(written.partition(), written.offset(), WAIT)) {
                throw new KeysUnavailable(topic + " was written but not read back within " + WAIT.toSeconds() + " s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KeysUnavailable("interrupted while reading back " + topic);
        }
    }

    private void catchUp() {
        try {
            follower.awaitLatest(CATCH_UP);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void apply(ConsumerRecord<byte[], byte[]> record) {
        String recordKey = record.key() == null ? "" : new String(record.key(), StandardCharsets.UTF_8);
        int slash = recordKey.lastIndexOf('/');
        if (slash <= 0) {
            return;
        }
        String subject = recordKey.substring(0, slash);
        String keyId = recordKey.substring(slash + 1);
        if (record.value() == null) {
            byId.remove(keyId);
            current.remove(keyId);
            bySubject.computeIfPresent(subject, (s, ids) -> {
                ids.remove(keyId);
                return ids.isEmpty() ? null : ids;
            });
            return;
        }
        try {
            JsonNode value = JSON.readTree(record.value());
            String master = value.path("master").asText();
            byte[] key = masters.unwrap(
                    master, Base64.getDecoder().decode(value.path("wrapped").asText()), subject, keyId);
            byId.put(keyId, new Key(subject, value.path("project").asText(null), new SecretKeySpec(key, "AES")));
            if (master.equals(masters.current())) {
                current.add(keyId);
            } else {
                current.remove(keyId);
            }
            bySubject
                    .computeIfAbsent(subject, s -> ConcurrentHashMap.newKeySet())
                    .add(keyId);
        } catch (Exception e) {
            log.warn(
                    "Skipped the key record {} of {} at offset {}: {}",
                    recordKey,
                    topic,
                    record.offset(),
                    e.toString());
        }
    }

    private static byte[] aad(String subject) {
        return ("substrate-content\0" + subject).getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        producer.close();
        follower.close();
    }

    /** Content sealed under a key that is gone (erased): it can never be opened again. */
    public static final class ContentErased extends dev.substrate.SubstrateException {
        private static final long serialVersionUID = 1L;

        ContentErased(String message) {
            super(message);
        }

        @Override
        public boolean isRetriable() {
            return false;
        }
    }

    /** The keys topic could not be written or read in time: retrying can help. */
    public static final class KeysUnavailable extends dev.substrate.SubstrateException {
        private static final long serialVersionUID = 1L;

        KeysUnavailable(String message) {
            super(message);
        }

        @Override
        public boolean isRetriable() {
            return true;
        }
    }
}
