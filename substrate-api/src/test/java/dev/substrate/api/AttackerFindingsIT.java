package dev.substrate.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.substrate.api.auth.Role;
import dev.substrate.api.auth.TokenFile;
import dev.substrate.entity.EntityKind;
import dev.substrate.events.artifact.ArtifactEvent;
import dev.substrate.events.artifact.ArtifactRegistered;
import dev.substrate.events.artifact.Provenance;
import dev.substrate.events.common.Correlation;
import dev.substrate.testing.KafkaCluster;
import dev.substrate.testing.SharedKafka;
import dev.substrate.testing.SseConnection;
import dev.substrate.testing.TestRecords;
import dev.substrate.testing.TestSettings;
import dev.substrate.topic.Topics;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each finding of an attacker's look at the API (docs/reliability.md, "Tried as an attacker"), as a test that
 * failed before its fix: two instances on one set of topics, tokens of every kind, a private room with an artifact
 * and its bytes.
 */
@ExtendWith(SharedKafka.class)
@Timeout(300)
class AttackerFindingsIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PROJECT = "project:victim/web";

    @TempDir
    static Path dir;

    private static final List<ApiInstance> instances = new ArrayList<>();
    private static KafkaCluster kafka;
    private static Topics topics;
    private static String admin;
    private static String owner;
    private static String outsider;
    private static String observerMember;
    private static String otherProject;
    private static String roomId;
    private static String artifactId;
    private static String digest;

    @BeforeAll
    static void start(KafkaCluster cluster) throws Exception {
        kafka = cluster;
        TokenFile file = new TokenFile(dir.resolve("tokens.json"));
        admin = file.create("root", Set.of(Role.ADMIN));
        instances.addAll(ApiInstance.startApplication(kafka, "attack", dir, file, 2, 4));
        topics = instances.get(0).topics;
        owner = instances.get(0).mint("owner", Role.SERVICE);
        outsider = instances.get(0).mint("outsider", Role.SERVICE);
        observerMember = instances.get(0).mint("watcher", Role.OBSERVER);
        otherProject = instances
                .get(0)
                .tokens
                .create("elsewhere", Set.of(Role.SERVICE), List.of("project:attacker/*"), "test")
                .token();
        for (String token : List.of(owner, outsider, observerMember, otherProject)) {
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> ApiCalls.get(url(1, "/v1/whoami"), token).statusCode() == 200);
        }
        roomId = created(
                        "/v1/rooms",
                        "{\"kind\": \"session\", \"project\": \"" + PROJECT + "\", \"members\": [{\"principal\":"
                                + " \"owner\", \"role\": \"owner\"}, {\"principal\": \"watcher\", \"role\":"
                                + " \"reader\"}]}",
                        admin)
                .path("roomId")
                .asText();
        artifactId = created(
                        "/v1/artifacts",
                        "{\"kind\": \"file\", \"name\": \"secrets.txt\", \"parentId\": \"" + PROJECT + "\","
                                + " \"provenance\": {\"roomId\": \"" + roomId + "\"}}",
                        owner)
                .path("artifactId")
                .asText();
        HttpResponse<String> put = ApiCalls.HTTP.send(
                ApiCalls.request(url(0, "/v1/artifacts/" + artifactId + "/content?wait=applied"), owner)
                        .header("Content-Type", "text/plain")
                        .PUT(HttpRequest.BodyPublishers.ofString("the private bytes"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
        digest = JSON.readTree(put.body()).path("digest").asText();
    }

    @AfterAll
    static void stop() {
        instances.forEach(ApiInstance::close);
    }

    private static String url(int instance, String path) {
        return instances.get(instance).url() + path;
    }

    private static JsonNode created(String path, String body, String token) throws Exception {
        HttpResponse<String> answer = ApiCalls.post(url(0, path + "?wait=applied"), body, token);
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        return JSON.readTree(answer.body());
    }

    /** A request signed as an instance of the application would sign it, with the application's real secret. */
    private static HttpRequest.Builder signed(String method, String url, String claimsJson) throws Exception {
        URI uri = URI.create(url);
        String pathAndQuery = uri.getRawPath() + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
        String claims =
                Base64.getUrlEncoder().withoutPadding().encodeToString(claimsJson.getBytes(StandardCharsets.UTF_8));
        long now = System.currentTimeMillis();
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(TestSettings.CLUSTER_SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        String emptyBody = HexFormat.of()
                .formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(new byte[0]));
        byte[] signature = mac.doFinal((now + "\n" + method + "\n" + pathAndQuery + "\n" + claims + "\n" + emptyBody)
                .getBytes(StandardCharsets.UTF_8));
        return HttpRequest.newBuilder(uri)
                .timeout(Duration.ofSeconds(20))
                .header("X-Substrate-Forwarded", "elsewhere:1")
                .header("X-Substrate-Claims", claims)
                .header(
                        "X-Substrate-Signature",
                        "t=" + now + ",v="
                                + Base64.getUrlEncoder().withoutPadding().encodeToString(signature));
    }

    private static String tokenIdOf(String token) {
        return token.substring(4, 20);
    }

    @Test
    void aForwardedRequestActsOnlyAsTheTokenItNamesAndOnlyOnTheRoutesInstancesForward() throws Exception {
        assertThat(TestRecords.readAll(kafka, topics.tokens().name()))
                .as("no key instances trust is a record of the tokens topic")
                .noneMatch(record -> record.key().startsWith("cluster-key:"));
        String mallory = "{\"principal\": \"mallory\", \"roles\": [\"admin\"], \"tokenId\": \"" + tokenIdOf(outsider)
                + "\", \"exp\": " + (System.currentTimeMillis() + 30_000) + "}";
        // Even signed with the real secret, a forwarded request is a GET of a route instances forward.
        HttpResponse<String> mint = ApiCalls.HTTP.send(
                signed("POST", url(1, "/v1/tokens"), mallory)
                        .POST(HttpRequest.BodyPublishers.noBody())
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(mint.statusCode()).as(mint.body()).isIn(401, 403);
        // Claims that do not match the token they name: the receiver acts as the token, or not at all.
        HttpResponse<String> impersonated = ApiCalls.HTTP.send(
                signed("GET", url(1, "/v1/runs?limit=1"), mallory).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(impersonated.statusCode()).as(impersonated.body()).isEqualTo(401);
        // A name with separators cannot pass for a role: the claims are structured, and such names are refused.
        for (String name : List.of("x;admin;p*", "x,admin", "zero\u200Bwidth", "\u202Eadmin", "bell\u0007")) {
            HttpResponse<String> refused = ApiCalls.post(
                    url(0, "/v1/tokens"),
                    JSON.createObjectNode()
                            .put("principal", name)
                            .set("roles", JSON.createArrayNode().add("observer"))
                            .toString(),
                    admin);
            assertThat(refused.statusCode()).as(name + ": " + refused.body()).isEqualTo(400);
        }
        // A revoked token's claims are refused by the instance that reads them.
        String doomed = instances.get(0).mint("doomed", Role.OBSERVER);
        await().atMost(Duration.ofSeconds(30))
                .until(() -> ApiCalls.get(url(1, "/v1/whoami"), doomed).statusCode() == 200);
        String doomedClaims = "{\"principal\": \"doomed\", \"roles\": [\"observer\"], \"tokenId\": \""
                + tokenIdOf(doomed) + "\", \"exp\": " + (System.currentTimeMillis() + 30_000) + "}";
        assertThat(ApiCalls.HTTP
                        .send(
                                signed("GET", url(1, "/v1/runs?limit=1"), doomedClaims)
                                        .GET()
                                        .build(),
                                HttpResponse.BodyHandlers.ofString())
                        .statusCode())
                .isEqualTo(200);
        HttpResponse<String> revoked = ApiCalls.HTTP.send(
                ApiCalls.request(url(0, "/v1/tokens/" + tokenIdOf(doomed)), admin)
                        .DELETE()
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(revoked.statusCode()).isEqualTo(204);
        await().atMost(Duration.ofSeconds(10))
                .until(() -> ApiCalls.HTTP
                                .send(
                                        signed("GET", url(1, "/v1/runs?limit=1"), doomedClaims)
                                                .GET()
                                                .build(),
                                        HttpResponse.BodyHandlers.ofString())
                                .statusCode()
                        == 401);
    }

    @Test
    void anArtifactOfAPrivateRoomCannotBeReachedThroughItsEventsOutcomesOrDigest() throws Exception {
        // Its events: appending needs the room's writers; the answer never carries its state.
        HttpResponse<String> revised = ApiCalls.post(
                url(0, "/v1/artifacts/" + artifactId + "/events?wait=applied"),
                "{\"type\": \"ArtifactRevised\", \"note\": \"peek\"}",
                outsider);
        assertThat(revised.statusCode()).as(revised.body()).isEqualTo(403);
        assertThat(revised.body()).doesNotContain(digest);
        HttpResponse<String> repointed = ApiCalls.post(
                url(1, "/v1/artifacts/" + artifactId + "/events"),
                "{\"type\": \"ArtifactRevised\", \"locator\": \"https://attacker.example/x\"}",
                outsider);
        assertThat(repointed.statusCode()).as(repointed.body()).isEqualTo(403);
        // Its outcomes, with its state.
        HttpResponse<String> ownerRevised = ApiCalls.post(
                url(0, "/v1/artifacts/" + artifactId + "/events?wait=applied"),
                "{\"type\": \"ArtifactRevised\", \"note\": \"mine\"}",
                owner);
        assertThat(ownerRevised.statusCode()).as(ownerRevised.body()).isEqualTo(200);
        String eventId = JSON.readTree(ownerRevised.body()).path("eventId").asText();
        for (int instance = 0; instance < 2; instance++) {
            HttpResponse<String> outcome = ApiCalls.get(
                    url(instance, "/v1/artifacts/" + artifactId + "/outcomes/" + eventId + "?state=true"), outsider);
            assertThat(outcome.statusCode()).as(outcome.body()).isEqualTo(403);
            assertThat(outcome.body()).doesNotContain(digest);
        }
        // Its bytes, by naming their digest on an artifact of one's own: blob: locators are set by uploads alone.
        HttpResponse<String> copied = ApiCalls.post(
                url(0, "/v1/artifacts"),
                "{\"kind\": \"file\", \"name\": \"copy\", \"parentId\": \"" + PROJECT + "\", \"locator\": \"blob:"
                        + digest + "\", \"provenance\": {}}",
                outsider);
        assertThat(copied.statusCode()).as(copied.body()).isEqualTo(403);
        String mine = created(
                        "/v1/artifacts",
                        "{\"kind\": \"file\", \"name\": \"mine\", \"parentId\": \"" + PROJECT + "\", \"provenance\":"
                                + " {}}",
                        outsider)
                .path("artifactId")
                .asText();
        HttpResponse<String> pointed = ApiCalls.post(
                url(1, "/v1/artifacts/" + mine + "/events"),
                "{\"type\": \"ArtifactRevised\", \"locator\": \"blob:" + digest + "\"}",
                outsider);
        assertThat(pointed.statusCode()).as(pointed.body()).isEqualTo(403);
        HttpResponse<String> elsewhere = ApiCalls.post(
                url(0, "/v1/artifacts"),
                "{\"kind\": \"file\", \"name\": \"copy\", \"parentId\": \"project:attacker/x\", \"locator\": \"blob:"
                        + digest + "\", \"provenance\": {}}",
                otherProject);
        assertThat(elsewhere.statusCode()).as(elsewhere.body()).isEqualTo(403);
        // Nor attach an artifact to a room it is not a writer of.
        HttpResponse<String> attached = ApiCalls.post(
                url(0, "/v1/artifacts"),
                "{\"kind\": \"file\", \"name\": \"planted\", \"parentId\": \"" + PROJECT + "\", \"provenance\":"
                        + " {\"roomId\": \"" + roomId + "\"}}",
                outsider);
        assertThat(attached.statusCode()).as(attached.body()).isEqualTo(403);
        // The room's members still read it.
        HttpResponse<String> content = ApiCalls.get(url(1, "/v1/artifacts/" + artifactId + "/content"), owner);
        assertThat(content.statusCode()).isEqualTo(200);
        assertThat(content.body()).isEqualTo("the private bytes");
        assertThat(ApiCalls.get(url(0, "/v1/artifacts/" + artifactId + "/content"), outsider)
                        .statusCode())
                .isEqualTo(403);
    }

    @Test
    void anObserversAgUiInputIsReadAsAStreamThatKeepsNothing() throws Exception {
        // 12 inputs at the request size limit (2 MiB of messages) with the fields the view needs after them: read
        // through, never held.
        StringBuilder body = new StringBuilder("{\"messages\": [");
        String message = "{\"id\": \"m\", \"role\": \"user\", \"content\": \"" + "x".repeat(1000) + "\"}";
        while (body.length() < HttpApi.maxRequestBytes(1024 * 1024) - 4096) {
            body.append(body.length() < 20 ? "" : ",").append(message);
        }
        body.append("], \"threadId\": \"").append(roomId).append("\", \"runId\": \"r1\"}");
        List<CompletableFuture<HttpResponse<java.io.InputStream>>> sent = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            sent.add(ApiCalls.HTTP.sendAsync(
                    ApiCalls.request(url(i % 2, "/v1/rooms/" + roomId + "/ag-ui"), observerMember)
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                            .build(),
                    HttpResponse.BodyHandlers.ofInputStream()));
        }
        for (CompletableFuture<HttpResponse<java.io.InputStream>> each : sent) {
            HttpResponse<java.io.InputStream> answer = each.join();
            answer.body().close();
            assertThat(answer.statusCode()).isEqualTo(200);
        }
        assertThat(ApiCalls.get(url(0, "/health"), null).statusCode()).isEqualTo(200);
        // 12 bodies of 4 MiB at once (what took the heap before): refused unread.
        String huge = "{\"messages\": [" + "{}, ".repeat(1024 * 1024) + "{}]}";
        List<CompletableFuture<HttpResponse<String>>> refused = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            refused.add(ApiCalls.HTTP.sendAsync(
                    ApiCalls.request(url(i % 2, "/v1/rooms/" + roomId + "/ag-ui"), observerMember)
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(huge))
                            .build(),
                    HttpResponse.BodyHandlers.ofString()));
        }
        for (CompletableFuture<HttpResponse<String>> each : refused) {
            // The server answers 413 without reading on; a client still sending may see the connection closed first.
            int status = each.handle((answer, failure) -> failure != null ? -1 : answer.statusCode())
                    .join();
            assertThat(status).isIn(413, -1);
        }
        // A body on a route that reads none is refused before it is read.
        HttpResponse<String> onRead = ApiCalls.HTTP.send(
                ApiCalls.request(url(0, "/v1/runs?limit=1"), observerMember)
                        .method("GET", HttpRequest.BodyPublishers.ofString("z".repeat(1024 * 1024)))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(onRead.statusCode()).isEqualTo(413);
    }

    @Test
    void readsWaitingForTheBlobIndexHoldNoThreadAndAreBoundedPerToken() throws Exception {
        // An artifact naming a blob that never arrives (appended with the Java client, as a service with Kafka
        // access may): every read of its content waits for the index.
        String missing = "sha256:" + "ab".repeat(32);
        String ghost = "artifact-ghost-" + UUID.randomUUID();
        instances
                .get(0)
                .client
                .append(
                        EntityKind.ARTIFACT,
                        ArtifactEvent.newBuilder()
                                .setEventId(UUID.randomUUID().toString())
                                .setArtifactId(ghost)
                                .setOccurredAt(Instant.now())
                                .setActor("root")
                                .setCorrelation(Correlation.newBuilder().build())
                                .setPayload(ArtifactRegistered.newBuilder()
                                        .setKind("file")
                                        .setName("ghost")
                                        .setParentId(PROJECT)
                                        .setLocator("blob:" + missing)
                                        .setProvenance(Provenance.newBuilder().build())
                                        .build())
                                .build())
                .join();
        await().atMost(Duration.ofSeconds(30))
                .until(() ->
                        ApiCalls.get(url(0, "/v1/artifacts/" + ghost), admin).statusCode() == 200);
        List<String> readers = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            readers.add(instances.get(0).mint("reader-" + i, Role.OBSERVER));
        }
        List<CompletableFuture<HttpResponse<String>>> waiting = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            waiting.add(ApiCalls.HTTP.sendAsync(
                    ApiCalls.request(url(0, "/v1/artifacts/" + ghost + "/content?timeoutMs=8000"), readers.get(i % 5))
                            .timeout(Duration.ofSeconds(60))
                            .build(),
                    HttpResponse.BodyHandlers.ofString()));
        }
        // While 300 reads wait, the instance answers everyone else (the time is printed, not asserted).
        long slowestHealthNanos = 0;
        for (int i = 0; i < 5; i++) {
            long asked = System.nanoTime();
            HttpResponse<String> health = ApiCalls.HTTP.send(
                    ApiCalls.request(url(0, "/health"), null)
                            .timeout(Duration.ofSeconds(5))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(health.statusCode()).isEqualTo(200);
            slowestHealthNanos = Math.max(slowestHealthNanos, System.nanoTime() - asked);
            assertThat(ApiCalls.get(url(0, "/v1/runs?limit=1"), admin).statusCode())
                    .isEqualTo(200);
        }
        System.out.printf(
                "GET /health under 300 blob-index waits: slowest of 5 answered in %.1f ms%n", slowestHealthNanos / 1e6);
        List<Integer> statuses = new ArrayList<>();
        for (CompletableFuture<HttpResponse<String>> each : waiting) {
            statuses.add(each.join().statusCode());
        }
        assertThat(statuses).as("each read waited and was told to try again").containsOnly(503);
        // One token holds a bounded number of such waits: past it, 429 at once.
        List<CompletableFuture<HttpResponse<String>>> flood = new ArrayList<>();
        for (int i = 0; i < 80; i++) {
            flood.add(ApiCalls.HTTP.sendAsync(
                    ApiCalls.request(url(0, "/v1/artifacts/" + ghost + "/content?timeoutMs=3000"), readers.get(0))
                            .build(),
                    HttpResponse.BodyHandlers.ofString()));
        }
        assertThat(flood.stream().map(each -> each.join().statusCode()))
                .contains(429)
                .containsOnly(429, 503);
    }

    @Test
    void aRevokedTokensStreamsEndOnEveryInstance() throws Exception {
        String follower = instances.get(0).mint("watcher", Role.OBSERVER);
        await().atMost(Duration.ofSeconds(30))
                .until(() -> ApiCalls.get(url(1, "/v1/whoami"), follower).statusCode() == 200);
        List<SseConnection> streams = new ArrayList<>();
        for (int instance = 0; instance < 2; instance++) {
            streams.add(SseConnection.open(
                    ApiCalls.HTTP,
                    url(instance, "/v1/rooms/" + roomId + "/stream"),
                    Map.of("Authorization", "Bearer " + follower)));
        }
        for (SseConnection stream : streams) {
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> !stream.comments().isEmpty());
            assertThat(stream.status()).isEqualTo(200);
        }
        HttpResponse<String> revoked = ApiCalls.HTTP.send(
                ApiCalls.request(url(0, "/v1/tokens/" + tokenIdOf(follower)), admin)
                        .DELETE()
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(revoked.statusCode()).isEqualTo(204);
        long revokedAt = System.nanoTime();
        for (SseConnection stream : streams) {
            await().atMost(Duration.ofSeconds(5)).until(stream::ended);
            System.out.printf(
                    "A revoked token's stream ended %.0f ms after the revocation was answered%n",
                    (System.nanoTime() - revokedAt) / 1e6);
            assertThat(stream.events())
                    .anySatisfy(event -> assertThat(event.data()).contains("token-revoked"));
            stream.close();
        }
    }

    @Test
    void anAppendedEventIsAnsweredAsAppendedWhateverItsWaitMeets() throws Exception {
        String runId = created("/v1/runs", "{\"project\": \"" + PROJECT + "\"}", admin)
                .path("runId")
                .asText();
        // More waits at once than an instance holds for one token and in all: each past the bounds is still told the
        // truth (202 pending with its position), never a 4xx that would make a retry append it twice.
        List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
        for (int i = 0; i < 120; i++) {
            sent.add(ApiCalls.HTTP.sendAsync(
                    ApiCalls.request(url(i % 2, "/v1/runs/" + runId + "/events?wait=applied"), owner)
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(
                                    "{\"type\": \"RunLabelled\", \"labels\": {\"n\": \"" + i + "\"}}"))
                            .build(),
                    HttpResponse.BodyHandlers.ofString()));
        }
        for (CompletableFuture<HttpResponse<String>> each : sent) {
            HttpResponse<String> answer = each.join();
            assertThat(answer.statusCode()).as(answer.body()).isIn(200, 202);
            assertThat(JSON.readTree(answer.body()).path("position").asText()).isNotEmpty();
        }
    }

    @Test
    void numbersAndTextPastWhatTheyHoldAreRefused() throws Exception {
        assertThat(ApiCalls.get(url(0, "/v1/rooms/" + roomId + "/transcript?after=9223372036854775807"), owner)
                        .statusCode())
                .isEqualTo(400);
        HttpResponse<String> stream = ApiCalls.HTTP.send(
                ApiCalls.request(url(0, "/v1/rooms/" + roomId + "/stream"), owner)
                        .header("Last-Event-ID", "9223372036854775807")
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(stream.statusCode()).isEqualTo(400);
        // Half of an emoji in one delta: refused, never stored as '?'.
        HttpResponse<String> split = ApiCalls.post(
                url(0, "/v1/rooms/" + roomId + "/events"),
                "{\"type\": \"TextDelta\", \"blockId\": \"b1\", \"text\": \"hi \\ud83d\"}",
                owner);
        assertThat(split.statusCode()).as(split.body()).isEqualTo(400);
        assertThat(split.body()).contains("surrogate");
        // Trailing data after the body's JSON is not ignored.
        HttpResponse<String> trailing =
                ApiCalls.post(url(0, "/v1/runs"), "{\"project\": \"" + PROJECT + "\"} {\"x\": 1}", owner);
        assertThat(trailing.statusCode()).as(trailing.body()).isEqualTo(400);
    }

    @Test
    void listCursorsNameNoEntityAndCannotBeForged() throws Exception {
        for (int i = 0; i < 3; i++) {
            created("/v1/runs", "{\"project\": \"project:cursor/x\"}", admin);
        }
        HttpResponse<String> page = ApiCalls.get(url(0, "/v1/runs?project=project:cursor/x&limit=1"), admin);
        JsonNode answer = JSON.readTree(page.body());
        String cursor = answer.path("nextCursor").asText();
        String listed = answer.path("items").get(0).path("runId").asText();
        assertThat(cursor).startsWith("c2.");
        assertThat(new String(Base64.getUrlDecoder().decode(cursor.substring(3)), StandardCharsets.ISO_8859_1))
                .doesNotContain(listed);
        assertThat(ApiCalls.get(url(1, "/v1/runs?project=project:cursor/x&limit=1&cursor=" + cursor), admin)
                        .statusCode())
                .isEqualTo(200);
        // One character in the middle changed (the last may carry only padding bits, which decoding drops).
        int middle = cursor.length() / 2;
        char was = cursor.charAt(middle);
        String altered = cursor.substring(0, middle) + (was == 'A' ? 'B' : 'A') + cursor.substring(middle + 1);
        assertThat(ApiCalls.get(url(0, "/v1/runs?project=project:cursor/x&limit=1&cursor=" + altered), admin)
                        .statusCode())
                .isEqualTo(400);
        String plain = Base64.getUrlEncoder()
                .withoutPadding()
                .encodeToString(("c1:0000000000000000:" + listed).getBytes(StandardCharsets.UTF_8));
        assertThat(ApiCalls.get(url(0, "/v1/runs?project=project:cursor/x&limit=1&cursor=" + plain), admin)
                        .statusCode())
                .isEqualTo(400);
    }
}
