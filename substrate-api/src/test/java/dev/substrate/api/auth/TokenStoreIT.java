package dev.substrate.api.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.substrate.config.SubstrateConfig;
import dev.substrate.testing.KafkaCluster;
import dev.substrate.testing.SharedKafka;
import dev.substrate.testing.TestSettings;
import dev.substrate.topic.TopicSetup;
import dev.substrate.topic.Topics;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Tokens in Kafka: two stores with separate data directories, as two instances on two hosts have. */
@ExtendWith(SharedKafka.class)
@Timeout(120)
class TokenStoreIT {

    @TempDir
    Path dirA;

    @TempDir
    Path dirB;

    private KafkaCluster kafka;
    private String prefix;

    @BeforeEach
    void topics(KafkaCluster kafka) {
        this.kafka = kafka;
        prefix = "tokens" + UUID.randomUUID().toString().substring(0, 6) + ".";
        try (Admin admin = kafka.admin()) {
            TopicSetup.ensure(admin, Topics.from(config(dirA)), 3, (short) -1);
        }
    }

    private SubstrateConfig config(Path dir) {
        return SubstrateConfig.of(TestSettings.of(kafka, prefix, dir, prefix + "app"));
    }

    private static TokenStore started(SubstrateConfig config) throws InterruptedException {
        TokenStore store = TokenStore.start(config);
        assertThat(store.awaitReady(Duration.ofSeconds(30)))
                .as(store.notReady().orElse(""))
                .isTrue();
        return store;
    }

    @Test
    void aTokenMintedOnOneInstanceWorksOnTheOtherAtOnceAndARevocationReachesBothWithinTwoSeconds() throws Exception {
        try (TokenStore a = started(config(dirA));
                TokenStore b = started(config(dirB))) {
            TokenStore.Minted minted =
                    a.create("svc:runner", Set.of(Role.SERVICE, Role.OBSERVER), List.of("project:acme/*"), "alice");

            assertThat(minted.token()).startsWith(TokenStore.PREFIX).hasSize(64);
            assertThat(a.authenticate(minted.token()))
                    .as("at once where it was minted")
                    .isPresent();
            long mintedAt = System.nanoTime();
            assertThat(b.authenticate(minted.token()))
                    .as("on the other instance as soon as the mint returned: it reads the topic's latest records first")
                    .isPresent();
            long honouredMs = (System.nanoTime() - mintedAt) / 1_000_000;
            Principal principal = b.authenticate(minted.token()).orElseThrow();
            assertThat(principal.name()).isEqualTo("svc:runner");
            assertThat(principal.roles()).containsExactlyInAnyOrder(Role.SERVICE, Role.OBSERVER);
            assertThat(principal.projects()).containsExactly("project:acme/*");
            assertThat(b.list()).singleElement().satisfies(token -> {
                assertThat(token.tokenId()).isEqualTo(minted.info().tokenId());
                assertThat(token.createdBy()).isEqualTo("alice");
            });

            assertThat(b.revoke(minted.info().tokenId())).isTrue();
            long revokedAt = System.nanoTime();
            assertThat(b.authenticate(minted.token()))
                    .as("at once where it was revoked")
                    .isEmpty();
            await().atMost(Duration.ofSeconds(2))
                    .pollInterval(Duration.ofMillis(10))
                    .until(() -> a.authenticate(minted.token()).isEmpty());
            long refusedMs = (System.nanoTime() - revokedAt) / 1_000_000;
            System.out.printf(
                    "tokens: minted on A, honoured by B after %d ms; revoked on B, refused by A after %d ms%n",
                    honouredMs, refusedMs);
            assertThat(a.revoke(minted.info().tokenId())).as("gone").isFalse();
            assertThat(a.list()).isEmpty();
        }
    }

