package dev.substrate.cli;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Option;

/** The run filters of {@code runs list} and {@code runs count}: each one given must hold (GET /v1/runs's filters). */
final class RunFilterOptions {

    private static final Pattern AGO = Pattern.compile("([0-9]+)([smhd])");

    @Option(
            names = "--status",
            paramLabel = "STATUS[,STATUS...]",
            description =
                    "Only runs in one of these: queued, running, waiting, succeeded, failed, cancelled, timed_out.")
    String status;

    @Option(names = "--project", description = "Only runs of this project.")
    String project;

    @Option(
            names = "--label",
            paramLabel = "KEY:VALUE",
            description = "Only runs with this label; repeat for several (each must hold).")
    List<String> labels = List.of();

    @Option(names = "--task-id", description = "Only runs of this task.")
    String taskId;

    @Option(names = "--parent-run-id", description = "Only the child runs of this run.")
    String parentRunId;

    @Option(names = "--correlation-id", description = "Only runs created with this correlation id.")
    String correlationId;

    @Option(names = "--actor", description = "Only runs whose activation names this actor.")
    String actor;

    @Option(
            names = "--surface",
            description = "Only runs activated through this surface: ui, channel, automation, delegation, operator,"
                    + " schedule.")
    String surface;

    @Option(names = "--failure-code", description = "Only failed runs with this failure code.")
    String failureCode;

    @Option(
            names = "--retryable",
            paramLabel = "true|false",
            description = "Only failed runs whose failure is (true) or is not (false) retryable.")
    Boolean retryable;

    @Option(
            names = "--waiting-on",
            paramLabel = "KIND",
            description = "Only runs waiting on this: approval, input, resource, dependency, schedule.")
    String waitingOn;

    @Option(names = "--interrupt", paramLabel = "open", description = "open: only runs with an interrupt to answer.")
    String interrupt;

    @Option(
            names = "--created-after",
            paramLabel = "TIME",
            description = "Only runs created at or after TIME: ISO-8601 (2026-12-02T10:00:00Z) or an age such as 30m, "
                    + "1h, 2d (that long ago).")
    String createdAfter;

    @Option(names = "--created-before", paramLabel = "TIME", description = "Only runs created before TIME.")
    String createdBefore;

    @Option(names = "--updated-after", paramLabel = "TIME", description = "Only runs last updated at or after TIME.")
    String updatedAfter;

    @Option(names = "--updated-before", paramLabel = "TIME", description = "Only runs last updated before TIME.")
    String updatedBefore;

    @Option(names = "--finished-after", paramLabel = "TIME", description = "Only runs finished at or after TIME.")
    String finishedAfter;

    @Option(names = "--finished-before", paramLabel = "TIME", description = "Only runs finished before TIME.")
    String finishedBefore;

    /** Adds every filter given to {@code query}, ages turned into times. */
    Map<String, Object> addTo(Map<String, Object> query, Clock clock) {
        query.put("status", status);
        query.put("project", project);
        query.put("label", labels);
        query.put("taskId", taskId);
        query.put("parentRunId", parentRunId);
        query.put("correlationId", correlationId);
        query.put("actor", actor);
        query.put("surface", surface);
        query.put("failureCode", failureCode);
        query.put("retryable", retryable);
        query.put("waitingOn", waitingOn);
        query.put("interrupt", interrupt);
        query.put("createdAfter", time(createdAfter, clock));
        query.put("createdBefore", time(createdBefore, clock));
        query.put("updatedAfter", time(updatedAfter, clock));
        query.put("updatedBefore", time(updatedBefore, clock));
        query.put("finishedAfter", time(finishedAfter, clock));
        query.put("finishedBefore", time(finishedBefore, clock));
        return query;
    }

    /** An age ({@code 90s}, {@code 30m}, {@code 1h}, {@code 2d}) as the time that long ago; anything else as given. */
    static String time(String value, Clock clock) {
        if (value == null) {
            return null;
        }
        Matcher ago = AGO.matcher(value.strip());
        if (!ago.matches()) {
            return value;
        }
        long amount = Long.parseLong(ago.group(1));
        Duration age = switch (ago.group(2)) {
            case "s" -> Duration.ofSeconds(amount);
            case "m" -> Duration.ofMinutes(amount);
            case "h" -> Duration.ofHours(amount);
            default -> Duration.ofDays(amount);
        };
        return Instant.now(clock).minus(age).truncatedTo(ChronoUnit.MILLIS).toString();
    }
}
