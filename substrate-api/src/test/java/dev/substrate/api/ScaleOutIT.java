package dev.substrate.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.substrate.api.auth.Role;
import dev.substrate.api.auth.TokenFile;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.testing.KafkaCluster;
import dev.substrate.testing.SharedKafka;
import dev.substrate.testing.TestSettings;
import dev.substrate.topic.TopicSetup;
import dev.substrate.topic.Topics;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two instances of one application on one broker, each holding part of the state: every key is answered by
 * both (forwarded to its owner), a paged list across both yields each item exactly once, a write taken by one
 * is read at its position on the other, and a rebalance answers 503 with Retry-After, never a 500.
 */
@ExtendWith(SharedKafka.class)
@Timeout(300)
class ScaleOutIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final int RUNS = 40;

    @TempDir
    Path shared;

    @TempDir
    Path dirA;

    @TempDir
    Path dirB;

    @TempDir
    Path dirC;

    private KafkaCluster kafka;
    private String prefix;
    private String token;
    private final List<ApiInstance> instances = new ArrayList<>();

    @BeforeEach
    void start(KafkaCluster kafka) throws Exception {
        this.kafka = kafka;
        prefix = "scale" + UUID.randomUUID().toString().substring(0, 6) + ".";
        try (Admin admin = kafka.admin()) {
            TopicSetup.ensure(admin, Topics.from(config(dirA)), 6, (short) -1);
        }
        token = new TokenFile(shared.resolve("tokens.json")).create("ops", Set.of(Role.OPERATOR));
        instances.add(ApiInstance.start(config(dirA), tokens()));
        instances.add(ApiInstance.start(config(dirB), tokens()));
        awaitBothHoldState();
    }

    @AfterEach
    void stop() {
        instances.forEach(ApiInstance::close);
    }

    @Test
    void everyKeyIsAnsweredByBothInstancesAndListsPageAcrossThemExactlyOnce() throws Exception {
        String a = instances.get(0).url();
        String b = instances.get(1).url();
        List<String> runIds = new ArrayList<>();
        for (int i = 0; i < RUNS; i++) {
            HttpResponse<String> created = send(
                    i % 2 == 0 ? a : b,
                    "POST",
                    "/v1/runs?wait=applied&timeoutMs=30000",
                    run("project:scale"),
                    Map.of());
            assertThat(created.statusCode()).as(created.body()).isEqualTo(200);
            runIds.add(JSON.readTree(created.body()).get("runId").asText());
        }

        Set<String> owners = new HashSet<>();
        for (String runId : runIds) {
            HttpResponse<String> fromA = send(a, "GET", "/v1/runs/" + runId, null, Map.of());
            HttpResponse<String> fromB = send(b, "GET", "/v1/runs/" + runId, null, Map.of());
            assertThat(fromA.statusCode()).as(fromA.body()).isEqualTo(200);
            assertThat(fromB.statusCode()).as(fromB.body()).isEqualTo(200);
            assertThat(JSON.readTree(fromA.body())).isEqualTo(JSON.readTree(fromB.body()));
            String owner = fromA.headers().firstValue("X-Substrate-Answered-By").orElseThrow();
            assertThat(fromB.headers().firstValue("X-Substrate-Answered-By")).contains(owner);
            owners.add(owner);
        }
        assertThat(owners).as("both instances hold some of the runs").hasSize(2);

        assertThat(pageThrough(a, b, "/v1/runs?limit=7")).containsExactlyInAnyOrderElementsOf(runIds);
        assertThat(pageThrough(b, a, "/v1/runs?project=project:scale&limit=6"))
                .containsExactlyInAnyOrderElementsOf(runIds);
    }

    @Test
    void aWriteTakenByOneInstanceIsReadAtItsPositionOnTheOther() throws Exception {
        String a = instances.get(0).url();
        String b = instances.get(1).url();
        for (int i = 0; i < 15; i++) {
            JsonNode created = JSON.readTree(
                    send(a, "POST", "/v1/runs", run("project:ryw"), Map.of()).body());
            String runId = created.get("runId").asText();
            HttpResponse<String> read = send(
                    b,
                    "GET",
                    "/v1/runs/" + runId,
                    null,
                    Map.of("X-Substrate-Position", created.get("position").asText()));
            assertThat(read.statusCode()).as(read.body()).isEqualTo(200);

            JsonNode started = JSON.readTree(
                    send(b, "POST", "/v1/runs/" + runId + "/events", "{\"type\": \"RunStarted\"}", Map.of())
                            .body());
            JsonNode run = JSON.readTree(send(
                            a,
                            "GET",
                            "/v1/runs/" + runId + "?position="
                                    + started.get("position").asText(),
                            null,
                            Map.of())
                    .body());
            assertThat(run.get("status").asText()).isEqualTo("running");
            assertThat(run.get("version").asLong()).isEqualTo(2);
        }
    }

    @Test
    void artifactContentPutOnOneInstanceIsReadFromTheOther() throws Exception {
        String a = instances.get(0).url();
        String b = instances.get(1).url();
        HttpResponse<String> register = send(
                a,
                "POST",
                "/v1/artifacts?wait=applied",
                "{\"kind\": \"build_log\", \"name\": \"build.log\", \"parentId\": \"project:scale\", \"provenance\": {}}",
                Map.of());
        assertThat(register.statusCode()).as(register.body()).isEqualTo(200);
        JsonNode registered = JSON.readTree(register.body());
        String artifactId = registered.get("artifactId").asText();
        HttpResponse<String> put = HTTP.send(
                HttpRequest.newBuilder(URI.create(b + "/v1/artifacts/" + artifactId + "/content?wait=applied"))
                        .header("Authorization", "Bearer " + token)
                        .header("Content-Type", "text/plain")
                        .PUT(HttpRequest.BodyPublishers.ofString("line 1\nline 2\n"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
        HttpResponse<String> content = send(a, "GET", "/v1/artifacts/" + artifactId + "/content", null, Map.of());
        assertThat(content.statusCode()).isEqualTo(200);
        assertThat(content.body()).isEqualTo("line 1\nline 2\n");
        assertThat(content.headers().firstValue("Content-Type"))
                .hasValueSatisfying(type -> assertThat(type).startsWith("text/plain"));
        assertThat(content.headers().firstValue("X-Substrate-Digest"))
                .contains(JSON.readTree(put.body()).get("digest").asText());
    }

    @Test
    void aRebalanceAnswers503WithRetryAfterNeverA500() throws Exception {
        String a = instances.get(0).url();
        List<String> runIds = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            runIds.add(JSON.readTree(send(a, "POST", "/v1/runs?wait=applied", run("project:rebalance"), Map.of())
                            .body())
                    .get("runId")
                    .asText());
        }
        // A third instance joins: partitions move while the two answer.
        instances.add(ApiInstance.start(config(dirC), tokens()));
        Map<Integer, Integer> statuses = new HashMap<>();
        long until = System.nanoTime() + Duration.ofSeconds(8).toNanos();
        int i = 0;
        while (System.nanoTime() < until) {
            String url = instances.get(i % 3).url();
            HttpResponse<String> answer = i % 4 == 3
                    ? send(url, "GET", "/v1/runs?limit=5", null, Map.of())
                    : send(url, "GET", "/v1/runs/" + runIds.get(i % runIds.size()), null, Map.of());
            statuses.merge(answer.statusCode(), 1, Integer::sum);
            if (answer.statusCode() == 503) {
                assertThat(answer.headers().firstValue("Retry-After")).isPresent();
                assertThat(answer.headers().firstValue("Content-Type"))
                        .hasValueSatisfying(type -> assertThat(type).startsWith("application/problem+json"));
            }
            i++;
        }
        assertThat(statuses.keySet()).as("statuses seen: %s", statuses).isSubsetOf(200, 503);
        assertThat(statuses).containsKey(200);
        awaitReady(instances.get(2).url());
        for (String runId : runIds) {
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> send(instances.get(2).url(), "GET", "/v1/runs/" + runId, null, Map.of())
                                    .statusCode()
                            == 200);
        }
    }

    private static String run(String project) {
        return "{\"scope\": \"shared\", \"project\": \"" + project
                + "\", \"activation\": {\"surface\": \"operator\", \"actor\": \"ops\"}}";
    }

    /** Follows nextCursor to the end, alternating between two instances; returns the run ids in page order. */
    private List<String> pageThrough(String first, String second, String path) throws Exception {
        List<String> seen = new ArrayList<>();
        String cursor = null;
        int page = 0;
        do {
            String url = page % 2 == 0 ? first : second;
            HttpResponse<String> answer =
                    send(url, "GET", path + (cursor == null ? "" : "&cursor=" + cursor), null, Map.of());
            assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
            JsonNode body = JSON.readTree(answer.body());
            body.get("items").forEach(item -> seen.add(item.get("runId").asText()));
            cursor = body.get("nextCursor").isNull()
                    ? null
                    : body.get("nextCursor").asText();
            page++;
        } while (cursor != null);
        assertThat(page).as("several pages").isGreaterThan(3);
        return seen;
    }

    private void awaitBothHoldState() {
        instances.forEach(instance -> awaitReady(instance.url()));
    }

    /** Until the instance is ready and its fold is running: the group has settled, no partition is moving. */
    private void awaitReady(String url) {
        await().atMost(Duration.ofSeconds(90)).until(() -> {
            HttpResponse<String> ready = send(url, "GET", "/ready", null, Map.of());
            return ready.statusCode() == 200 && ready.body().contains("\"running\"");
        });
    }

    private TokenFile tokens() {
        return new TokenFile(shared.resolve("tokens.json"));
    }

    private SubstrateConfig config(Path dataDir) {
        return SubstrateConfig.of(
                TestSettings.of(kafka, prefix, dataDir, prefix + "app", "commit.interval.ms", "50", "http.port", "0"));
    }

    private HttpResponse<String> send(String url, String method, String path, String body, Map<String, String> headers)
            throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url + path))
                .header("Authorization", "Bearer " + token)
                .method(
                        method,
                        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            request.header("Content-Type", "application/json");
        }
        headers.forEach(request::header);
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
