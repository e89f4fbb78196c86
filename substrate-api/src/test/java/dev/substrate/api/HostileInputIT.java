package dev.substrate.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.substrate.api.auth.Role;
import dev.substrate.api.auth.TokenFile;
import dev.substrate.testing.KafkaCluster;
import dev.substrate.testing.SharedKafka;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hostile and malformed HTTP input, sent over raw sockets so that nothing is tidied on the way: every request
 * is answered with a 4xx {@code application/problem+json} or closed, never a 5xx, and the server answers
 * normally afterwards.
 */
@ExtendWith(SharedKafka.class)
@Timeout(180)
class HostileInputIT {

    private static final Logger log = LoggerFactory.getLogger(HostileInputIT.class);

    @TempDir
    static Path dataDir;

    private static ApiInstance instance;
    private static String token;
    private static int port;

    @BeforeAll
    static void start(KafkaCluster kafka) throws Exception {
        TokenFile tokens = new TokenFile(dataDir.resolve("tokens.json"));
        token = tokens.create("admin", Set.of(Role.ADMIN));
        instance = ApiInstance.startReady(kafka, "hostile", dataDir, tokens, "http.idle.timeout.ms", "2000");
        port = instance.api.port();
    }

    @AfterAll
    static void stop() {
        if (instance != null) {
            instance.close();
        }
    }

