package dev.substrate.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.substrate.api.auth.Role;
import dev.substrate.api.auth.TokenFile;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.testing.KafkaCluster;
import dev.substrate.testing.SharedKafka;
import dev.substrate.testing.SseConnection;
import dev.substrate.testing.TestSettings;
import dev.substrate.topic.TopicSetup;
import dev.substrate.topic.Topics;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Bearer tokens never reach a log: every line two instances log (libraries at INFO, Substrate at DEBUG) while they serve
 * good, bad and malformed tokens, forward requests to each other in the caller's name and stream a room, is
 * searched for every token used; and the token file holds hashes only.
 */
@ExtendWith(SharedKafka.class)
@Timeout(300)
class TokenSecrecyIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void noTokenAppearsInAnyLogLine(KafkaCluster kafka) throws Exception {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        Logger substrate = context.getLogger("dev.substrate");
        Level substrateLevel = substrate.getLevel();
        Level rootLevel = root.getLevel();
        ListAppender<ILoggingEvent> captured = new ListAppender<>();
        captured.setContext(context);
        captured.start();
        root.addAppender(captured);
        // More than the product logs by default (WARN): every library at INFO, Substrate's own code at DEBUG.
        root.setLevel(Level.INFO);
        substrate.setLevel(Level.DEBUG);
        List<ApiInstance> instances = new ArrayList<>();
        Path tokensFile = dir.resolve("tokens.json");
        TokenFile tokens = new TokenFile(tokensFile);
        String admin = tokens.create("admin", Set.of(Role.ADMIN));
        String observer = tokens.create("watcher", Set.of(Role.OBSERVER));
        String unknown = "sbt_" + UUID.randomUUID().toString().replace("-", "");
        try {
            String prefix = "secret" + UUID.randomUUID().toString().substring(0, 6) + ".";
            for (String name : List.of("a", "b")) {
                SubstrateConfig config = SubstrateConfig.of(TestSettings.of(
                        kafka,
                        prefix,
                        dir.resolve(name),
                        prefix + "app",
                        "http.port",
                        "0",
                        "commit.interval.ms",
                        "50"));
                if (instances.isEmpty()) {
                    try (Admin adminClient = kafka.admin()) {
                        TopicSetup.ensure(adminClient, Topics.from(config), 4, (short) -1);
                    }
                }
                instances.add(ApiInstance.start(config, new TokenFile(tokensFile)));
            }
            for (ApiInstance instance : instances) {
                await().atMost(Duration.ofMinutes(2))
                        .until(() ->
                                ApiCalls.get(instance.url() + "/ready", null).statusCode() == 200);
            }
            String a = instances.get(0).url();
            String b = instances.get(1).url();
            int calls = 0;
            for (int i = 0; i < 20; i++) {
                var created = ApiCalls.post(
                        a + "/v1/runs?wait=applied",
                        "{\"scope\": \"shared\", \"project\": \"project:secret\", \"activation\": {\"surface\":"
                                + " \"operator\", \"actor\": \"ops\"}}",
                        admin);
                assertThat(created.statusCode()).as(created.body()).isEqualTo(200);
                String runId = JSON.readTree(created.body()).get("runId").asText();
                // Half of these are forwarded to the other instance with the caller's token.
                assertThat(ApiCalls.get(b + "/v1/runs/" + runId, admin).statusCode())
                        .isEqualTo(200);
                assertThat(ApiCalls.get(b + "/v1/runs/" + runId, observer).statusCode())
                        .isEqualTo(200);
                assertThat(ApiCalls.get(a + "/v1/runs/" + runId, unknown).statusCode())
                        .isEqualTo(401);
                calls += 4;
            }
            assertThat(ApiCalls.get(b + "/v1/runs?limit=5", admin).statusCode()).isEqualTo(200);
            var basic = ApiCalls.request(a + "/v1/runs", null)
                    .header(
                            "Authorization",
                            "Basic "
                                    + Base64.getEncoder()
                                            .encodeToString(("x:" + admin).getBytes(StandardCharsets.UTF_8)))
                    .GET()
                    .build();
            assertThat(ApiCalls.HTTP
                            .send(basic, HttpResponse.BodyHandlers.ofString())
                            .statusCode())
                    .isEqualTo(401);
            var room = ApiCalls.post(
                    a + "/v1/rooms?wait=applied",
                    "{\"kind\": \"session\", \"project\": \"project:secret\", \"members\": []}",
                    admin);
            String roomId = JSON.readTree(room.body()).get("roomId").asText();
            try (SseConnection stream = SseConnection.open(
                    HttpClient.newHttpClient(),
                    b + "/v1/rooms/" + roomId + "/stream?from=start",
                    Map.of("Authorization", "Bearer " + admin))) {
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> !stream.events().isEmpty());
            }
            calls += 4;

            String tokenFile = Files.readString(tokensFile);
            assertThat(tokenFile).doesNotContain(admin).doesNotContain(observer);
            List<String> lines = new ArrayList<>();
            for (ILoggingEvent event : captured.list) {
                lines.add(event.getFormattedMessage()
                        + (event.getThrowableProxy() == null
                                ? ""
                                : ThrowableProxyUtil.asString(event.getThrowableProxy())));
            }
            System.out.printf(
                    "Token secrecy: %d requests with 3 tokens; %d log lines searched; none holds a token%n",
                    calls, lines.size());
            assertThat(lines).isNotEmpty();
            for (String token : List.of(admin, observer, unknown)) {
                assertThat(lines).noneMatch(line -> line.contains(token));
                // Not even the part after a prefix, in case a line cut it.
                assertThat(lines).noneMatch(line -> line.contains(token.substring(token.length() - 16)));
            }
        } finally {
            instances.forEach(ApiInstance::close);
            root.detachAppender(captured);
            substrate.setLevel(substrateLevel);
            root.setLevel(rootLevel);
        }
    }
}
