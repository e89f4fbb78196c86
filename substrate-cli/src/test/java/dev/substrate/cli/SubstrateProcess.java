package dev.substrate.cli;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The real {@code substrate} command in a child JVM, run from the jar the build produced, as a user runs it.
 * Its output is collected line by line; {@link #stop()} sends SIGTERM, as Ctrl-C or a process manager would.
 */
final class SubstrateProcess implements AutoCloseable {

    private static final Path JAR = Path.of("target", "substrate.jar");

    private final Process process;
    private final Path stdout;
    private final Path stderr;

    private SubstrateProcess(Process process, Path stdout, Path stderr) {
        this.process = process;
        this.stdout = stdout;
        this.stderr = stderr;
    }

    /**
     * JVM options of the processes a test starts: the client compiler alone and the serial collector. A test's
     * process lives seconds, and the tests run two at a time on two cores: C2's compile threads and a parallel
     * collector's threads would take the cores from the work itself.
     */
    static final List<String> QUICK_JVM = List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC");

    static SubstrateProcess start(Map<String, String> environment, String... args) {
        return startWithHeap("512m", environment, args);
    }

    /** {@link #start}, with a heap of at most {@code maxHeap} ({@code -Xmx}). */
    static SubstrateProcess startWithHeap(String maxHeap, Map<String, String> environment, String... args) {
        if (!Files.exists(JAR)) {
            throw new IllegalStateException(JAR.toAbsolutePath() + " is missing: integration tests run after package");
        }
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx" + maxHeap);
        command.addAll(QUICK_JVM);
        command.add("-jar");
        command.add(JAR.toString());
        command.addAll(List.of(args));
        try {
            // Output goes to files, not pipes: a pipe read while the process exits can fail with "Stream closed".
            Path stdout = Files.createTempFile("substrate-", ".out");
            Path stderr = Files.createTempFile("substrate-", ".err");
            ProcessBuilder builder =
                    new ProcessBuilder(command).redirectOutput(stdout.toFile()).redirectError(stderr.toFile());
            builder.environment().keySet().removeIf(name -> name.startsWith("SUBSTRATE_"));
            builder.environment().putAll(environment);
            return new SubstrateProcess(builder.start(), stdout, stderr);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<String> lines(Path file) {
        try {
            return Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Waits until a line of standard output matches {@code regex}, and returns its first group (or the line). */
    String awaitOutput(String regex, Duration timeout) {
        Pattern pattern = Pattern.compile(regex);
        return await("stdout line matching " + regex)
                .atMost(timeout)
                .pollInterval(Duration.ofMillis(100))
                .until(() -> find(pattern), Optional::isPresent)
                .orElseThrow();
    }

    private Optional<String> find(Pattern pattern) {
        boolean exited = !process.isAlive();
        List<String> out = stdout();
        for (String line : out) {
            Matcher matcher = pattern.matcher(line);
            if (matcher.find()) {
                return Optional.of(matcher.groupCount() > 0 ? matcher.group(1) : line);
            }
        }
        if (exited) {
            throw new IllegalStateException(
                    "substrate exited with " + process.exitValue() + "; stdout: " + out + "; stderr: " + stderr());
        }
        return Optional.empty();
    }

    /**
     * The exit code of a JVM that shut down cleanly on SIGTERM: 128 + 15, as for any process ended by that signal
     * (what {@code kafka-server-stop.sh} leaves for a Kafka broker too).
     */
    static final int EXIT_ON_SIGTERM = 143;

    /**
     * Sends SIGTERM, waits for the process to end, and returns its exit code; the process must have said
     * "Stopped." on its way out, which it does only once everything it started is closed.
     */
    int stop() throws InterruptedException {
        process.destroy();
        int exitCode = awaitExit(Duration.ofSeconds(60));
        if (!stdout().contains("Stopped.")) {
            throw new IllegalStateException(
                    "substrate did not stop cleanly; stdout: " + stdout() + "; stderr: " + stderr());
        }
        return exitCode;
    }

    /**
     * Kills the process with SIGKILL, as the kernel's OOM killer or a power cut would: nothing runs on its way
     * out. Returns its exit code (128 + 9).
     */
    int kill() throws InterruptedException {
        process.destroyForcibly();
        return awaitExit(Duration.ofSeconds(30));
    }

    /** Waits for the process to end by itself and returns its exit code. */
    int awaitExit(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException("substrate did not exit within " + timeout + "; stdout: " + stdout());
        }
        return process.exitValue();
    }

    List<String> stdout() {
        return lines(stdout);
    }

    List<String> stderr() {
        return lines(stderr);
    }

    @Override
    public void close() throws IOException {
        process.destroyForcibly();
        Files.deleteIfExists(stdout);
        Files.deleteIfExists(stderr);
    }
}
