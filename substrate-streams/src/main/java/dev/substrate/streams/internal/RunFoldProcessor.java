package dev.substrate.streams.internal;

import dev.substrate.entity.EntityKind;
import dev.substrate.event.WireCodec;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.events.run.RunEvent;
import dev.substrate.fold.Decision;
import dev.substrate.fold.FoldStep;
import dev.substrate.fold.RunFold;
import dev.substrate.retention.Deletions;
import dev.substrate.retention.RetentionPolicies;
import dev.substrate.retention.RetentionPolicy;
import dev.substrate.state.EventOutcome;
import dev.substrate.state.RunState;
import dev.substrate.state.RunStatus;
import dev.substrate.streams.FoldSettings;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/** Folds {@code substrate.run-events} into the runs store, its history and indexes, and {@code substrate.runs}. */
final class RunFoldProcessor extends FoldProcessor<RunEvent, RunState> {

    private KeyValueStore<String, RunState> runs;
    /** Runs read and written through the states this task wrote lately. */
    private RecentStates<RunState> states;
    /** The entity's state as {@link #decide} read it: what {@link #applyChange} changes, not read twice. */
    private RunState current;

    private KeyValueStore<String, RunEvent> history;
    private WritableIndex byStatus;
    private WritableIndex byProject;
    private WritableIndex byLabel;
    private WritableIndex byCreated;
    private UsageRollup usage;
    private RetentionCheck retention;

    RunFoldProcessor(FoldStep step, Duration outcomeRetention, FoldSettings settings) {
        super(EntityKind.RUN, step, outcomeRetention, settings);
    }

    @Override
    public void init(ProcessorContext<String, byte[]> context) {
        super.init(context);
        runs = context.getStateStore(StoreNames.RUNS);
        states = new RecentStates<>(runs, WireCodec.RUN_STATE::measuredSize);
        StateTopicOnFlush.attach(
                context,
                runs,
                FoldTopology.RUNS_SINK,
                state -> wire.encode(topics.runs().name(), WireCodec.RUN_STATE, state));
        history = context.getStateStore(StoreNames.RUN_HISTORY);
        usage = new UsageRollup(context, StoreNames.RUN_USAGE);
        byStatus = index(StoreNames.RUNS_BY_STATUS);
        byProject = index(StoreNames.RUNS_BY_PROJECT);
        byLabel = index(StoreNames.RUNS_BY_LABEL);
        byCreated = index(StoreNames.RUNS_BY_CREATED);
        retention = new RetentionCheck(context);
        retention.schedule(context, this::applyRetention);
        if (!indexesKept()) {
            try (IndexRebuild rebuild = new IndexRebuild();
                    KeyValueIterator<String, RunState> all = runs.all()) {
                all.forEachRemaining(entry -> {
                    indexKeys(entry.value)
                            .forEach((store, keys) -> keys.forEach(key -> rebuild.put(store, key, entry.key)));
                    rebuild.put(byCreated, createdKey(entry.value), entry.key);
                });
            }
        }
    }

    @Override
    Decision<RunState> decide(String key, RunEvent event, long offset, EventOutcome previous, Instant time) {
        current = states.get(event.getRunId());
        return step.run(key, current, event, previous, time);
    }

    @Override
    Long applyChange(RunEvent event, RunState state, Record<String, RunEvent> record) {
        RunState before = current;
        if (state == null) {
            remove(before);
            return null;
        }
        String runId = state.getRunId();
        if (before != null) {
            indexKeys(before).forEach((store, keys) -> keys.forEach(store::delete));
        } else {
            // Written once: a run's creation time never changes.
            byCreated.put(createdKey(state), runId);
        }
        indexKeys(state).forEach((store, keys) -> keys.forEach(key -> store.put(key, runId)));
        states.put(runId, state);
        history.put(StoreNames.sequenceKey(runId, state.getVersion()), event);
        usage.add(state.getProject(), runId, event.getOccurredAt(), event.getUsage());
        if (!topics.rebuild()) {
            Notifications.run(context, event, state, record.timestamp());
            for (RoomEvent note : RunFold.roomNotes(event, state)) {
                context.forward(
                        new Record<String, byte[]>(
                                note.getRoomId(),
                                wire.encode(topics.roomEvents().name(), WireCodec.ROOM, note),
                                record.timestamp()),
                        FoldTopology.RUN_NOTES_SINK);
            }
        }
        return state.getVersion();
    }

    /**
     * Removes a deleted run: its state (its state topic gets a tombstone when the cache flushes), history and index
     * entries; its usage rows move to no run (the sums by project, model and day stay). Its events' outcomes stay
     * until they expire, so that a retried event of it is still recognised, not applied to a run created anew.
     */
    private void remove(RunState run) {
        String runId = run.getRunId();
        indexKeys(run).forEach((store, keys) -> keys.forEach(store::delete));
        byCreated.delete(createdKey(run));
        deletePrefix(history, runId + "/");
        usage.forgetRun(run.getProject(), runId);
        states.delete(runId);
        retention.deleted(runId);
    }

    /**
     * Appends the deletion of each finished run of this task that a retention policy deletes now: the runs-by-status
     * index of each finished status, up to the youngest policy's age, in the order they last changed.
     */
    private void applyRetention(Instant now) {
        RetentionPolicies policies = retention.policies();
        Instant cutoff = retention.cutoff(RetentionPolicy.Applies.runs, now);
        if (cutoff == null) {
            return;
        }
        long started = System.nanoTime();
        int appended = 0;
        int read = 0;
        statuses:
        for (RunStatus status : RunStatus.values()) {
            if (!RunFold.isTerminal(status)) {
                continue;
            }
            List<String> candidates = new ArrayList<>();
            try (KeyValueIterator<String, String> range = byStatus.range(
                    StoreNames.indexPrefix(status.name()),
                    StoreNames.timeIndexKey(status.name(), cutoff.toEpochMilli() + 1, ""))) {
                range.forEachRemaining(entry -> candidates.add(entry.value));
            }
            read += candidates.size();
            for (String runId : candidates) {
                if (appended >= RetentionCheck.MAX_PER_CHECK) {
                    break statuses;
                }
                RunState run = states.get(runId);
                RetentionPolicy policy =
                        run == null ? null : policies.deleting(run, now).orElse(null);
                if (policy != null && retention.append(runId, now)) {
                    context.forward(
                            new Record<String, byte[]>(
                                    runId,
                                    wire.encode(
                                            topics.runEvents().name(), WireCodec.RUN, Deletions.run(run, policy, now)),
                                    now.toEpochMilli()),
                            FoldTopology.RUN_EVENTS_SINK);
                    appended++;
                }
            }
        }
        RetentionCheck.report(context.taskId(), "runs", appended, read, started);
    }

    private static String createdKey(RunState run) {
        return StoreNames.timeKey(run.getTimestamps().getCreatedAt().toEpochMilli(), run.getRunId());
    }

    private Map<WritableIndex, List<String>> indexKeys(RunState run) {
        long updated = run.getTimestamps().getUpdatedAt().toEpochMilli();
        String runId = run.getRunId();
        List<String> labels = new ArrayList<>();
        run.getLabels().forEach((k, v) -> labels.add(StoreNames.timeIndexKey(k + "=" + v, updated, runId)));
        return Map.of(
                byStatus, List.of(StoreNames.timeIndexKey(run.getStatus().name(), updated, runId)),
                byProject, List.of(StoreNames.timeIndexKey(run.getProject(), updated, runId)),
                byLabel, labels);
    }
}
