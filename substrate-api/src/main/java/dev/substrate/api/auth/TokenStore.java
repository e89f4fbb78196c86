package dev.substrate.api.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.substrate.config.HttpSettings;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.event.EventValidator;
import dev.substrate.event.InvalidEvent;
import dev.substrate.topic.TopicFollower;
import dev.substrate.topic.TopicWriters;
import dev.substrate.topic.Topics;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP API's bearer tokens, kept in Kafka: one compacted topic ({@link Topics#tokens()}) holds each token's
 * id, salted SHA-256 hash, principal, roles, project patterns, creation time and creator; a revocation is a
 * tombstone. Every instance reads the whole topic at start and follows it, so a token revoked on one is refused by all
 * within moments, and a token minted on one is valid on all as soon as its mint returned (an instance shown an id it
 * does not know reads the topic's latest records before it answers); a token is shown once, to whoever minted it, and never leaves that process
 * otherwise. A token is {@value #PREFIX}, a 16-hex-digit id and 43 characters of 32 random bytes, so a fast hash
 * is enough; checking one looks its id up and compares hashes in constant time, an unknown id included. Tokens of
 * an earlier version's token file ({@link TokenFile}) are imported once, on start. The topic holds nothing an outside
 * reader of it could use: hashes, never tokens, and no key (instances sign forwarded requests with {@code
 * cluster.secret}; a key an earlier version kept here is deleted at start). Thread-safe.
 */
public final class TokenStore implements AutoCloseable {

    /** Every token starts with this, so that secret scanners and people recognise it. */
    public static final String PREFIX = "sbt_";

    private static final Logger log = LoggerFactory.getLogger(TokenStore.class);

    /** How long a request with a token id this instance does not know waits for the tokens topic's latest records. */
    private static final Duration MINTED_WAIT = Duration.ofSeconds(2);

    /** How many such requests wait at once; past them an unknown id is refused at once. */
    private static final int MINTED_WAITERS = 8;

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Duration WRITE_WAIT = Duration.ofSeconds(30);

    private static final String TOKEN_KEY = "token:";
    private static final String IMPORTED_KEY = "imported:";
    private static final String CLUSTER_KEY = "cluster-key:";
    private static final int ID_HEX = 16;
    private static final int SECRET_CHARS = 43;
    private static final int TOKEN_LENGTH = PREFIX.length() + ID_HEX + 1 + SECRET_CHARS;
    private static final int LEGACY_LENGTH = PREFIX.length() + SECRET_CHARS;

    /** Hashed against when a presented id is unknown, so that a miss costs what a hit does. */
    private static final byte[] DUMMY_SALT = new byte[16];

    private static final byte[] DUMMY_HASH = new byte[32];

    /**
     * One token as listed: everything but its secret.
     *
     * @param tokenId its id, the 16 hex digits after {@value #PREFIX}
     * @param principal who it acts as: name, roles, project patterns
     * @param createdAt when it was minted
     * @param createdBy the principal that minted it ({@code import} for one imported from a token file)
     */
    public record Token(String tokenId, Principal principal, Instant createdAt, String createdBy) {

        /**
         * The token as {@code GET /v1/tokens} lists it: {@code tokenId}, {@code principal}, {@code roles}, {@code
         * projects}, {@code createdAt}, {@code createdBy}.
         */
        public ObjectNode toJson() {
            ObjectNode node = JSON.createObjectNode();
            node.put("tokenId", tokenId);
            node.put("principal", principal.name());
            ArrayNode roles = node.putArray("roles");
            principal.roles().stream().map(Role::id).sorted().forEach(roles::add);
            ArrayNode projects = node.putArray("projects");
            principal.projects().forEach(projects::add);
            node.put("createdAt", createdAt.toString());
            node.put("createdBy", createdBy);
            return node;
        }
    }

    /**
     * A token just minted.
     *
     * @param token the bearer token: shown this once
     * @param info what {@link #list} shows of it
     */
    public record Minted(String token, Token info) {}

    private record Entry(Token token, byte[] salt, byte[] hash, boolean legacy) {}

    private final String topic;
    private final KafkaProducer<String, byte[]> producer;
    private final TopicFollower follower;
    private final Map<String, Entry> byId = new ConcurrentHashMap<>();
    private final Map<String, Entry> legacyByHash = new ConcurrentHashMap<>();
    private final Set<String> imported = ConcurrentHashMap.newKeySet();
    private final Set<String> revoked = ConcurrentHashMap.newKeySet();
    /** Requests waiting for the tokens topic's latest records at once ({@link #awaitMinted}). */
    private final Semaphore mintedWaiters = new Semaphore(MINTED_WAITERS);

    private final Set<String> oldClusterKeys = ConcurrentHashMap.newKeySet();
    private final List<Consumer<String>> revocationListeners = new CopyOnWriteArrayList<>();
    private final Path legacyFile;
    private final boolean server;
    private final Thread setup;
    private volatile String setupProblem = "importing the token file has not started";
    private volatile boolean setUp;

    private TokenStore(SubstrateConfig config, Topics topics, boolean server) {
        this.topic = topics.tokens().name();
        this.legacyFile = server ? config.get(HttpSettings.TOKENS_FILE) : null;
        this.server = server;
        this.producer = TopicWriters.idempotent(config, "substrate-tokens");
        this.follower = TopicFollower.start(config, topic, "tokens", this::apply);
        this.setup = new Thread(this::setUp, "substrate-tokens-setup");
        this.setup.setDaemon(true);
    }

    /**
     * Starts reading the tokens topic of {@code config}; in the background, once it is read, imports {@code
     * tokens.file} (once: a token imported before and revoked since stays revoked) and deletes the readable cluster
     * key an earlier version kept on the topic. Until then {@link #notReady} says why.
     */
    public static TokenStore start(SubstrateConfig config) {
        TokenStore store = new TokenStore(config, Topics.from(config), true);
        store.setup.start();
        return store;
    }

    /**
     * Reads the tokens topic of {@code config} to change it from outside a server ({@code substrate tokens
     * --bootstrap-servers}): no token file is imported.
     */
    public static TokenStore open(SubstrateConfig config) {
        TokenStore store = new TokenStore(config, Topics.from(config), false);
        store.setup.start();
        return store;
    }

    /** Why tokens cannot be checked yet (the topic is being read, or cannot be), or empty once they can. */
    public Optional<String> notReady() {
        Optional<String> reading = follower.notReady();
        if (reading.isPresent()) {
            return reading.map(reason -> "tokens: " + reason);
        }
        return setUp ? Optional.empty() : Optional.of("tokens: " + setupProblem);
    }

    /** Waits until tokens can be checked; false if they cannot by then. */
    public boolean awaitReady(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        if (!follower.awaitCaughtUp(timeout)) {
            return false;
        }
        while (!setUp && System.nanoTime() < deadline) {
            setup.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
        }
        return setUp;
    }

    private void setUp() {
        while (!setUp) {
            try {
                while (!follower.awaitCaughtUp(Duration.ofSeconds(1))) {
                    if (Thread.currentThread().isInterrupted()) {
                        return;
                    }
                }
                importLegacy();
                if (server) {
                    deleteOldClusterKeys();
                }
                setUp = true;
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                setupProblem = e.getMessage();
                log.warn("Cannot set up the tokens yet, trying again in 1 s: {}", e.toString());
                try {
                    // A bounded pause before trying brokers that refused again.
                    Thread.sleep(1000);
                } catch (InterruptedException interrupted) {
                    return;
                }
            }
        }
    }

    /** Imports each token of the legacy token file not imported before, keeping its hash, principal and roles. */
    private void importLegacy() {
        if (legacyFile == null || !Files.exists(legacyFile)) {
            return;
        }
        setupProblem = "importing " + legacyFile;
        int count = 0;
        for (TokenFile.Entry entry : new TokenFile(legacyFile).entries()) {
            String tokenId = legacyId(entry.sha256());
            if (imported.contains(tokenId)) {
                continue;
            }
            Token token = new Token(
                    tokenId,
                    entry.principal(),
                    entry.createdAt() == null ? Instant.now() : entry.createdAt(),
                    "import");
            if (!byId.containsKey(tokenId)) {
                write(
                        TOKEN_KEY + tokenId,
                        tokenRecord(token, new byte[0], HexFormat.of().parseHex(entry.sha256()), true));
            }
            ObjectNode marker = JSON.createObjectNode().put("v", 1).put("from", legacyFile.toString());
            write(IMPORTED_KEY + tokenId, bytes(marker));
            count++;
        }
        if (count > 0) {
            log.info("Imported {} token(s) of {} into {}", count, legacyFile, topic);
        }
    }

    /** The id an imported token gets: from its hash, so that importing twice makes one token. */
    private static String legacyId(String sha256Hex) {
        return HexFormat.of()
                .formatHex(sha256(new byte[0], ("import:" + sha256Hex).getBytes(StandardCharsets.UTF_8)))
                .substring(0, ID_HEX);
    }

    /**
     * Mints a token for {@code principal} with {@code roles}, limited to the {@code projects} patterns (none: every
     * project), and returns it once every instance can read it, with the token itself: the only time it is shown.
     *
     * @param createdBy the principal minting it
     * @throws IllegalArgumentException if the principal, roles or patterns are not valid
     * @throws TokensUnavailable if Kafka did not take it (a retry may help)
     */
    public Minted create(String principal, Set<Role> roles, List<String> projects, String createdBy) {
        EventValidator.principal("principal", principal);
        try {
            Principal.requireName(principal);
        } catch (IllegalArgumentException e) {
            throw new InvalidEvent("principal", e.getMessage());
        }
        if (roles.isEmpty()) {
            throw new IllegalArgumentException("a token needs at least one role");
        }
        Principal who = new Principal(principal, roles, projects);
        byte[] id = new byte[ID_HEX / 2];
        RANDOM.nextBytes(id);
        byte[] secret = new byte[32];
        RANDOM.nextBytes(secret);
        byte[] salt = new byte[16];
        RANDOM.nextBytes(salt);
        String tokenId = HexFormat.of().formatHex(id);
        String secretText = Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
        Token token = new Token(tokenId, who, Instant.now(), createdBy);
        byte[] hash = sha256(salt, secretText.getBytes(StandardCharsets.UTF_8));
        awaitApplied(write(TOKEN_KEY + tokenId, tokenRecord(token, salt, hash, false)));
        return new Minted(PREFIX + tokenId + "_" + secretText, token);
    }

    /** Every token, oldest first, without secrets. */
    public List<Token> list() {
        return byId.values().stream()
                .map(Entry::token)
                .sorted(Comparator.comparing(Token::createdAt).thenComparing(Token::tokenId))
                .toList();
    }

    /** The token with {@code tokenId}, if it exists. */
    public Optional<Token> find(String tokenId) {
        return Optional.ofNullable(byId.get(tokenId)).map(Entry::token);
    }

    /**
     * Revokes the token with {@code tokenId} (a tombstone), returning once this instance refuses it; false if there
     * is no such token.
     *
     * @throws TokensUnavailable if Kafka did not take it (a retry may help)
     */
    public boolean revoke(String tokenId) {
        if (!byId.containsKey(tokenId)) {
            return false;
        }
        awaitApplied(write(TOKEN_KEY + tokenId, null));
        return true;
    }

    /**
     * The principal a presented token stands for, if it is one of ours.
     *
     * @throws TokensUnavailable while the tokens are not read yet (a retry helps)
     */
    public Optional<Principal> authenticate(String token) {
        return authenticateToken(token).map(Token::principal);
    }

    /**
     * The token a presented bearer token is, if it is one of ours: its id and principal.
     *
     * @throws TokensUnavailable while the tokens are not read yet (a retry helps)
     */
    public Optional<Token> authenticateToken(String token) {
        notReady().ifPresent(reason -> {
            throw new TokensUnavailable(reason);
        });
        if (token == null || !token.startsWith(PREFIX)) {
            return Optional.empty();
        }
        if (token.length() == TOKEN_LENGTH && token.charAt(PREFIX.length() + ID_HEX) == '_') {
            String tokenId = token.substring(PREFIX.length(), PREFIX.length() + ID_HEX);
            Entry entry = byId.get(tokenId);
            if (entry == null) {
                entry = awaitMinted(tokenId);
            }
            boolean known = entry != null && !entry.legacy();
            // The same hashing whether or not the id is known: a guess of a secret learns nothing from the time it
            // takes. (An unknown id also waits for the topic's latest records: that tells only that the id is
            // unknown, and ids are not secrets: tokens are listed and revoked by them.)
            byte[] presented = sha256(
                    known ? entry.salt() : DUMMY_SALT,
                    token.substring(PREFIX.length() + ID_HEX + 1).getBytes(StandardCharsets.UTF_8));
            boolean equal = MessageDigest.isEqual(known ? entry.hash() : DUMMY_HASH, presented);
            return known && equal ? Optional.of(entry.token()) : Optional.empty();
        }
        if (token.length() == LEGACY_LENGTH) {
            byte[] presented = sha256(new byte[0], token.getBytes(StandardCharsets.UTF_8));
            // Looked up by the SHA-256 of the token, which a guesser cannot steer.
            Entry entry = legacyByHash.get(HexFormat.of().formatHex(presented));
            boolean equal = MessageDigest.isEqual(entry != null ? entry.hash() : DUMMY_HASH, presented);
            return entry != null && equal ? Optional.of(entry.token()) : Optional.empty();
        }
        return Optional.empty();
    }

    /**
     * A token id this instance does not know may have been minted a moment ago on another instance: waits (at most
     * {@link #MINTED_WAIT}, and only {@link #MINTED_WAITERS} requests at once; the others are answered at once) until
     * this instance has read the tokens topic as it is now, so that a token is valid on every instance as soon as its
     * mint returned. Null if it is still unknown (a 401 that a retry cannot change).
     */
    private Entry awaitMinted(String tokenId) {
        if (revoked.contains(tokenId) || !mintedWaiters.tryAcquire()) {
            return null;
        }
        try {
            follower.awaitLatest(MINTED_WAIT);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            mintedWaiters.release();
        }
        return byId.get(tokenId);
    }

    /** Whether the token with {@code tokenId} existed and was revoked (as far as this instance has read). */
    public boolean wasRevoked(String tokenId) {
        return revoked.contains(tokenId);
    }

    /**
     * Calls {@code listener} with the id of every token revoked from now on, once this instance refuses it: how open
     * streams of a revoked token are ended. Called on the thread that follows the topic; it must not block.
     */
    public void onRevoked(Consumer<String> listener) {
        revocationListeners.add(listener);
    }

    /**
     * Tombstones the cluster keys an earlier version wrote to the topic as readable records, so that compaction
     * removes them: whoever reads the topic must not learn a key instances trust.
     */
    private void deleteOldClusterKeys() {
        for (String key : List.copyOf(oldClusterKeys)) {
            write(key, null);
            oldClusterKeys.remove(key);
            log.info("Deleted the readable cluster key {} from {}; instances sign with cluster.secret", key, topic);
        }
    }

    private void apply(ConsumerRecord<byte[], byte[]> record) {
        String key = new String(record.key(), StandardCharsets.UTF_8);
        if (key.startsWith(TOKEN_KEY)) {
            String tokenId = key.substring(TOKEN_KEY.length());
            Entry old = record.value() == null ? byId.remove(tokenId) : null;
            if (old != null && old.legacy()) {
                legacyByHash.remove(HexFormat.of().formatHex(old.hash()));
            }
            if (old != null) {
                revoked.add(tokenId);
                for (Consumer<String> listener : revocationListeners) {
                    try {
                        listener.accept(tokenId);
                    } catch (RuntimeException e) {
                        log.warn("A listener to the revocation of token {} failed", tokenId, e);
                    }
                }
            }
            if (record.value() != null) {
                Entry entry = parse(tokenId, record.value());
                byId.put(tokenId, entry);
                if (entry.legacy()) {
                    legacyByHash.put(HexFormat.of().formatHex(entry.hash()), entry);
                }
            }
        } else if (key.startsWith(IMPORTED_KEY)) {
            imported.add(key.substring(IMPORTED_KEY.length()));
        } else if (key.startsWith(CLUSTER_KEY)) {
            // Written by an earlier version: never trusted, deleted at set-up.
            if (record.value() != null) {
                oldClusterKeys.add(key);
            } else {
                oldClusterKeys.remove(key);
            }
        } else {
            throw new IllegalArgumentException("a key Substrate does not write: " + key);
        }
    }

    private static Entry parse(String tokenId, byte[] value) {
        JsonNode node = read(value);
        Set<Role> roles = EnumSet.noneOf(Role.class);
        node.withArray("roles").forEach(role -> roles.add(Role.of(role.asText())));
        List<String> projects = new ArrayList<>();
        node.withArray("projects").forEach(project -> projects.add(project.asText()));
        byte[] hash = HexFormat.of().parseHex(node.path("sha256").asText());
        if (hash.length != 32) {
            throw new IllegalArgumentException("token " + tokenId + " has no SHA-256");
        }
        Token token = new Token(
                tokenId,
                new Principal(node.path("principal").asText(), roles, projects),
                Instant.parse(node.path("createdAt").asText()),
                node.path("createdBy").asText());
        return new Entry(
                token,
                HexFormat.of().parseHex(node.path("salt").asText()),
                hash,
                node.path("legacy").asBoolean());
    }

    private static byte[] tokenRecord(Token token, byte[] salt, byte[] hash, boolean legacy) {
        ObjectNode node = token.toJson();
        node.put("v", 1);
        node.put("salt", HexFormat.of().formatHex(salt));
        node.put("sha256", HexFormat.of().formatHex(hash));
        node.put("legacy", legacy);
        return bytes(node);
    }

    private RecordMetadata write(String key, byte[] value) {
        try {
            return producer.send(new ProducerRecord<>(topic, key, value))
                    .get(WRITE_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TokensUnavailable("interrupted while writing to " + topic);
        } catch (ExecutionException | TimeoutException e) {
            Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
            throw new TokensUnavailable("Kafka did not take the write to " + topic + ": " + cause);
        }
    }

    private void awaitApplied(RecordMetadata written) {
        try {
            if (!follower.awaitApplied(written.partition(), written.offset(), WRITE_WAIT)) {
                throw new TokensUnavailable("the change was written to " + topic + " but not read back within "
                        + WRITE_WAIT.toSeconds() + " s; it takes effect once it is");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TokensUnavailable("interrupted while reading back " + topic);
        }
    }

    private static JsonNode read(byte[] value) {
        try {
            return JSON.readTree(value);
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("not JSON: " + e.getMessage(), e);
        }
    }

    private static byte[] bytes(JsonNode node) {
        return node.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] sha256(byte[] salt, byte[] secret) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            digest.update(salt);
            return digest.digest(secret);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    /** Stops following the topic. */
    @Override
    public void close() {
        setup.interrupt();
        follower.close();
        producer.close(Duration.ofSeconds(5));
    }
}
