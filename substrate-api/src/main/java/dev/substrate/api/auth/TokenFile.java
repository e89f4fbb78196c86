package dev.substrate.api.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.substrate.event.EventValidator;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Bearer tokens, kept in a JSON file as SHA-256 hashes only: a token is shown once, when it is created, and
 * cannot be read back from the file. A token is 32 random bytes (so a fast hash is enough); checking one
 * compares hashes in constant time. The file is re-read when it changes, so tokens created by {@code substrate
 * tokens create} reach a running server. Thread-safe.
 */
public final class TokenStore {

    /** Every token starts with this, so that secret scanners and people recognise it. */
    public static final String PREFIX = "sbt_";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path file;
    private List<Entry> entries = List.of();
    private byte[] clusterKey;
    private long loadedModified = -1;

    private record Entry(byte[] hash, Principal principal) {}

    /** The tokens in {@code file} (created, with owner-only permissions, on the first token). */
    public TokenStore(Path file) {
        this.file = file;
    }

    /** Where the tokens are kept. */
    public Path file() {
        return file;
    }

    /**
     * Creates a token for {@code principal} with {@code roles}, saves its hash, and returns the token: the only
     * time it is shown.
     */
    public synchronized String create(String principal, Set<Role> roles) {
        EventValidator.principal("principal", principal);
        if (roles.isEmpty()) {
            throw new IllegalArgumentException("a token needs at least one role");
        }
        byte[] secret = new byte[32];
        RANDOM.nextBytes(secret);
        String token = PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
        ObjectNode root = read();
        ArrayNode tokens = root.withArray("tokens");
        ObjectNode entry = tokens.addObject();
        entry.put("principal", principal);
        ArrayNode roleNames = entry.putArray("roles");
        roles.forEach(role -> roleNames.add(role.id()));
        entry.put("sha256", HexFormat.of().formatHex(sha256(token)));
        entry.put("createdAt", Instant.now().toString());
        write(root);
        return token;
    }

    /** The principal a presented token stands for, if it is one of ours. */
    public synchronized Optional<Principal> authenticate(String token) {
        if (token == null || !token.startsWith(PREFIX)) {
            return Optional.empty();
        }
        reloadIfChanged();
        byte[] presented = sha256(token);
        Principal found = null;
        for (Entry entry : entries) {
            // Compare with every entry, in constant time each, whatever matched before.
            if (MessageDigest.isEqual(entry.hash(), presented)) {
                found = entry.principal();
            }
        }
        return Optional.ofNullable(found);
    }

    /**
     * The key the instances sharing this token file sign the requests they forward to each other with (when no
     * {@code cluster.secret} is set): 32 random bytes, created on first use and kept in the file beside the token
     * hashes, which only its owner can read.
     */
    public synchronized byte[] clusterKey() {
        reloadIfChanged();
        if (clusterKey == null) {
            ObjectNode root = read();
            if (!root.hasNonNull("clusterKey")) {
                byte[] key = new byte[32];
                RANDOM.nextBytes(key);
                root.put("clusterKey", Base64.getEncoder().encodeToString(key));
                write(root);
            }
            reloadIfChanged();
        }
        return clusterKey.clone();
    }

    /** Whether any token exists. */
    public synchronized boolean isEmpty() {
        reloadIfChanged();
        return entries.isEmpty();
    }

    private void reloadIfChanged() {
        try {
            long modified = Files.exists(file) ? Files.getLastModifiedTime(file).toMillis() + Files.size(file) : 0;
            if (modified == loadedModified) {
                return;
            }
            List<Entry> loaded = new ArrayList<>();
            ObjectNode root = read();
            for (JsonNode token : root.withArray("tokens")) {
                Set<Role> roles = EnumSet.noneOf(Role.class);
                token.withArray("roles").forEach(role -> roles.add(Role.of(role.asText())));
                loaded.add(new Entry(
                        HexFormat.of().parseHex(token.get("sha256").asText()),
                        new Principal(token.get("principal").asText(), roles)));
            }
            entries = List.copyOf(loaded);
            JsonNode key = root.get("clusterKey");
            clusterKey =
                    key == null || key.isNull() ? null : Base64.getDecoder().decode(key.asText());
            loadedModified = modified;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read the token file " + file, e);
        }
    }

    private ObjectNode read() {
        try {
            if (!Files.exists(file)) {
                return JSON.createObjectNode();
            }
            JsonNode root = JSON.readTree(Files.readString(file, StandardCharsets.UTF_8));
            if (root == null || !root.isObject()) {
                throw new IllegalStateException("The token file " + file + " is not a JSON object");
            }
            return (ObjectNode) root;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read the token file " + file, e);
        }
    }

    private void write(ObjectNode root) {
        try {
            Path dir = file.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            Path temp = Files.createTempFile(dir, ".tokens", ".tmp");
            ownerOnly(temp);
            Files.writeString(temp, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root));
            try {
                Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING);
            }
            loadedModified = -1;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write the token file " + file, e);
        }
    }

    /** Makes a file readable and writable by its owner only, where the file system has POSIX permissions. */
    static void ownerOnly(Path path) throws IOException {
        try {
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException e) {
            // Not a POSIX file system: its own access rules apply.
        }
    }

    private static byte[] sha256(String token) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
