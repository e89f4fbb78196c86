package dev.substrate.cli;

import dev.substrate.config.ClientVariable;
import dev.substrate.local.LocalRuns;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Where the local store is: {@code --local-db}, else SUBSTRATE_LOCAL_DB, else ./.substrate/local.db. */
final class LocalStoreOptions {

    @Option(
            names = "--local-db",
            paramLabel = "FILE",
            description = "The local store (default: SUBSTRATE_LOCAL_DB, else ./.substrate/local.db).")
    Path file;

    Path file() {
        if (file != null) {
            return file;
        }
        return ClientVariable.LOCAL_DB.in(System.getenv()).map(Path::of).orElse(LocalRuns.DEFAULT_FILE);
    }

    LocalRuns open() {
        return LocalRuns.open(file());
    }

    /**
     * Who local events are appended as: SUBSTRATE_ACTOR, else {@code local:} and the user name (the substrate
     * keeps it when the run is shared).
     */
    static String actor() {
        return ClientVariable.ACTOR.in(System.getenv()).orElse("local:" + System.getProperty("user.name", "someone"));
    }
}
