package dev.substrate.local;

import dev.substrate.event.EventValidator;
import dev.substrate.event.WireCodec;
import dev.substrate.events.run.RunEvent;
import dev.substrate.fold.Decision;
import dev.substrate.fold.FoldDriver;
import dev.substrate.fold.FoldStep;
import dev.substrate.local.internal.Migrations;
import dev.substrate.state.EventOutcome;
import dev.substrate.state.RunState;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.avro.specific.SpecificRecord;
import org.sqlite.SQLiteConfig;

/**
 * Runs kept in a local SQLite file, without Kafka: the same events, encoded as on Kafka (Avro single-object
 * encoding), decided by the very step the substrate's fold takes for each record ({@link FoldStep}: duplicates and
 * reused event ids, the door rules judged at the time the event was recorded, the run rules, the record limits),
 * so that a run decides the same here and once shared. Every event is kept with the decision about it and the time
 * it was recorded; refused events change nothing and keep their reason.
 *
 * <p>Several processes may append to one file at once: the file is in WAL mode, and each append is one
 * transaction that takes the write lock before it reads the run (waiting up to {@value #BUSY_TIMEOUT_MS} ms for
 * it), so appends are serialized and none is lost. The schema is versioned and migrated when the file is opened.
 *
 * <pre>{@code
 * try (LocalRuns runs = LocalRuns.open(Path.of(".substrate/local.db"))) {
 *     LocalRuns.Appended created = runs.append(createdEvent);
 *     runs.run(createdEvent.getRunId()).ifPresent(run -> System.out.println(run.getStatus()));
 * }
 * }</pre>
 *
 * <p>Thread-safe: one connection, used by one append or read at a time.
 */
public final class LocalRuns implements AutoCloseable {

    /** How long an append waits for another process's write to finish. */
    public static final int BUSY_TIMEOUT_MS = 30_000;

    /** The default file, relative to the working directory. */
    public static final Path DEFAULT_FILE = Path.of(".substrate", "local.db");

    private final Path file;
    private final Connection connection;
    private final Clock clock;
    private final EventValidator validator;
    private final FoldStep step;

    private LocalRuns(Path file, Connection connection, Clock clock) {
        this.file = file;
        this.connection = connection;
        this.clock = clock;
        this.validator = new EventValidator(EventValidator.DEFAULT_MAX_EVENT_BYTES, clock);
        this.step = new FoldStep(validator);
    }

    /** Opens (creating it and its directory if needed) and migrates the store in {@code file}. */
    public static LocalRuns open(Path file) {
        return open(file, Clock.systemUTC());
    }

