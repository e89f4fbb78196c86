package dev.substrate.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.substrate.api.auth.Role;
import dev.substrate.api.auth.TokenFile;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.testing.KafkaCluster;
import dev.substrate.testing.SharedKafka;
import dev.substrate.testing.TestSettings;
import dev.substrate.topic.TopicSetup;
import dev.substrate.topic.Topics;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two instances serving HTTPS ({@code http.tls.keystore}, a certificate made here with the JDK's keytool) forward
 * to each other over HTTPS, signing in the caller's name with the {@code cluster.secret} they share: each keeps a
 * token file of its own, so the owner of a key answers a caller whose token it has never seen, which it could not
 * if the token were relayed. A request that claims to be forwarded without a valid signature is refused.
 */
@ExtendWith(SharedKafka.class)
@Timeout(240)
class TlsForwardingIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SECRET = "a-cluster-secret-of-the-tests";

    @TempDir
    static Path dir;

    private static final List<ApiInstance> instances = new ArrayList<>();
    private static HttpClient https;
    private static String tokenOfA;

    @BeforeAll
    static void start(KafkaCluster kafka) throws Exception {
        Path keystore = dir.resolve("api.p12");
        Path certificate = dir.resolve("api.crt");
        Path truststore = dir.resolve("trust.p12");
        keytool(
                "-genkeypair",
                "-alias",
                "api",
                "-keyalg",
                "RSA",
                "-keysize",
                "2048",
                "-validity",
                "2",
                "-dname",
                "CN=localhost",
                "-ext",
                "SAN=dns:localhost,ip:127.0.0.1",
                "-keystore",
                keystore.toString(),
                "-storetype",
                "PKCS12",
                "-storepass",
                "changeit",
                "-keypass",
                "changeit");
        keytool(
                "-exportcert",
                "-alias",
                "api",
                "-keystore",
                keystore.toString(),
                "-storepass",
                "changeit",
                "-rfc",
                "-file",
                certificate.toString());
        keytool(
                "-importcert",
                "-noprompt",
                "-alias",
                "api",
                "-file",
                certificate.toString(),
                "-keystore",
                truststore.toString(),
                "-storetype",
                "PKCS12",
                "-storepass",
                "changeit");

        String prefix = "tls" + UUID.randomUUID().toString().substring(0, 6) + ".";
        List<SubstrateConfig> configs = new ArrayList<>();
        for (String name : List.of("a", "b")) {
            configs.add(SubstrateConfig.of(TestSettings.of(
                    kafka,
                    prefix,
                    Files.createDirectories(dir.resolve(name)),
                    prefix + "app",
                    "commit.interval.ms",
                    "50",
                    "http.port",
                    "0",
                    "http.tls.keystore",
                    keystore.toString(),
                    "http.tls.keystore.password",
                    "changeit",
                    "http.tls.truststore",
                    truststore.toString(),
                    "http.tls.truststore.password",
                    "changeit",
                    "cluster.secret",
                    SECRET)));
        }
        try (Admin admin = kafka.admin()) {
            TopicSetup.ensure(admin, Topics.from(configs.get(0)), 6, (short) -1);
        }
        // A token file each, imported by each instance into the one tokens topic.
        TokenFile tokensOfA = new TokenFile(dir.resolve("a/tokens.json"));
        tokenOfA = tokensOfA.create("alice", Set.of(Role.OPERATOR));
        instances.add(ApiInstance.start(configs.get(0), tokensOfA));
        instances.add(ApiInstance.start(configs.get(1), new TokenFile(dir.resolve("b/tokens.json"))));

        KeyStore trusted = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(truststore)) {
            trusted.load(in, "changeit".toCharArray());
        }
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(trusted);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trust.getTrustManagers(), null);
        https = HttpClient.newBuilder().sslContext(context).build();
        for (ApiInstance instance : instances) {
            await().atMost(Duration.ofSeconds(90)).until(() -> {
                HttpResponse<String> ready = get(instance.url() + "/ready", null);
                return ready.statusCode() == 200 && ready.body().contains("\"running\"");
            });
        }
    }

    @AfterAll
    static void stop() {
        instances.forEach(ApiInstance::close);
    }

    @Test
    void servesHttpsOnlyAndForwardsInTheCallersNameWithoutItsToken() throws Exception {
        String a = instances.get(0).url();
        assertThat(a).startsWith("https://");
        int plain;
        try {
            plain = HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(URI.create(a.replace("https://", "http://") + "/health"))
                                    .timeout(Duration.ofSeconds(10))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString())
                    .statusCode();
        } catch (java.io.IOException e) {
            plain = -1;
        }
        assertThat(plain).as("plain HTTP is not served").isNotEqualTo(200);

        String b = instances.get(1).url();
        String selfB = b.replace("https://", "");
        int forwarded = 0;
        for (int i = 0; i < 12; i++) {
            HttpResponse<String> created = post(
                    a + "/v1/runs?wait=applied&timeoutMs=30000",
                    "{\"scope\": \"shared\", \"project\": \"project:tls\", \"activation\": {\"surface\": \"ui\","
                            + " \"actor\": \"a\"}}");
            assertThat(created.statusCode()).as(created.body()).isEqualTo(200);
            String runId = JSON.readTree(created.body()).get("runId").asText();
            HttpResponse<String> read = get(a + "/v1/runs/" + runId, tokenOfA);
            assertThat(read.statusCode()).as(read.body()).isEqualTo(200);
            if (read.headers()
                    .firstValue("X-Substrate-Answered-By")
                    .orElseThrow()
                    .equals(selfB)) {
                forwarded++;
            }
        }
        System.out.printf("TLS: %d of 12 reads sent to A were answered by B over HTTPS, signed for alice%n", forwarded);
        assertThat(forwarded).as("some keys are B's").isPositive();
        assertThat(get(b + "/v1/runs?limit=5", tokenOfA).statusCode())
                .as("B knows A's token too: tokens live in Kafka (forwards are signed, never relayed: below)")
                .isEqualTo(200);
        HttpResponse<String> listed = get(a + "/v1/runs?limit=100&project=project:tls", tokenOfA);
        assertThat(JSON.readTree(listed.body()).get("items").size()).isEqualTo(12);
    }

    /** Claims naming an admin that no token stands for. */
    private static final String MALLORY = java.util.Base64.getUrlEncoder()
            .withoutPadding()
            .encodeToString(
                    "{\"principal\":\"mallory\",\"roles\":[\"admin\"],\"tokenId\":\"0000000000000000\",\"exp\":99999999999999}"
                            .getBytes(java.nio.charset.StandardCharsets.UTF_8));

    @Test
    void aRequestClaimingToBeForwardedWithoutAValidSignatureIsRefused() throws Exception {
        String b = instances.get(1).url();
        HttpResponse<String> unsigned = https.send(
                HttpRequest.newBuilder(URI.create(b + "/v1/runs?limit=1"))
                        .header("X-Substrate-Forwarded", "elsewhere:1")
                        .header("X-Substrate-Claims", MALLORY)
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(unsigned.statusCode()).isEqualTo(401);
        HttpResponse<String> forged = https.send(
                HttpRequest.newBuilder(URI.create(b + "/v1/runs?limit=1"))
                        .header("X-Substrate-Forwarded", "elsewhere:1")
                        .header("X-Substrate-Claims", MALLORY)
                        .header("X-Substrate-Signature", "t=" + System.currentTimeMillis() + ",v=AAAA")
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(forged.statusCode()).isEqualTo(401);
        assertThat(JSON.readTree(forged.body()).get("detail").asText()).contains("signature");
    }

    private static HttpResponse<String> get(String url, String token) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return https.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> post(String url, String body) throws Exception {
        return https.send(
                HttpRequest.newBuilder(URI.create(url))
                        .timeout(Duration.ofSeconds(40))
                        .header("Authorization", "Bearer " + tokenOfA)
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** Runs the JDK's keytool (beside the running java). */
    private static void keytool(String... args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes());
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(output).isZero();
    }
}
