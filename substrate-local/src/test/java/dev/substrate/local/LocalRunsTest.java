package dev.substrate.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.substrate.event.InvalidEvent;
import dev.substrate.events.run.Failure;
import dev.substrate.events.run.Result;
import dev.substrate.events.run.RunEvent;
import dev.substrate.events.run.RunFailed;
import dev.substrate.events.run.RunStarted;
import dev.substrate.events.run.RunSucceeded;
import dev.substrate.events.run.RunWaiting;
import dev.substrate.events.run.WaitingKind;
import dev.substrate.events.run.WaitingOn;
import dev.substrate.local.internal.Migrations;
import dev.substrate.state.RunStatus;
import dev.substrate.testing.SampleEvents;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The local store on a real SQLite file: the run rules, refusals kept, duplicates, persistence, versions. */
class LocalRunsTest {

    @TempDir
    Path dir;

    @Test
    void foldsARunThroughSeveralTransitionsAndKeepsRefusalsWithTheirReason() {
        Path file = dir.resolve("nested/local.db");
        RunEvent created =
                SampleEvents.runEvent("run-1", SampleEvents.runPayloads().get(0));
        try (LocalRuns runs = LocalRuns.open(file)) {
            assertThat(runs.append(created).outcome()).isEqualTo(LocalRuns.Outcome.APPLIED);
            assertThat(runs.append(SampleEvents.runEvent("run-1", new RunStarted(null)))
                            .outcome())
                    .isEqualTo(LocalRuns.Outcome.APPLIED);
            assertThat(runs.append(SampleEvents.runEvent(
                                    "run-1",
                                    new RunWaiting(
                                            new WaitingOn(WaitingKind.approval, "a human says yes", SampleEvents.AT),
                                            List.of())))
                            .run()
                            .orElseThrow()
                            .getStatus())
                    .isEqualTo(RunStatus.waiting);
            LocalRuns.Appended refused = runs.append(SampleEvents.runEvent("run-1", new RunStarted(null)));
            assertThat(refused.outcome()).isEqualTo(LocalRuns.Outcome.REJECTED);
            assertThat(refused.reason()).isEqualTo("illegal_transition");
            assertThat(runs.append(SampleEvents.runEvent(
                                    "run-1", new RunFailed(new Failure("E1", "it broke", false, null))))
                            .outcome())
                    .isEqualTo(LocalRuns.Outcome.APPLIED);
            assertThat(runs.append(created).outcome()).isEqualTo(LocalRuns.Outcome.DUPLICATE);
            assertThat(runs.append(SampleEvents.runEvent(
                                    "run-2", new RunSucceeded(new Result("done", java.util.List.of()))))
                            .reason())
                    .as("a run that does not exist")
                    .isEqualTo("not_found");
        }
        try (LocalRuns reopened = LocalRuns.open(file)) {
            var run = reopened.run("run-1").orElseThrow();
            assertThat(run.getStatus()).isEqualTo(RunStatus.failed);
            assertThat(run.getVersion()).isEqualTo(4);
            assertThat(reopened.events("run-1"))
                    .extracting(LocalRuns.Stored::outcome)
                    .containsExactly(
                            LocalRuns.Outcome.APPLIED,
                            LocalRuns.Outcome.APPLIED,
                            LocalRuns.Outcome.APPLIED,
                            LocalRuns.Outcome.REJECTED,
                            LocalRuns.Outcome.APPLIED);
            assertThat(reopened.events("run-1").get(0).event()).isEqualTo(created);
            assertThat(reopened.runs()).extracting(r -> r.getRunId()).containsExactly("run-1");
        }
    }

    @Test
    void refusesAnInvalidEventAndKeepsNothing() {
        try (LocalRuns runs = LocalRuns.open(dir.resolve("local.db"))) {
            RunEvent bad =
                    SampleEvents.runEvent("run 1", SampleEvents.runPayloads().get(0));
            assertThatThrownBy(() -> runs.append(bad))
                    .isInstanceOf(InvalidEvent.class)
                    .hasMessageContaining("runId");
            assertThat(runs.runs()).isEmpty();
            assertThat(runs.events("run 1")).isEmpty();
        }
    }

    @Test
    void refusesAFileWrittenByANewerSchema() throws Exception {
        Path file = dir.resolve("local.db");
        LocalRuns.open(file).close();
        try (Connection connection = DriverManager.getConnection("jdbc:sqlite:" + file);
                Statement statement = connection.createStatement()) {
            statement.executeUpdate("PRAGMA user_version = " + (Migrations.latest() + 1));
        }
        assertThatThrownBy(() -> LocalRuns.open(file))
                .isInstanceOf(LocalStoreException.class)
                .hasMessageContaining("newer than this Substrate's");
    }
}
