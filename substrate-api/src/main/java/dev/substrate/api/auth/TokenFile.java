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
import java.util.Set;

/**
 * The token file of earlier versions ({@code tokens.file}, {@code <data-dir>/tokens.json}): SHA-256 hashes of
 * tokens, never the tokens. {@link TokenStore} imports it once, on start, into the tokens topic, so an upgrade
 * loses no token. {@link #create} writes a token the way those versions did (to prepare a file, and to test the
 * upgrade). Thread-safe.
 */
public final class TokenFile {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path file;

    /**
     * One token of the file.
     *
     * @param sha256 the SHA-256 of the token, as hex
     * @param principal who it stands for
     * @param createdAt when it was made, if the file says
     */
    public record Entry(String sha256, Principal principal, Instant createdAt) {}

    /** The tokens in {@code file} (created, with owner-only permissions, on the first token). */
    public TokenFile(Path file) {
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
        String token =
                TokenStore.PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
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

    /** Every token in the file (none when there is no file). */
    public synchronized List<Entry> entries() {
        List<Entry> loaded = new ArrayList<>();
        for (JsonNode token : read().withArray("tokens")) {
            Set<Role> roles = EnumSet.noneOf(Role.class);
            token.withArray("roles").forEach(role -> roles.add(Role.of(role.asText())));
            String sha256 = token.path("sha256").asText();
            if (!sha256.matches("[0-9a-f]{64}")) {
                throw new IllegalStateException("the token file " + file + " holds a token without its sha256");
            }
            JsonNode createdAt = token.get("createdAt");
            loaded.add(new Entry(
                    sha256,
                    new Principal(token.path("principal").asText(), roles),
                    createdAt == null ? null : Instant.parse(createdAt.asText())));
        }
        return List.copyOf(loaded);
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
