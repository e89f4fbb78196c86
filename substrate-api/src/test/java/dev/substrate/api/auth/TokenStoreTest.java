package dev.substrate.api.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenStoreTest {

    @TempDir
    Path dir;

    @Test
    void aCreatedTokenAuthenticatesAsItsPrincipalWithItsRoles() {
        TokenStore store = new TokenStore(dir.resolve("tokens.json"));

        String token = store.create("svc:runner", Set.of(Role.SERVICE, Role.OBSERVER));

        assertThat(token).startsWith(TokenStore.PREFIX).hasSizeGreaterThan(40);
        assertThat(store.authenticate(token)).hasValueSatisfying(principal -> {
            assertThat(principal.name()).isEqualTo("svc:runner");
            assertThat(principal.roles()).containsExactlyInAnyOrder(Role.SERVICE, Role.OBSERVER);
        });
    }

    @Test
    void refusesUnknownAlteredAndMissingTokens() {
        TokenStore store = new TokenStore(dir.resolve("tokens.json"));
        String token = store.create("alice", Set.of(Role.ADMIN));

        // Change the last character to another one (a fixed replacement equals it one time in 64).
        char last = token.charAt(token.length() - 1);
        String altered = token.substring(0, token.length() - 1) + (last == 'A' ? 'B' : 'A');
        assertThat(store.authenticate(altered)).isEmpty();
        assertThat(store.authenticate("sbt_unknown")).isEmpty();
        assertThat(store.authenticate("")).isEmpty();
        assertThat(store.authenticate(null)).isEmpty();
    }

    @Test
    void keepsOnlyHashesInAFileOnlyItsOwnerCanRead() throws Exception {
        Path file = dir.resolve("tokens.json");
        String token = new TokenStore(file).create("alice", Set.of(Role.ADMIN));

        assertThat(Files.readString(file)).contains("alice").contains("sha256").doesNotContain(token);
        assertThat(Files.getPosixFilePermissions(file))
                .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
    }

    @Test
    void seesTokensAnotherProcessAddedToTheFile() {
        Path file = dir.resolve("tokens.json");
        TokenStore server = new TokenStore(file);
        assertThat(server.isEmpty()).isTrue();

        String token = new TokenStore(file).create("bob", Set.of(Role.OBSERVER));

        assertThat(server.authenticate(token)).isPresent();
    }

    @Test
    void refusesATokenWithoutRolesOrWithABadPrincipal() {
        TokenStore store = new TokenStore(dir.resolve("tokens.json"));

        assertThatThrownBy(() -> store.create("alice", Set.of())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store.create(" ", Set.of(Role.ADMIN))).hasMessageContaining("principal");
        assertThatThrownBy(() -> Role.of("wizard")).hasMessageContaining("admin, operator, service, observer");
    }

    @Test
    void theClusterKeyIsMadeOnceAndSharedByEveryStoreOfTheFileAndKeptWithTheTokens() throws Exception {
        Path file = dir.resolve("tokens.json");
        TokenStore first = new TokenStore(file);
        String token = first.create("alice", Set.of(Role.ADMIN));
        byte[] key = first.clusterKey();
        TokenStore second = new TokenStore(file);

        assertThat(key).hasSize(32);
        assertThat(second.clusterKey()).isEqualTo(key);
        second.create("bob", Set.of(Role.OBSERVER));
        assertThat(first.clusterKey()).as("creating a token keeps the key").isEqualTo(key);
        assertThat(first.authenticate(token)).isPresent();
        assertThat(Files.getPosixFilePermissions(file))
                .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
    }
}
