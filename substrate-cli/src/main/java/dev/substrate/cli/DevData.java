package dev.substrate.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The data directory of {@code substrate dev}: the broker's logs, the fold's state, the admin token and the cluster
 * secret, readable by its owner alone. The directory is {@code 0700} and every file in it {@code 0600} (every
 * directory {@code 0700}); files the broker makes later inherit no access, since nobody else can enter the
 * directory.
 */
final class DevData {

    /** The file, in the data directory, holding the {@code cluster.secret} of {@code dev}. */
    static final String CLUSTER_SECRET_FILE = "cluster.secret";

    private static final Set<PosixFilePermission> OWNER_DIR = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> OWNER_FILE = PosixFilePermissions.fromString("rw-------");

    private DevData() {}

    /** Creates {@code dataDir} if needed and makes it and everything in it its owner's alone. */
    static void ownerOnly(Path dataDir) throws IOException {
        Files.createDirectories(dataDir);
        if (!posix(dataDir)) {
            return;
        }
        Files.setPosixFilePermissions(dataDir, OWNER_DIR);
        try (Stream<Path> all = Files.walk(dataDir)) {
            all.forEach(path -> {
                try {
                    Files.setPosixFilePermissions(path, Files.isDirectory(path) ? OWNER_DIR : OWNER_FILE);
                } catch (FileSystemException e) {
                    // A file removed while the walk passed it (a broker log segment, say): nothing to protect.
                } catch (IOException e) {
                    throw new UncheckedIOException("Cannot make " + path + " its owner's alone", e);
                }
            });
        }
    }

    /**
     * The {@code cluster.secret} of this data directory: read from {@value #CLUSTER_SECRET_FILE}, or made (32 random
     * bytes, base64url) and written there owner-only on the first start.
     */
    static String clusterSecret(Path dataDir) throws IOException {
        Path file = dataDir.resolve(CLUSTER_SECRET_FILE);
        if (Files.exists(file)) {
            String secret = Files.readString(file).strip();
            if (secret.length() >= 16) {
                return secret;
            }
        }
        byte[] random = new byte[32];
        new SecureRandom().nextBytes(random);
        String secret = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
        Files.deleteIfExists(file);
        if (posix(dataDir)) {
            // Created owner-only, before the secret is in it.
            Files.createFile(file, PosixFilePermissions.asFileAttribute(OWNER_FILE));
        } else {
            Files.createFile(file);
        }
        Files.writeString(file, secret + System.lineSeparator());
        return secret;
    }

    private static boolean posix(Path path) throws IOException {
        return Files.getFileStore(path).supportsFileAttributeView("posix");
    }
}