    /**
     * Opens the store in {@code file}, recording each append at {@code clock}'s time: the time an event is judged
     * at, as the fold judges a record at its Kafka timestamp.
     */
    public static LocalRuns open(Path file, Clock clock) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot create the directory of " + file, e);
        }
        SQLiteConfig config = new SQLiteConfig();
        config.setJournalMode(SQLiteConfig.JournalMode.WAL);
        config.setSynchronous(SQLiteConfig.SynchronousMode.NORMAL);
        config.setBusyTimeout(BUSY_TIMEOUT_MS);
        config.setTransactionMode(SQLiteConfig.TransactionMode.IMMEDIATE);
        config.enforceForeignKeys(true);
        try {
            Connection connection = config.createConnection("jdbc:sqlite:" + file.toAbsolutePath());
            try {
                Migrations.apply(connection, file);
            } catch (RuntimeException | SQLException e) {
                connection.close();
                throw e;
            }
            return new LocalRuns(file, connection, clock);
        } catch (SQLException e) {
            throw new LocalStoreException("Cannot open the local store " + file + ": " + e.getMessage(), e);
        }
    }

    /** The file. */
    public Path file() {
        return file;
    }

    /** What became of an appended event. */
    public enum Outcome {
        /** It changed the run. */
        APPLIED,
        /** An event with its id was appended before; nothing changed. */
        DUPLICATE,
        /** The run rules refused it; it is kept with its reason and changed nothing. */
        REJECTED
    }

    /**
     * The decision about one appended event.
     *
     * @param outcome applied, duplicate or rejected
     * @param reason for a rejection, its code (such as {@code illegal_transition}); null otherwise
     * @param message for a rejection, why; null otherwise
     * @param run the run after the event (unchanged unless applied); empty when it does not exist
     */
    public record Appended(Outcome outcome, String reason, String message, Optional<RunState> run) {}

    /**
     * One stored event with the decision about it.
     *
     * @param seq its place in the store, in append order
     * @param event the event
     * @param outcome applied or rejected
     * @param reason for a rejection, its code; null otherwise
     * @param message for a rejection, why; null otherwise
     */
    public record Stored(long seq, RunEvent event, Outcome outcome, String reason, String message) {}

    /**
     * Validates {@code event}, decides it as the fold does (at the time it is recorded, against the run as stored
     * and the events recorded before), and keeps both, in one transaction. A repeat of a recorded event id is a
     * duplicate, or, for another run, refused as {@code event_id_reused}; neither is kept again.
     *
     * @throws dev.substrate.event.InvalidEvent when the event breaks a rule checked at every boundary (nothing is
     *     kept)
     */
    public synchronized Appended append(RunEvent event) {
        Instant recordedAt = clock.instant().truncatedTo(ChronoUnit.MILLIS);
        validator.validate(event, recordedAt);
        byte[] record = WireCodec.RUN.encode(event);
        try {
            connection.setAutoCommit(false); // begins IMMEDIATE: the write lock is taken before the run is read
            try {
                RunState current = run(event.getRunId()).orElse(null);
                // The events table is the store of outcomes: an event's row records its decision.
                FoldDriver.Outcomes rows = new FoldDriver.Outcomes() {
                    @Override
                    public EventOutcome find(String eventId) {
                        return appending(
                                () -> eventById(eventId).map(LocalRuns::outcome).orElse(null));
                    }

                    @Override
                    public void record(String eventId, EventOutcome outcome) {
                        boolean applied = outcome.getOutcome() == dev.substrate.state.Outcome.applied;
                        appending(() -> {
                            insertEvent(
                                    event,
                                    record,
                                    recordedAt,
                                    applied ? Outcome.APPLIED : Outcome.REJECTED,
                                    outcome.getReason(),
                                    outcome.getMessage());
                            return null;
                        });
                    }
                };
                // A repeat of a recorded id is decided (a duplicate, or a reuse refused) and nothing is written: the
                // first decision stands.
                Decision<RunState> decision = FoldDriver.fold(
                        new FoldDriver.Step(FoldStep.RUN, event.getRunId(), event.getEventId(), 0, 0, recordedAt),
                        rows,
                        previous -> step.run(event.getRunId(), current, event, previous, recordedAt),
                        state -> appending(() -> {
                            if (state == null) {
                                deleteRun(event.getRunId());
                                return null;
                            }
                            saveRun(state);
                            return state.getVersion();
                        }));
                Appended appended;
                if (decision instanceof Decision.Applied<RunState> applied) {
                    appended = new Appended(Outcome.APPLIED, null, null, Optional.ofNullable(applied.state()));
                } else if (decision instanceof Decision.Rejected<RunState> rejected) {
                    appended = new Appended(
                            Outcome.REJECTED,
                            rejected.reason().code(),
                            rejected.message(),
                            Optional.ofNullable(current));
                } else {
                    appended = new Appended(Outcome.DUPLICATE, null, null, Optional.ofNullable(current));
                }
                connection.commit();
                return appended;
            } catch (SQLException | RuntimeException e) {
                connection.rollback();
                throw e;
            } finally {
                connection.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw new LocalStoreException("Cannot append to " + file + ": " + e.getMessage(), e);
        }
    }

    /** The run as stored, if it exists. */
    public synchronized Optional<RunState> run(String runId) {
        try (PreparedStatement select = connection.prepareStatement("SELECT state FROM runs WHERE run_id = ?")) {
            select.setString(1, runId);
            try (ResultSet row = select.executeQuery()) {
                return row.next() ? Optional.of(WireCodec.RUN_STATE.decode(row.getBytes(1))) : Optional.empty();
            }
        } catch (SQLException e) {
            throw new LocalStoreException("Cannot read run " + runId + " from " + file + ": " + e.getMessage(), e);
        }
    }

    /** Every run, most recently updated first. */
    public synchronized List<RunState> runs() {
        List<RunState> runs = new ArrayList<>();
        try (PreparedStatement select =
                        connection.prepareStatement("SELECT state FROM runs ORDER BY updated_at DESC, run_id DESC");
                ResultSet rows = select.executeQuery()) {
            while (rows.next()) {
                runs.add(WireCodec.RUN_STATE.decode(rows.getBytes(1)));
            }
            return runs;
        } catch (SQLException e) {
            throw new LocalStoreException("Cannot list the runs of " + file + ": " + e.getMessage(), e);
        }
    }

    /** Every event of the run, applied and rejected, in the order they were appended. */
    public synchronized List<Stored> events(String runId) {
        List<Stored> events = new ArrayList<>();
        try (PreparedStatement select = connection.prepareStatement(
                "SELECT seq, record, outcome, reason, message FROM events WHERE run_id = ? ORDER BY seq")) {
            select.setString(1, runId);
            try (ResultSet rows = select.executeQuery()) {
                while (rows.next()) {
                    events.add(stored(rows));
                }
            }
            return events;
        } catch (SQLException e) {
            throw new LocalStoreException("Cannot read the events of run " + runId + ": " + e.getMessage(), e);
        }
    }

    private Optional<Stored> eventById(String eventId) throws SQLException {
        try (PreparedStatement select = connection.prepareStatement(
                "SELECT seq, record, outcome, reason, message FROM events WHERE event_id = ?")) {
            select.setString(1, eventId);
            try (ResultSet row = select.executeQuery()) {
                return row.next() ? Optional.of(stored(row)) : Optional.empty();
            }
        }
    }

    /** A recorded event's decision as the fold keeps it: the run it was for, and what was decided. */
    private static EventOutcome outcome(Stored stored) {
        return EventOutcome.newBuilder()
                .setEventId(stored.event().getEventId())
                .setEntityType(FoldStep.RUN)
                .setEntityId(stored.event().getRunId())
                .setOutcome(
                        stored.outcome() == Outcome.APPLIED
                                ? dev.substrate.state.Outcome.applied
                                : dev.substrate.state.Outcome.rejected)
                .setReason(stored.reason())
                .setMessage(stored.message())
                .setPartition(0)
                .setOffset(stored.seq())
                .setDecidedAt(stored.event().getOccurredAt())
                .build();
    }

    private static Stored stored(ResultSet row) throws SQLException {
        return new Stored(
                row.getLong(1),
                WireCodec.RUN.decode(row.getBytes(2)),
                Outcome.valueOf(row.getString(3)),
                row.getString(4),
                row.getString(5));
    }

    /** A step of an append that talks to SQLite. */
    private interface SqlStep<T> {
        T run() throws SQLException;
    }

    /** {@code step}'s result; a SQL failure as the append's failure (its transaction is rolled back). */
    private <T> T appending(SqlStep<T> step) {
        try {
            return step.run();
        } catch (SQLException e) {
            throw new LocalStoreException("Cannot append to " + file + ": " + e.getMessage(), e);
        }
    }

    private void insertEvent(
            RunEvent event, byte[] record, Instant recordedAt, Outcome outcome, String reason, String message)
            throws SQLException {
        try (PreparedStatement insert = connection.prepareStatement(
                "INSERT INTO events (run_id, event_id, type, occurred_at, record, outcome, reason, message, "
                        + "recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            insert.setString(1, event.getRunId());
            insert.setString(2, event.getEventId());
            insert.setString(
                    3, ((SpecificRecord) event.getPayload()).getSchema().getName());
            insert.setLong(4, event.getOccurredAt().toEpochMilli());
            insert.setBytes(5, record);
            insert.setString(6, outcome.name());
            insert.setString(7, reason);
            insert.setString(8, message);
            insert.setLong(9, recordedAt.toEpochMilli());
            insert.executeUpdate();
        }
    }

    /** Removes a deleted run's state; its events stay in the file's log, as they stay on Kafka's. */
    private void deleteRun(String runId) throws SQLException {
        try (PreparedStatement delete = connection.prepareStatement("DELETE FROM runs WHERE run_id = ?")) {
            delete.setString(1, runId);
            delete.executeUpdate();
        }
    }

    private void saveRun(RunState run) throws SQLException {
        try (PreparedStatement upsert = connection.prepareStatement(
                "INSERT INTO runs (run_id, state, status, project, version, updated_at) VALUES (?, ?, ?, ?, ?, ?) "
                        + "ON CONFLICT (run_id) DO UPDATE SET state = excluded.state, status = excluded.status, "
                        + "project = excluded.project, version = excluded.version, updated_at = excluded.updated_at")) {
            upsert.setString(1, run.getRunId());
            upsert.setBytes(2, WireCodec.RUN_STATE.encode(run));
            upsert.setString(3, run.getStatus().name());
            upsert.setString(4, run.getProject());
            upsert.setLong(5, run.getVersion());
            upsert.setLong(6, run.getTimestamps().getUpdatedAt().toEpochMilli());
            upsert.executeUpdate();
        }
    }

    @Override
    public synchronized void close() {
        try {
            connection.close();
        } catch (SQLException e) {
            throw new LocalStoreException("Cannot close " + file + ": " + e.getMessage(), e);
        }
    }
}
