package dev.substrate.local.internal;

import dev.substrate.local.LocalStoreException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * The local store's schema, as numbered migrations. The file's {@code user_version} says how many have run;
 * opening a file runs the missing ones, each in its own transaction, and refuses a file made by a newer
 * Substrate. A migration, once released, is never changed: a change is a new migration.
 */
public final class Migrations {

    /** The migrations, in order; number {@code n} is at index {@code n - 1}. */
    private static final List<String> MIGRATIONS = List.of(
            // 1: events as appended, with the decision about each; the latest state of each run.
            """
            CREATE TABLE events (
                seq         INTEGER PRIMARY KEY AUTOINCREMENT,
                run_id      TEXT    NOT NULL,
                event_id    TEXT    NOT NULL UNIQUE,
                type        TEXT    NOT NULL,
                occurred_at INTEGER NOT NULL,
                record      BLOB    NOT NULL,
                outcome     TEXT    NOT NULL CHECK (outcome IN ('APPLIED', 'REJECTED')),
                reason      TEXT,
                message     TEXT
            );
            CREATE INDEX events_by_run ON events (run_id, seq);
            CREATE TABLE runs (
                run_id      TEXT    PRIMARY KEY,
                state       BLOB    NOT NULL,
                status      TEXT    NOT NULL,
                project     TEXT    NOT NULL,
                version     INTEGER NOT NULL,
                updated_at  INTEGER NOT NULL
            );
            CREATE INDEX runs_by_update ON runs (updated_at);
            """,
            // 2: when each event was recorded, the time the fold's step judges it at (null for older events).
            """
            ALTER TABLE events ADD COLUMN recorded_at INTEGER;
            """);

    private Migrations() {}

    /** The schema version this code writes. */
    public static int latest() {
        return MIGRATIONS.size();
    }

    /** Brings the schema of the store in {@code file} up to {@link #latest()}. */
    public static void apply(Connection connection, Path file) throws SQLException {
        int version = version(connection);
        if (version > latest()) {
            throw new LocalStoreException(
                    file + " has schema version " + version + ", newer than this Substrate's " + latest()
                            + "; use a newer Substrate",
                    null);
        }
        for (int next = version + 1; next <= latest(); next++) {
            connection.setAutoCommit(false); // IMMEDIATE: two processes opening a new file migrate it once
            try (Statement statement = connection.createStatement()) {
                if (version(connection) >= next) {
                    connection.rollback();
                    continue;
                }
                for (String sql : MIGRATIONS.get(next - 1).split(";")) {
                    if (!sql.isBlank()) {
                        statement.executeUpdate(sql);
                    }
                }
                statement.executeUpdate("PRAGMA user_version = " + next);
                connection.commit();
            } catch (SQLException | RuntimeException e) {
                connection.rollback();
                throw e;
            } finally {
                connection.setAutoCommit(true);
            }
        }
    }

    private static int version(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement();
                ResultSet row = statement.executeQuery("PRAGMA user_version")) {
            return row.next() ? row.getInt(1) : 0;
        }
    }
}
