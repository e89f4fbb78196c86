package dev.substrate.fold;

import dev.substrate.events.artifact.ArtifactDeleted;
import dev.substrate.events.artifact.ArtifactEvent;
import dev.substrate.events.artifact.ArtifactRegistered;
import dev.substrate.events.artifact.ArtifactRevised;
import dev.substrate.state.ArtifactRevision;
import dev.substrate.state.ArtifactState;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The artifact rules, as a pure function of the current state and one event: registration, revisions (each
 * kept in the state's history), deletion (the state becomes a tombstone; the id may be registered again).
 */
public final class ArtifactFold {

    private ArtifactFold() {}

    /**
     * Decides one event.
     *
     * @param current the artifact before the event; null if it does not exist
     * @return the artifact after the event (null when deleted), or why it was refused
     */
    public static Decision<ArtifactState> apply(ArtifactState current, ArtifactEvent event) {
        Object payload = event.getPayload();
        long version = current == null ? 0 : current.getVersion();
        if (event.getExpectedVersion() != null && event.getExpectedVersion() != version) {
            return Decision.rejected(
                    Reason.VERSION_CONFLICT,
                    "expected version " + event.getExpectedVersion() + " but the artifact is at version " + version);
        }
        if (payload instanceof ArtifactRegistered registered) {
            if (current != null) {
                return Decision.rejected(
                        Reason.ALREADY_EXISTS, "artifact " + event.getArtifactId() + " already exists");
            }
            return Decision.applied(register(event, registered));
        }
        if (current == null) {
            return Decision.rejected(
                    Reason.NOT_FOUND,
                    "artifact " + event.getArtifactId() + " does not exist; "
                            + payload.getClass().getSimpleName() + " needs an ArtifactRegistered first");
        }
        if (payload instanceof ArtifactDeleted) {
            return Decision.applied(null);
        }
        if (payload instanceof ArtifactRevised revised) {
            return Decision.applied(revise(current, event, revised));
        }
        throw new IllegalArgumentException(
                "unknown artifact event " + payload.getClass().getSimpleName());
    }

    private static ArtifactState register(ArtifactEvent event, ArtifactRegistered registered) {
        ArtifactRevision first = ArtifactRevision.newBuilder()
                .setVersion(1)
                .setAt(event.getOccurredAt())
                .setEventId(event.getEventId())
                .setLocator(registered.getLocator())
                .setDigest(registered.getDigest())
                .setSize(registered.getSize())
                .build();
        return ArtifactState.newBuilder()
                .setArtifactId(event.getArtifactId())
                .setVersion(1)
                .setKind(registered.getKind())
                .setName(registered.getName())
                .setParentId(registered.getParentId())
                .setLocator(registered.getLocator())
                .setDigest(registered.getDigest())
                .setSize(registered.getSize())
                .setMediaType(registered.getMediaType())
                .setRemoteId(registered.getRemoteId())
                .setLabels(new HashMap<>(registered.getLabels()))
                .setProvenance(registered.getProvenance())
                .setRevisions(List.of(first))
                .setCreatedAt(event.getOccurredAt())
                .setUpdatedAt(event.getOccurredAt())
                .setLastEventId(event.getEventId())
                .build();
    }

    private static ArtifactState revise(ArtifactState current, ArtifactEvent event, ArtifactRevised revised) {
        ArtifactState.Builder next = ArtifactState.newBuilder(current);
        if (revised.getLocator() != null) {
            next.setLocator(revised.getLocator());
        }
        if (revised.getDigest() != null) {
            next.setDigest(revised.getDigest());
        }
        if (revised.getSize() != null) {
            next.setSize(revised.getSize());
        }
        if (revised.getMediaType() != null) {
            next.setMediaType(revised.getMediaType());
        }
        if (revised.getRemoteId() != null) {
            next.setRemoteId(revised.getRemoteId());
        }
        Map<String, String> labels = new HashMap<>(current.getLabels());
        labels.putAll(revised.getLabels());
        long version = current.getVersion() + 1;
        List<ArtifactRevision> revisions = new ArrayList<>(current.getRevisions());
        revisions.add(ArtifactRevision.newBuilder()
                .setVersion(version)
                .setAt(event.getOccurredAt())
                .setEventId(event.getEventId())
                .setLocator(next.getLocator())
                .setDigest(next.getDigest())
                .setSize(next.getSize())
                .setNote(revised.getNote())
                .build());
        return next.setLabels(labels)
                .setRevisions(revisions)
                .setVersion(version)
                .setUpdatedAt(event.getOccurredAt())
                .setLastEventId(event.getEventId())
                .build();
    }
}
