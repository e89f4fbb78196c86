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
    /** Whether this process writes the class archive the later ones start from, when it exits. */
    private final boolean archiving;

    private SubstrateProcess(Process process, Path stdout, Path stderr, boolean archiving) {
        this.process = process;
        this.stdout = stdout;
        this.stderr = stderr;
        this.archiving = archiving;
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
        boolean archiving = ClassArchive.addOptions(command, args.length > 0 && args[0].equals("dev"));
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
            return new SubstrateProcess(builder.start(), stdout, stderr, archiving);
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
        if (archiving) {
            ClassArchive.written();
        }
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
        int exitCode = awaitExit(Duration.ofSeconds(30));
        if (archiving) {
            ClassArchive.written();
        }
        return exitCode;
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
        if (archiving) {
            try {
                process.waitFor(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            ClassArchive.written();
        }
        Files.deleteIfExists(stdout);
        Files.deleteIfExists(stderr);
    }

    /**
     * A class data sharing archive of the jar's classes (the JDK's AppCDS), so that a test's process maps the classes
     * it loads instead of reading and verifying them again: a {@code substrate dev} took about 9 s of CPU to be ready
     * without it and about 6 s with it. The first {@code dev} process of a build writes it when it exits (one at a
     * time may: the others start without it meanwhile); a jar built again gets an archive of its own. The JVM's CDS
     * messages are off, so that a test reads only what substrate printed.
     */
    private static final class ClassArchive {

        private static final Path ARCHIVE = archive();
        private static final Path WRITING = Path.of(ARCHIVE + ".writing");

        private static Path archive() {
            try {
                return JAR.resolveSibling("substrate-" + Files.size(JAR) + "-"
                        + Files.getLastModifiedTime(JAR).toMillis() + ".jsa");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /**
         * Adds the archive's options to {@code command}; true when this process is to write it at its exit. Only a
         * {@code dev} process writes it ({@code mayWrite}): it loads the most (broker, fold, HTTP).
         */
        static synchronized boolean addOptions(List<String> command, boolean mayWrite) {
            if (Files.exists(ARCHIVE)) {
                command.add("-XX:SharedArchiveFile=" + ARCHIVE);
                command.add("-Xlog:cds=off");
                return false;
            }
            if (!mayWrite) {
                return false;
            }
            try {
                Files.createFile(WRITING); // one writer among the build's JVMs
            } catch (IOException e) {
                return false;
            }
            command.add("-XX:ArchiveClassesAtExit=" + WRITING);
            command.add("-Xlog:cds=off");
            return true;
        }

        /** The writer has exited: its archive is complete (a JVM writes it on its way out), or there is none. */
        static synchronized void written() {
            try {
                if (Files.size(WRITING) > 0) {
                    Files.move(WRITING, ARCHIVE, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                } else {
                    // Killed before it could write: the next process tries.
                    Files.deleteIfExists(WRITING);
                }
            } catch (IOException e) {
                // Another JVM of the build moved or removed it: nothing to do.
            }
        }
    }
}
