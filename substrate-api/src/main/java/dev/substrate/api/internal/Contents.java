package dev.substrate.api.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.substrate.api.auth.Role;
import dev.substrate.blob.BlobRefused;
import dev.substrate.blob.BlobStore;
import dev.substrate.entity.EntityKind;
import dev.substrate.events.artifact.ArtifactRevised;
import dev.substrate.state.ArtifactState;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;

/**
 * Artifact content: {@code PUT} streams the body into the {@link BlobStore} (hashed on the way, never whole in
 * memory, refused past the size limit or when it does not match {@value #DIGEST_HEADER}), then records the
 * blob on the artifact with an {@code ArtifactRevised} event (locator {@code blob:sha256:<hex>}, digest, size,
 * media type). {@code GET} streams it back from the instance holding the artifact.
 */
final class Contents {

    /** The request header naming the digest the content must have: {@code sha256:<hex>}. */
    static final String DIGEST_HEADER = "X-Substrate-Digest";

    private final BlobStore blobs;
    private final long maxBytes;
    private final Reads reads;
    private final Appends appends;
    private final RoomAccess rooms;

    Contents(BlobStore blobs, long maxBytes, Reads reads, Appends appends, RoomAccess rooms) {
        this.rooms = rooms;
        this.blobs = blobs;
        this.maxBytes = maxBytes;
        this.reads = reads;
        this.appends = appends;
    }

    /** PUT /v1/artifacts/{artifactId}/content. */
    void put(Context ctx) {
        Requests.require(ctx, Role.ADMIN, Role.OPERATOR, Role.SERVICE);
        String artifactId = ctx.pathParam("artifactId");
        long declared = ctx.contentLength();
        if (declared > maxBytes) {
            throw Problem.tooLarge("the content is " + declared + " bytes; the limit is " + maxBytes);
        }
        requireArtifact(ctx, artifactId);
        BlobStore.Blob blob;
        try {
            if (declared > 0) {
                blobs.requireRoomFor(declared);
            }
            try (InputStream body = ctx.req().getInputStream()) {
                blob = blobs.put(body, maxBytes, ctx.header(DIGEST_HEADER));
            }
        } catch (BlobRefused e) {
            throw switch (e.reason()) {
                case TOO_LARGE -> Problem.tooLarge(e.getMessage());
                case DIGEST_MISMATCH -> Problem.badRequest(e.getMessage(), DIGEST_HEADER);
                case INCOMPLETE -> Problem.badRequest(e.getMessage(), null);
                case QUOTA -> Problem.insufficientStorage(e.getMessage());
            };
        } catch (IOException e) {
            // Opening or closing the request's body: the connection, not the store.
            throw Problem.badRequest("the upload could not be read: " + e.getMessage(), null);
        }
        ObjectNode payload = JsonNodeFactory.instance.objectNode();
        payload.put("type", ArtifactRevised.getClassSchema().getName());
        payload.put("locator", blob.locator());
        payload.put("digest", blob.digest());
        payload.put("size", blob.size());
        String mediaType = ctx.contentType();
        if (mediaType != null && !mediaType.isBlank()) {
            payload.put("mediaType", mediaType);
        }
        payload.put("note", "content stored");
        Appends.Result result = appends.append(ctx, EntityKind.ARTIFACT, artifactId, payload);
        result.body().put("locator", blob.locator());
        result.body().put("digest", blob.digest());
        result.body().put("size", blob.size());
        Appends.answer(ctx, result);
    }

    /** GET /v1/artifacts/{artifactId}/content: the bytes, with the artifact's media type and digest. */
    void get(Context ctx) throws Exception {
        String artifactId = ctx.pathParam("artifactId");
        reads.keyed(ctx, EntityKind.ARTIFACT, artifactId, local -> {
            ArtifactState artifact =
                    reads.queries().artifact(artifactId).orElseThrow(() -> Problem.notFound("artifact " + artifactId));
            rooms.requireArtifactReadable(
                    Cluster.caller(local),
                    Requests.principal(local),
                    artifactId,
                    artifact.getProvenance().getRoomId());
            String digest = BlobStore.digestOf(artifact.getLocator())
                    .orElseThrow(() -> Problem.notFound("content of artifact " + artifactId + " in the blob store (its "
                            + "locator is " + artifact.getLocator() + ")"));
            BlobStore.Blob blob = blobs.find(digest)
                    .orElseThrow(() -> Problem.notFound(
                            "blob " + digest + " in this instance's blob store (instances must share blob.dir)"));
            String mediaType = artifact.getMediaType();
            local.status(200)
                    .contentType(mediaType == null ? "application/octet-stream" : mediaType)
                    .header("Content-Length", Long.toString(blob.size()))
                    .header("ETag", "\"" + blob.digest() + "\"")
                    .header(DIGEST_HEADER, blob.digest())
                    .result(blobs.open(blob));
        });
    }

    /** 404 unless the artifact exists (read at the request's position, from whichever instance holds it). */
    private void requireArtifact(Context ctx, String artifactId) {
        ReadPosition position = ReadPosition.from(ctx);
        Cluster.Answer answer = reads.readAt(
                ctx,
                EntityKind.ARTIFACT,
                artifactId,
                "/v1/artifacts/" + artifactId,
                position,
                Requests.timeoutMs(ctx),
                () -> reads.queries()
                        .artifact(artifactId)
                        .map(artifact -> (JsonNode) AvroJson.toJson(artifact))
                        .orElseThrow(() -> Problem.notFound("artifact " + artifactId)));
        if (answer.status() != 200) {
            throw Problem.relayed(answer.status(), answer.body(), "artifact " + artifactId + " could not be read");
        }
        rooms.requireArtifactReadable(Cluster.caller(ctx), Requests.principal(ctx), answer.body());
    }
}
