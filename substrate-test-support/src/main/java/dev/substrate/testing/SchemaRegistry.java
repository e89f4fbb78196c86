package dev.substrate.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ExtensionContext.Namespace;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * One real Confluent-compatible Schema Registry for the whole test JVM: Apicurio Registry 3 (its Confluent API
 * under {@code /apis/ccompat/v7}), started on loopback on first use and stopped when the JVM's tests are done.
 * Tests receive its Confluent API base URL as a {@link Registry} parameter. Tests share it, so each uses subjects
 * (topic prefixes) of its own.
 *
 * <p>The registry's distribution is unpacked by the build into the folder the system property {@value
 * #DIST_PROPERTY} names; it needs Java 21 or newer, taken from {@value #JAVA_ENV} (which CI sets), this JVM if new
 * enough, or the first such JDK under {@code /usr/lib/jvm}. Where either is missing, the test is skipped, saying
 * which.
 */
public final class SchemaRegistry implements ParameterResolver {

    /** The system property naming the unpacked Apicurio Registry distribution (holding quarkus-run.jar). */
    public static final String DIST_PROPERTY = "substrate.test.registry.dir";
    /** The environment variable naming a Java 21+ home to run the registry on. */
    public static final String JAVA_ENV = "SUBSTRATE_TEST_REGISTRY_JAVA_HOME";

    private static final Namespace NAMESPACE = Namespace.create(SchemaRegistry.class);
    private static final Duration START_TIMEOUT = Duration.ofMinutes(3);

    /** A running registry: {@link #url()} is the base URL of its Confluent-compatible API. */
    public interface Registry {
        /** E.g. {@code http://127.0.0.1:41234/apis/ccompat/v7}. */
        String url();
    }

    @Override
    public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return parameterContext.getParameter().getType() == Registry.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return extensionContext
                .getRoot()
                .getStore(NAMESPACE)
                .getOrComputeIfAbsent(Server.class, key -> Server.start(), Server.class);
    }

    /** The Apicurio process, closed by JUnit with the root context at the end of the run. */
    static final class Server implements Registry, AutoCloseable {
        private final Process process;
        private final String url;
        private final Path log;

        private Server(Process process, String url, Path log) {
            this.process = process;
            this.url = url;
            this.log = log;
        }

        static Server start() {
            String dist = System.getProperty(DIST_PROPERTY, "");
            Path jar = Path.of(dist, "quarkus-run.jar");
            Assumptions.assumeTrue(
                    !dist.isEmpty() && Files.isRegularFile(jar),
                    "no Apicurio Registry distribution at " + jar + " (the build unpacks "
                            + "io.apicurio:apicurio-registry-app:tar.gz:all there; it could not be fetched)");
            Optional<Path> java = java21();
            Assumptions.assumeTrue(
                    java.isPresent(),
                    "no Java 21+ to run Apicurio Registry 3 on: set " + JAVA_ENV
                            + " or install one under /usr/lib/jvm");
            int port = freePort();
            int management = freePort();
            try {
                Path log = Files.createTempFile("apicurio-", ".log");
                List<String> command = new ArrayList<>(List.of(
                        java.get().resolve("bin").resolve("java").toString(),
                        "-Xmx384m",
                        // A registry for a test run: quick to start, small; C2 and a parallel collector would take
                        // the cores the tests run on.
                        "-XX:TieredStopAtLevel=1",
                        "-XX:+UseSerialGC",
                        "-Dquarkus.http.host=127.0.0.1",
                        "-Dquarkus.http.port=" + port,
                        "-Dquarkus.management.host=127.0.0.1",
                        "-Dquarkus.management.port=" + management,
                        "-jar",
                        jar.toString()));
                Process process = new ProcessBuilder(command)
                        .directory(jar.getParent().toFile())
                        .redirectErrorStream(true)
                        .redirectOutput(log.toFile())
                        .start();
                Server server = new Server(process, "http://127.0.0.1:" + port + "/apis/ccompat/v7", log);
                server.awaitReady();
                return server;
            } catch (IOException e) {
                throw new UncheckedIOException("Cannot start Apicurio Registry", e);
            }
        }

        private void awaitReady() {
            HttpClient http = HttpClient.newBuilder()
                    .connectTimeout(Duration.ofSeconds(2))
                    .build();
            long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
            while (System.nanoTime() < deadline) {
                if (!process.isAlive()) {
                    throw new IllegalStateException("Apicurio Registry exited at start: " + tail());
                }
                try {
                    HttpResponse<String> response = http.send(
                            HttpRequest.newBuilder(URI.create(url + "/subjects"))
                                    .timeout(Duration.ofSeconds(2))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
                    if (response.statusCode() == 200) {
                        return;
                    }
                } catch (IOException e) {
                    // Not listening yet.
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("Interrupted while Apicurio Registry started", e);
                }
                try {
                    // The registry takes seconds to start; asking every 200 ms is a poll with a deadline.
                    Thread.sleep(200);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("Interrupted while Apicurio Registry started", e);
                }
            }
            process.destroyForcibly();
            throw new IllegalStateException("Apicurio Registry did not answer within " + START_TIMEOUT + ": " + tail());
        }

        private String tail() {
            try {
                List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
                return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
            } catch (IOException e) {
                return "(no log: " + e + ")";
            }
        }

        @Override
        public String url() {
            return url;
        }

        @Override
        public void close() {
            process.destroy();
            try {
                if (!process.waitFor(30, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }

    /** A Java home of version 21 or newer: {@value #JAVA_ENV}, this JVM, or one under /usr/lib/jvm. */
    static Optional<Path> java21() {
        String configured = System.getenv(JAVA_ENV);
        if (configured != null && !configured.isBlank()) {
            return Optional.of(Path.of(configured));
        }
        if (Runtime.version().feature() >= 21) {
            return Optional.of(Path.of(System.getProperty("java.home")));
        }
        Path jvms = Path.of("/usr/lib/jvm");
        if (!Files.isDirectory(jvms)) {
            return Optional.empty();
        }
        try (Stream<Path> homes = Files.list(jvms)) {
            return homes.filter(home -> Files.isExecutable(home.resolve("bin").resolve("java")))
                    .filter(home -> featureVersion(home) >= 21)
                    .max(Comparator.comparingInt(SchemaRegistry::featureVersion));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** The feature version a JDK's {@code release} file names (JAVA_VERSION="25.0.1" gives 25), or 0. */
    private static int featureVersion(Path home) {
        Path release = home.resolve("release");
        if (!Files.isRegularFile(release)) {
            return 0;
        }
        Properties properties = new Properties();
        try (var in = Files.newInputStream(release)) {
            properties.load(in);
        } catch (IOException e) {
            return 0;
        }
        String version = properties.getProperty("JAVA_VERSION", "").replace("\"", "");
        String feature = version.split("[.+-]")[0];
        try {
            return feature.isEmpty() ? 0 : Integer.parseInt(feature);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