    @Test
    void malformedBodiesAreRefusedWithProblemsNeverA5xx() throws Exception {
        Map<String, String> bodies = new TreeMap<>();
        bodies.put("truncated object", "{\"scope\": \"shared\"");
        bodies.put("not JSON", "hello, world");
        bodies.put("empty", "");
        bodies.put("array", "[1, 2, 3]");
        bodies.put("null", "null");
        bodies.put("string", "\"run\"");
        bodies.put("number", "12345678901234567890123456789");
        bodies.put("huge exponent", "{\"scope\": 1e999999999}");
        bodies.put("nested arrays 100,000 deep", "[".repeat(100_000) + "]".repeat(100_000));
        bodies.put("nested objects 10,000 deep", "{\"a\":".repeat(10_000) + "1" + "}".repeat(10_000));
        bodies.put("scope of the wrong type", "{\"scope\": 5, \"activation\": {\"surface\": \"operator\"}}");
        bodies.put("labels of the wrong type", "{\"scope\": \"shared\", \"labels\": \"x\"}");
        bodies.put("labels with a null value", "{\"scope\": \"shared\", \"labels\": {\"a\": null}}");
        bodies.put("activation an array", "{\"scope\": \"shared\", \"activation\": []}");
        bodies.put("duplicate keys", "{\"scope\": \"shared\", \"scope\": \"local\"}");
        bodies.put("NUL in a field", "{\"scope\": \"shared\", \"project\": \"a\\u0000b\"}");
        bodies.put("lone surrogate", "{\"scope\": \"shared\", \"project\": \"\\ud800\"}");
        bodies.put("bidi override and emoji id", "{\"runId\": \"\u202Erun-\uD83D\uDE00\", \"scope\": \"shared\"}");
        bodies.put("id of 10,000 characters", "{\"runId\": \"" + "r".repeat(10_000) + "\", \"scope\": \"shared\"}");
        bodies.put(
                "string of 600,000 characters",
                "{\"scope\": \"shared\", \"project\": \"" + "p".repeat(600_000) + "\"}");
        bodies.put("unknown event type", "{\"type\": \"RunExploded\"}");
        bodies.put("event type of the wrong type", "{\"type\": {\"a\": 1}}");

        Map<String, Integer> statuses = new TreeMap<>();
        for (Map.Entry<String, String> body : bodies.entrySet()) {
            for (String path : List.of("/v1/runs", "/v1/runs/run-hostile/events", "/v1/rooms", "/v1/artifacts")) {
                Answer answer = send(
                        request("POST", path, body.getValue().getBytes(StandardCharsets.UTF_8), "application/json"));
                assertAcceptable(body.getKey() + " to " + path, answer);
                statuses.merge(body.getKey() + " " + answer.status, 1, Integer::sum);
            }
        }
        // Bytes that are not UTF-8 at all.
        byte[] invalidUtf8 = {'{', '"', 's', 'c', 'o', 'p', 'e', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'};
        assertAcceptable("invalid UTF-8", send(request("POST", "/v1/runs", invalidUtf8, "application/json")));
        log.info("Malformed bodies: {} kinds x 4 routes; answers {}", bodies.size(), statuses);
        assertHealthy();
    }

    @Test
    void hugeBodiesAndHeadersAreRefused() throws Exception {
        Answer huge = send(request(
                "POST",
                "/v1/runs",
                ("{\"project\": \"" + "x".repeat(5_000_000) + "\"}").getBytes(StandardCharsets.UTF_8),
                "application/json"));
        assertAcceptable("5 MB body", huge);
        assertThat(huge.status).isIn(413, 0);

        String bigHeader = "GET /v1/runs HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + token
                + "\r\nX-Padding: " + "a".repeat(200_000) + "\r\nConnection: close\r\n\r\n";
        Answer bigHeaderAnswer = send(bigHeader.getBytes(StandardCharsets.US_ASCII));
        assertAcceptable("200 kB header", bigHeaderAnswer);

        StringBuilder many = new StringBuilder(
                "GET /v1/runs HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + token + "\r\n");
        for (int i = 0; i < 5_000; i++) {
            many.append("X-H").append(i).append(": v\r\n");
        }
        many.append("Connection: close\r\n\r\n");
        assertAcceptable("5,000 headers", send(many.toString().getBytes(StandardCharsets.US_ASCII)));

        String hugeToken = "GET /v1/runs HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + "t".repeat(7000)
                + "\r\nConnection: close\r\n\r\n";
        Answer refused = send(hugeToken.getBytes(StandardCharsets.US_ASCII));
        assertAcceptable("7 kB token", refused);
        assertThat(refused.status).isIn(401, 431, 0);
        assertHealthy();
    }

    @Test
    void badIdsAndParametersAreRefusedWithProblems() throws Exception {
        List<String> paths = List.of(
                "/v1/runs/%00",
                "/v1/runs/%ZZ",
                "/v1/runs/%C3%28",
                "/v1/runs/..%2F..%2Fetc%2Fpasswd",
                "/v1/runs/" + "x".repeat(6000),
                "/v1/runs/%E2%80%AE%F0%9F%98%80",
                "/v1/runs/run-1/events?after=abc",
                "/v1/runs/run-1/outcomes/%00",
                "/v1/runs?limit=-1",
                "/v1/runs?limit=abc",
                "/v1/runs?limit=99999999999999999999",
                "/v1/runs?cursor=!!!",
                "/v1/runs?cursor=" + "A".repeat(4001),
                "/v1/runs?status=exploded",
                "/v1/runs?label=novalue",
                "/v1/runs?project=" + "%F0%9F%98%80".repeat(100),
                "/v1/runs/run-1?position=xyz",
                "/v1/runs/run-1?position=runs:-1:-1",
                "/v1/runs/run-1?timeoutMs=-5",
                "/v1/rooms/%00/stream",
                "/v1/rooms/room-1/stream?after=-2",
                "/v1/rooms/room-1/stream?view=everything",
                "/v1/rooms/room-1/transcript?after=1e9",
                "/v1/artifacts/%FF/content",
                "/v1/artifacts?parentId=",
                "/%2e%2e/%2e%2e/etc/passwd",
                "/v1/runs/run-1/../../../../tokens.json");
        Map<Integer, Integer> statuses = new TreeMap<>();
        for (String path : paths) {
            Answer answer = send(request("GET", path, null, null));
            assertAcceptable("GET " + path, answer);
            statuses.merge(answer.status, 1, Integer::sum);
        }
        Answer position = send(("GET /v1/runs/run-1 HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + token
                        + "\r\nX-Substrate-Position: \u00ff\u00fe\r\nConnection: close\r\n\r\n")
                .getBytes(StandardCharsets.ISO_8859_1));
        assertAcceptable("binary position header", position);
        assertAcceptable(
                "PATCH", send(request("PATCH", "/v1/runs", "{}".getBytes(StandardCharsets.UTF_8), "application/json")));
        assertAcceptable(
                "wrong content type",
                send(request(
                        "POST", "/v1/runs", "{\"scope\": \"shared\"}".getBytes(StandardCharsets.UTF_8), "text/html")));
        assertAcceptable(
                "garbage request line", send("\u0001\u0002 GARBAGE\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1)));
        assertAcceptable("HTTP/0.9", send("GET /v1/runs\r\n".getBytes(StandardCharsets.US_ASCII)));
        log.info("Bad ids and parameters: {} paths; answers by status {}", paths.size(), statuses);
        assertHealthy();
    }

    @Test
    void slowClientsAreClosedAndDoNotStarveOthers() throws Exception {
        List<Socket> slow = new ArrayList<>();
        try {
            // Half a request each, then silence: a slow-loris attack.
            for (int i = 0; i < 50; i++) {
                Socket socket = new Socket("localhost", port);
                socket.getOutputStream()
                        .write("POST /v1/runs HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n"
                                .getBytes(StandardCharsets.US_ASCII));
                socket.getOutputStream().flush();
                slow.add(socket);
            }
            Socket trickle = new Socket("localhost", port);
            slow.add(trickle);
            trickle.getOutputStream()
                    .write(("POST /v1/runs HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + token
                                    + "\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
                            .getBytes(StandardCharsets.US_ASCII));
            assertHealthy();
            // The idle timeout (2 s here) closes every one of them.
            int closed = 0;
            for (Socket socket : slow) {
                socket.setSoTimeout(15_000);
                try {
                    InputStream in = socket.getInputStream();
                    String answer = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
                    assertThat(answer)
                            .as("answer to a stalled request")
                            .satisfiesAnyOf(
                                    text -> assertThat(text).isEmpty(),
                                    text -> assertThat(text).startsWith("HTTP/1.1 4"));
                    closed++;
                } catch (SocketTimeoutException e) {
                    throw new AssertionError("a stalled connection stayed open for 15 s", e);
                } catch (IOException e) {
                    closed++; // reset by the server
                }
            }
            assertThat(closed).isEqualTo(slow.size());
            log.info(
                    "Slow clients: {} stalled connections, all closed by the server; the API answered meanwhile",
                    closed);
        } finally {
            for (Socket socket : slow) {
                socket.close();
            }
        }
        assertHealthy();
    }

    private void assertHealthy() throws Exception {
        assertThat(ApiCalls.get(instance.url() + "/health", null).statusCode()).isEqualTo(200);
        var created = ApiCalls.post(
                instance.url() + "/v1/runs?wait=applied",
                "{\"scope\": \"shared\", \"project\": \"project:hostile\", \"activation\": {\"surface\": \"operator\", \"actor\": \"ops\"}}",
                token);
        assertThat(created.statusCode()).as(created.body()).isEqualTo(200);
    }

    private static void assertAcceptable(String what, Answer answer) {
        if (answer.status == 0) {
            return; // closed without an answer: acceptable for input that is not HTTP
        }
        // Unusual but valid input (an emoji filter, a long id) may be answered; nothing is ever a 5xx.
        assertThat(answer.status).as("%s: %s", what, answer.text).isBetween(200, 499);
        if (answer.status >= 400) {
            assertThat(answer.contentType()).as("%s: %s", what, answer.text).startsWith("application/problem+json");
        }
    }

    private static byte[] request(String method, String path, byte[] body, String contentType) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        String head = method + " " + path + " HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + token
                + "\r\nConnection: close\r\n"
                + (contentType == null ? "" : "Content-Type: " + contentType + "\r\n")
                + (body == null ? "" : "Content-Length: " + body.length + "\r\n") + "\r\n";
        out.writeBytes(head.getBytes(StandardCharsets.UTF_8));
        if (body != null) {
            out.writeBytes(body);
        }
        return out.toByteArray();
    }

    /** Sends raw bytes and reads the whole answer; status 0 when the server closed without one. */
    private static Answer send(byte[] raw) throws IOException {
        try (Socket socket = new Socket("localhost", port)) {
            socket.setSoTimeout(30_000);
            OutputStream out = socket.getOutputStream();
            try {
                out.write(raw);
                out.flush();
            } catch (IOException e) {
                // The server may answer and close before reading everything (a body over the limit).
            }
            byte[] answer;
            try {
                answer = socket.getInputStream().readAllBytes();
            } catch (IOException e) {
                return new Answer(0, "");
            }
            String text = new String(answer, StandardCharsets.ISO_8859_1);
            if (!text.startsWith("HTTP/1.1 ")) {
                return new Answer(0, text);
            }
            return new Answer(Integer.parseInt(text.substring(9, 12)), text);
        }
    }

    private record Answer(int status, String text) {
        String contentType() {
            for (String line : text.split("\r\n")) {
                if (line.regionMatches(true, 0, "Content-Type:", 0, 13)) {
                    return line.substring(13).strip();
                }
            }
            return "";
        }
    }
}
