package dev.substrate.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.substrate.api.auth.Role;
import dev.substrate.api.auth.TokenFile;
import dev.substrate.testing.KafkaCluster;
import dev.substrate.testing.SharedKafka;
import dev.substrate.testing.TestRecords;
import dev.substrate.testing.TestSettings;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two {@code substrate serve} processes of one application with separate data directories, sharing nothing but
 * the brokers: tokens and artifact content live in Kafka. The first starts from an earlier version's token file
 * (an upgrade); content of 100 MB is streamed through instances whose heap is smaller than it; one is killed
 * mid-upload.
 */
@ExtendWith(SharedKafka.class)
@Timeout(600)
class KafkaOnlyInstancesIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final long BIG = 100L * 1024 * 1024;
    /** Smaller than the content: an instance that held it whole in memory would fail. */
    private static final String HEAP = "96m";

    @TempDir
    Path dir;

    @Test
    void instancesOnSeparateDataDirectoriesShareTokensAndContentThroughKafkaAlone(KafkaCluster kafka) throws Exception {
        String prefix = "kafkaonly" + UUID.randomUUID().toString().substring(0, 6) + ".";
        String oldToken = new TokenFile(dir.resolve("a").resolve("tokens.json")).create("ops", Set.of(Role.ADMIN));
        Map<String, String> environment = Map.of(
                "SUBSTRATE_BOOTSTRAP_SERVERS",
                kafka.bootstrapServers(),
                "SUBSTRATE_CLUSTER_SECRET",
                TestSettings.CLUSTER_SECRET,
                "SUBSTRATE_HTTP_PORT",
                "0",
                "SUBSTRATE_TOPIC_PREFIX",
                prefix,
                "SUBSTRATE_TOPIC_PARTITIONS",
                "4",
                "SUBSTRATE_APPLICATION_ID",
                prefix + "app",
                // B is killed below and never says goodbye: the group notices after the session timeout.
                "SUBSTRATE_KAFKA_SESSION_TIMEOUT_MS",
                "6000",
                "SUBSTRATE_KAFKA_COMMIT_INTERVAL_MS",
                "100");
        try (SubstrateProcess a = SubstrateProcess.startWithHeap(
                        HEAP,
                        environment,
                        "serve",
                        "--data-dir",
                        dir.resolve("a").toString());
                SubstrateProcess b = SubstrateProcess.startWithHeap(
                        HEAP,
                        environment,
                        "serve",
                        "--data-dir",
                        dir.resolve("b").toString())) {
            String urlA = a.awaitOutput("HTTP\\s+(\\S+)", Duration.ofSeconds(90));
            String urlB = b.awaitOutput("HTTP\\s+(\\S+)", Duration.ofSeconds(90));
            for (String url : new String[] {urlA, urlB}) {
                await().atMost(Duration.ofMinutes(2)).until(() -> status(url + "/ready", null) == 200);
            }

            // The upgrade: the old file's token works on both, though only A had the file. Ready means the fold
            // decides events; a list gathered while the second instance's partitions still move is a 503 (retry),
            // so the check waits out that first rebalance before asserting the answer.
            for (String url : new String[] {urlA, urlB}) {
                await().atMost(Duration.ofMinutes(1)).until(() -> status(url + "/v1/runs", oldToken) != 503);
                assertThat(status(url + "/v1/runs", oldToken)).isEqualTo(200);
            }

            // Minted on A, honoured by B; revoked on A, refused by both within 2 s.
            JsonNode minted = JSON.readTree(send(
                            urlA + "/v1/tokens",
                            "POST",
                            oldToken,
                            json("{\"principal\": \"svc:ci\", \"roles\": [\"service\"]}"))
                    .body());
            String token = minted.get("token").asText();
            long mintedAt = System.nanoTime();
            await().atMost(Duration.ofSeconds(2))
                    .pollInterval(Duration.ofMillis(10))
                    .until(() -> status(urlB + "/v1/runs", token) == 200);
            long honouredMs = (System.nanoTime() - mintedAt) / 1_000_000;
            assertThat(send(urlA + "/v1/tokens/" + minted.get("tokenId").asText(), "DELETE", oldToken, null)
                            .statusCode())
                    .isEqualTo(204);
            long revokedAt = System.nanoTime();
            assertThat(status(urlA + "/v1/runs", token)).isEqualTo(401);
            await().atMost(Duration.ofSeconds(2))
                    .pollInterval(Duration.ofMillis(10))
                    .until(() -> status(urlB + "/v1/runs", token) == 401);
            long refusedMs = (System.nanoTime() - revokedAt) / 1_000_000;
            System.out.printf(
                    "two instances: a token minted on A worked on B after %d ms; revoked on A, B refused it after"
                            + " %d ms%n",
                    honouredMs, refusedMs);

            // 100 MB put on A, read whole and by range on B, byte-equal, through heaps of 96 MB.
            String artifactId = artifact(urlA, oldToken);
            long putStart = System.nanoTime();
            HttpResponse<String> put = put(urlA, artifactId, oldToken, new Generated(BIG, 7, null));
            assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
            double putSeconds = (System.nanoTime() - putStart) / 1e9;
            String digest = JSON.readTree(put.body()).get("digest").asText();
            assertThat(digest).isEqualTo(Generated.digest(BIG, 7));
            long getStart = System.nanoTime();
            HttpResponse<InputStream> whole = HTTP.send(
                    request(urlB + "/v1/artifacts/" + artifactId + "/content", oldToken)
                            .GET()
                            .build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            assertThat(whole.statusCode()).isEqualTo(200);
            assertThat(whole.headers().firstValue("Accept-Ranges")).contains("bytes");
            assertThat(digestOf(whole.body())).isEqualTo(digest);
            double getSeconds = (System.nanoTime() - getStart) / 1e9;
            System.out.printf(
                    "two instances: 100 MB put on A in %.1f s, read whole on B in %.1f s (heaps of %s)%n",
                    putSeconds, getSeconds, HEAP);
            long first = 50L * 1024 * 1024 - 10;
            HttpResponse<byte[]> range = HTTP.send(
                    request(urlB + "/v1/artifacts/" + artifactId + "/content", oldToken)
                            .header("Range", "bytes=" + first + "-" + (first + 99))
                            .GET()
                            .build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertThat(range.statusCode()).isEqualTo(206);
            assertThat(range.headers().firstValue("Content-Range"))
                    .contains("bytes " + first + "-" + (first + 99) + "/" + BIG);
            assertThat(range.body()).isEqualTo(Generated.bytes(BIG, 7, first, 100));
            HttpResponse<String> outside = HTTP.send(
                    request(urlA + "/v1/artifacts/" + artifactId + "/content", oldToken)
                            .header("Range", "bytes=" + BIG + "-")
                            .GET()
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(outside.statusCode()).isEqualTo(416);
            assertThat(outside.headers().firstValue("Content-Range")).contains("bytes */" + BIG);

            // B killed in the middle of an upload: nothing of it is served; the retry on A succeeds.
            String halfway = artifact(urlA, oldToken);
            CountDownLatch sent = new CountDownLatch(1);
            CompletableFuture<HttpResponse<String>> upload = HTTP.sendAsync(
                    request(urlB + "/v1/artifacts/" + halfway + "/content", oldToken)
                            .header("Content-Type", "application/octet-stream")
                            .PUT(HttpRequest.BodyPublishers.ofInputStream(
                                    () -> new Generated(20L * 1024 * 1024, 9, sent)))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(sent.await(60, TimeUnit.SECONDS)).isTrue();
            b.kill();
            assertThat(upload)
                    .failsWithin(Duration.ofSeconds(30))
                    .withThrowableThat()
                    .withCauseInstanceOf(IOException.class);
            // Until A holds what B held (503 meanwhile), then: no content, for the upload never completed.
            await().atMost(Duration.ofSeconds(90))
                    .until(() -> status(urlA + "/v1/artifacts/" + halfway + "/content", oldToken) != 503);
            assertThat(status(urlA + "/v1/artifacts/" + halfway + "/content", oldToken))
                    .isEqualTo(404);
            assertThat(TestRecords.readAll(kafka, prefix + "blob-index"))
                    .as("the blob index names the 100 MB alone")
                    .hasSize(1);
            HttpResponse<String> retried = put(urlA, halfway, oldToken, new Generated(20L * 1024 * 1024, 9, null));
            assertThat(retried.statusCode()).as(retried.body()).isEqualTo(200);
            HttpResponse<InputStream> back = HTTP.send(
                    request(urlA + "/v1/artifacts/" + halfway + "/content", oldToken)
                            .GET()
                            .build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            assertThat(digestOf(back.body())).isEqualTo(Generated.digest(20L * 1024 * 1024, 9));
            assertThat(a.stop()).isEqualTo(SubstrateProcess.EXIT_ON_SIGTERM);
        }
        try (var files = Files.walk(dir)) {
            assertThat(files.filter(file -> file.getFileName().toString().equals("tokens.json")))
                    .as("the token file was read, never written")
                    .hasSize(1);
        }
    }

    private static String artifact(String url, String token) throws Exception {
        HttpResponse<String> created = send(url + "/v1/artifacts?wait=applied", "POST", token, json("""
                {"kind": "dataset", "name": "big", "parentId": "project:big", "locator": "https://example.com/pending",
                 "provenance": {"runId": "run-big"}}"""));
        assertThat(created.statusCode()).as(created.body()).isEqualTo(200);
        return JSON.readTree(created.body()).get("artifactId").asText();
    }

    private static HttpResponse<String> put(String url, String artifactId, String token, InputStream content)
            throws Exception {
        return HTTP.send(
                request(url + "/v1/artifacts/" + artifactId + "/content?wait=applied", token)
                        .header("Content-Type", "application/octet-stream")
                        .PUT(HttpRequest.BodyPublishers.ofInputStream(() -> content))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static HttpRequest.BodyPublisher json(String body) {
        return HttpRequest.BodyPublishers.ofString(body);
    }

    private static HttpRequest.Builder request(String url, String token) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofMinutes(3));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return request;
    }

    private static HttpResponse<String> send(String url, String method, String token, HttpRequest.BodyPublisher body)
            throws Exception {
        HttpRequest.Builder request =
                request(url, token).method(method, body == null ? HttpRequest.BodyPublishers.noBody() : body);
        if (body != null) {
            request.header("Content-Type", "application/json");
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static int status(String url, String token) throws Exception {
        return HTTP.send(request(url, token).GET().build(), HttpResponse.BodyHandlers.discarding())
                .statusCode();
    }

    private static String digestOf(InputStream in) throws Exception {
        MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
        byte[] buffer = new byte[64 * 1024];
        try (in) {
            int read;
            while ((read = in.read(buffer)) != -1) {
                sha256.update(buffer, 0, read);
            }
        }
        return "sha256:" + HexFormat.of().formatHex(sha256.digest());
    }

    /**
     * {@code size} bytes made from {@code seed}, generated as they are read (never held whole); with a latch, it
     * counts the latch down after its first 5 MB and then stalls, as a slow upload does.
     */
    static final class Generated extends InputStream {
        private final long size;
        private final long seed;
        private final CountDownLatch stallAfterFiveMb;
        private long position;

        Generated(long size, long seed, CountDownLatch stallAfterFiveMb) {
            this.size = size;
            this.seed = seed;
            this.stallAfterFiveMb = stallAfterFiveMb;
        }

        static byte at(long seed, long position) {
            long x = (position / 8) * 0x9E3779B97F4A7C15L + seed;
            x ^= x >>> 31;
            x *= 0xBF58476D1CE4E5B9L;
            x ^= x >>> 29;
            return (byte) (x >>> (8 * (position % 8)));
        }

        static byte[] bytes(long size, long seed, long first, int length) {
            byte[] bytes = new byte[length];
            for (int i = 0; i < length; i++) {
                bytes[i] = at(seed, first + i);
            }
            return bytes;
        }

        static String digest(long size, long seed) throws Exception {
            return digestOf(new Generated(size, seed, null));
        }

        @Override
        public int read() {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] buffer, int off, int len) {
            if (position >= size) {
                return -1;
            }
            if (stallAfterFiveMb != null && position >= 5L * 1024 * 1024) {
                stallAfterFiveMb.countDown();
                try {
                    // Stalls like a slow client until the instance it sends to is killed.
                    Thread.sleep(60_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            int n = (int) Math.min(len, size - position);
            for (int i = 0; i < n; i++) {
                buffer[off + i] = at(seed, position + i);
            }
            position += n;
            return n;
        }
    }
}
