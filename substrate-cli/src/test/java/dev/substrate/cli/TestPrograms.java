package dev.substrate.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/** Programs the integration tests drive when the machine has them (kcat, node); the tests skip without them. */
final class TestPrograms {

    private TestPrograms() {}

    /** Whether {@code program} is an executable on the {@code PATH}. */
    static boolean onPath(String program) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program))) {
                return true;
            }
        }
        return false;
    }
}