    @Test
    void refusesAlteredUnknownAndMalformedTokensAndKeepsNoSecretInKafka() throws Exception {
        try (TokenStore store = started(config(dirA))) {
            String token =
                    store.create("alice", Set.of(Role.ADMIN), List.of(), "test").token();

            char last = token.charAt(token.length() - 1);
            String altered = token.substring(0, token.length() - 1) + (last == 'A' ? 'B' : 'A');
            String otherId = token.substring(0, 4) + "0000000000000000" + token.substring(20);
            assertThat(store.authenticate(altered)).isEmpty();
            assertThat(store.authenticate(otherId)).isEmpty();
            assertThat(store.authenticate("sbt_unknown")).isEmpty();
            // A well-formed id nobody minted: refused once the instance has read the topic's latest records.
            assertThat(store.authenticate(TokenStore.PREFIX + "0123456789abcdef_" + "A".repeat(43)))
                    .isEmpty();
            assertThat(store.authenticate("")).isEmpty();
            assertThat(store.authenticate(null)).isEmpty();
            assertThatThrownBy(() -> store.create("alice", Set.of(), List.of(), "test"))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> store.create(" ", Set.of(Role.ADMIN), List.of(), "test"))
                    .hasMessageContaining("principal");
            assertThatThrownBy(() -> store.create("bob", Set.of(Role.ADMIN), List.of("has space"), "test"))
                    .hasMessageContaining("project pattern");
            String secret = token.substring(21);
            assertThat(values(prefix + "tokens"))
                    .isNotEmpty()
                    .noneMatch(value -> value.contains(secret) || value.contains(token));
        }
    }

    @Test
    void aMalformedRecordIsSkippedAndTheRestAreRead() throws Exception {
        try (TokenStore a = started(config(dirA))) {
            String before =
                    a.create("before", Set.of(Role.OBSERVER), List.of(), "test").token();
            dev.substrate.testing.TestRecords.produce(
                    kafka, prefix + "tokens", Map.of("token:0123456789abcdef", "{not json", "someone-else's", "x"));
            String after =
                    a.create("after", Set.of(Role.OBSERVER), List.of(), "test").token();

            try (TokenStore b = started(config(dirB))) {
                assertThat(b.authenticate(before)).isPresent();
                assertThat(b.authenticate(after)).isPresent();
                assertThat(b.notReady()).isEmpty();
            }
        }
    }

    @Test
    void theTokensOfAnOldTokenFileAreImportedOnceAndARevokedOneStaysRevoked() throws Exception {
        Path file = dirA.resolve("tokens.json");
        TokenFile old = new TokenFile(file);
        String kept = old.create("ops", Set.of(Role.OPERATOR));
        String revoked = old.create("gone", Set.of(Role.OBSERVER));
        assertThat(Files.getPosixFilePermissions(file))
                .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
        assertThat(Files.readString(file)).doesNotContain(kept);

        try (TokenStore first = started(config(dirA))) {
            assertThat(first.authenticate(kept)).hasValueSatisfying(principal -> {
                assertThat(principal.name()).isEqualTo("ops");
                assertThat(principal.roles()).containsExactly(Role.OPERATOR);
            });
            String revokedId = first.list().stream()
                    .filter(token -> token.principal().name().equals("gone"))
                    .findFirst()
                    .orElseThrow()
                    .tokenId();
            assertThat(first.revoke(revokedId)).isTrue();
        }
        try (TokenStore restarted = started(config(dirA));
                TokenStore other = started(config(dirB))) {
            assertThat(restarted.authenticate(kept)).as("still imported").isPresent();
            assertThat(restarted.authenticate(revoked)).as("not imported again").isEmpty();
            assertThat(restarted.list()).hasSize(1);
            assertThat(other.authenticate(kept))
                    .as("on an instance without the file")
                    .isPresent();
        }
    }

    @Test
    void aClusterKeyAnEarlierVersionKeptOnTheTopicIsDeletedAtStart() throws Exception {
        // Anyone who reads the topic would learn a key that instances trust: it must not stay there.
        String topic = Topics.from(config(dirA)).tokens().name();
        dev.substrate.testing.TestRecords.produce(
                kafka,
                topic,
                Map.of("cluster-key:old", "{\"v\":1,\"key\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}"));
        try (TokenStore store = started(config(dirA))) {
            assertThat(store.notReady()).isEmpty();
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> dev.substrate.testing.TestRecords.readAll(kafka, topic).stream()
                            .anyMatch(record -> record.key().equals("cluster-key:old") && record.value() == null));
        }
        assertThat(dev.substrate.testing.TestRecords.readAll(kafka, topic))
                .noneMatch(record ->
                        !record.key().equals("cluster-key:old") && record.key().startsWith("cluster-key:"));
    }

    @Test
    void anUnreadableTokensTopicKeepsTheStoreUnreadyWithTheReason() throws Exception {
        SubstrateConfig missing = SubstrateConfig.of(
                TestSettings.of(kafka, "nowhere" + UUID.randomUUID().toString().substring(0, 6) + ".", dirA, "x"));
        try (TokenStore store = TokenStore.start(missing)) {
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> store.notReady().orElse("").contains("does not exist"));
            assertThatThrownBy(() -> store.authenticate("sbt_x"))
                    .isInstanceOfSatisfying(
                            TokensUnavailable.class,
                            e -> assertThat(e.isRetriable()).isTrue());
        }
    }

    private List<String> values(String topic) {
        return dev.substrate.testing.TestRecords.readAll(kafka, topic).stream()
                .map(record -> record.value() == null ? "" : new String(record.value(), StandardCharsets.UTF_8))
                .toList();
    }
}
