package dev.substrate.api.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.substrate.blob.BlobRefused;
import dev.substrate.blob.BlobStore;
import dev.substrate.entity.EntityKind;
import dev.substrate.events.artifact.ArtifactRevised;
import io.javalin.http.Context;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Artifact content: {@code PUT} streams the body into the {@link BlobStore} (chunked into Kafka in one
 * transaction, hashed on the way, never whole in memory, refused past the size limit or when it does not match
 * {@value #DIGEST_HEADER}), then records the blob on the artifact with an {@code ArtifactRevised} event (locator
 * {@code blob:sha256:<hex>}, digest, size, media type). {@code GET} streams it back from whichever instance the
 * request reaches (every instance reads every blob from Kafka), whole or one byte range ({@code Range: bytes=},
 * answered {@code 206}; a range outside the content is {@code 416}).
 */
final class Contents {

    /** The request header naming the digest the content must have: {@code sha256:<hex>}. */
    static final String DIGEST_HEADER = "X-Substrate-Digest";

    private static final Pattern RANGE = Pattern.compile("bytes=(\\d*)-(\\d*)");

    private final BlobStore blobs;
    private final long maxBytes;
    private final Reads reads;
    private final Appends appends;
    private final RoomAccess rooms;
    private final Admission uploads;
    private final Admission blobReads;
    private final Admission indexWaits;

    /**
     * @param uploadsMax how many uploads the instance takes at once ({@code blob.uploads.max}): one token holds half
     * @param readsMax how many blob reads from Kafka the instance serves at once ({@code blob.reads.max}): one token
     *     holds half
     * @param waitsPerCaller how many reads of one token may wait for the blob index at once
     */
    Contents(
            BlobStore blobs,
            long maxBytes,
            Reads reads,
            Appends appends,
            RoomAccess rooms,
            int uploadsMax,
            int readsMax,
            int waitsPerCaller) {
        this.rooms = rooms;
        this.uploads = new Admission("uploads", "half of blob.uploads.max", Math.max(1, uploadsMax / 2));
        this.blobReads = new Admission("blob reads", "half of blob.reads.max", Math.max(1, readsMax / 2));
        this.indexWaits =
                new Admission("reads waiting for the blob index", "http.position.waits.per.principal", waitsPerCaller);
        this.blobs = blobs;
        this.maxBytes = maxBytes;
        this.reads = reads;
        this.appends = appends;
    }

    /** PUT /v1/artifacts/{artifactId}/content. */
    void put(Context ctx) {
        String artifactId = ctx.pathParam("artifactId");
        long declared = ctx.contentLength();
        if (declared > maxBytes) {
            throw Problem.tooLarge("the content is " + declared + " bytes; the limit is " + maxBytes);
        }
        requireArtifact(ctx, artifactId, Access.Action.APPEND);
        BlobStore.Blob blob;
        Admission.Slot uploading = uploads.admit(Requests.tokenId(ctx));
        try {
            if (declared > 0) {
                blobs.requireRoomFor(declared);
            }
            try (InputStream body = ctx.req().getInputStream()) {
                blob = blobs.put(body, maxBytes, ctx.header(DIGEST_HEADER));
            }
        } catch (BlobRefused e) {
            throw problem(e);
        } catch (IOException e) {
            // Opening or closing the request's body: the connection, not the store.
            throw Problem.badRequest("the upload could not be read: " + e.getMessage(), null);
        } finally {
            uploading.close();
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

    private static Problem problem(BlobRefused e) {
        return switch (e.reason()) {
            case TOO_LARGE -> Problem.tooLarge(e.getMessage());
            case DIGEST_MISMATCH -> Problem.badRequest(e.getMessage(), DIGEST_HEADER);
            case INCOMPLETE -> Problem.badRequest(e.getMessage(), null);
            case QUOTA -> Problem.insufficientStorage(e.getMessage());
            case BUSY, UNAVAILABLE -> Problem.unavailable(e.getMessage());
        };
    }

    /**
     * GET /v1/artifacts/{artifactId}/content: the bytes, with the artifact's media type and digest; one range of
     * them for {@code Range: bytes=first-last} ({@code first-}, {@code -suffix}).
     */
    void get(Context ctx) {
        String artifactId = ctx.pathParam("artifactId");
        JsonNode artifact = requireArtifact(ctx, artifactId, Access.Action.READ);
        String locator = artifact.path("locator").asText(null);
        String digest = BlobStore.digestOf(locator)
                .orElseThrow(() ->
                        Problem.notFound("content of artifact " + artifactId + " (its locator is " + locator + ")"));
        // The index may not name the blob yet (this instance read the artifact first): the wait holds no thread, and
        // one token holds a bounded number of them.
        Admission.Slot waiting = indexWaits.admit(Requests.tokenId(ctx));
        CompletableFuture<Optional<BlobStore.Blob>> found;
        try {
            found = blobs.whenFound(digest, Duration.ofMillis(Requests.timeoutMs(ctx)));
        } catch (BlobRefused e) {
            waiting.close();
            throw problem(e);
        }
        found.whenComplete((blob, failure) -> waiting.close());
        String tokenId = Requests.tokenId(ctx);
        if (found.isDone()) {
            serve(ctx, artifact, digest, found.join(), tokenId);
        } else {
            ctx.future(() -> found.thenAccept(blob -> serve(ctx, artifact, digest, blob, tokenId)));
        }
    }

    /** Answers with the blob's bytes, or the range asked for; 503 when the index did not name it in time. */
    private void serve(Context ctx, JsonNode artifact, String digest, Optional<BlobStore.Blob> found, String tokenId) {
        BlobStore.Blob blob = found.orElseThrow(() ->
                Problem.unavailable("blob " + digest + " is not in this instance's index yet; try again shortly"));
        JsonNode mediaType = artifact.get("mediaType");
        ctx.contentType(mediaType == null || !mediaType.isTextual() ? "application/octet-stream" : mediaType.asText())
                .header("Accept-Ranges", "bytes")
                .header("ETag", "\"" + blob.digest() + "\"")
                .header(DIGEST_HEADER, blob.digest());
        long first = 0;
        long last = blob.size() - 1;
        String range = ctx.header("Range");
        Matcher matcher = range == null ? null : RANGE.matcher(range.strip());
        // One range is served; several, or one that is not bytes=, are ignored (RFC 9110): the whole content.
        if (matcher != null
                && matcher.matches()
                && !(matcher.group(1).isEmpty() && matcher.group(2).isEmpty())) {
            try {
                if (matcher.group(1).isEmpty()) {
                    long suffix = Long.parseLong(matcher.group(2));
                    first = Math.max(0, blob.size() - suffix);
                    if (suffix == 0) {
                        first = blob.size();
                    }
                } else {
                    first = Long.parseLong(matcher.group(1));
                    if (!matcher.group(2).isEmpty()) {
                        last = Math.min(last, Long.parseLong(matcher.group(2)));
                        if (Long.parseLong(matcher.group(2)) < first) {
                            throw unsatisfiable(ctx, blob, range);
                        }
                    }
                }
            } catch (NumberFormatException e) {
                throw unsatisfiable(ctx, blob, range);
            }
            if (first >= blob.size()) {
                throw unsatisfiable(ctx, blob, range);
            }
            ctx.status(206).header("Content-Range", "bytes " + first + "-" + last + "/" + blob.size());
        } else {
            ctx.status(200);
        }
        ctx.header("Content-Length", Long.toString(last - first + 1));
        Admission.Slot reading = blobReads.admit(tokenId);
        try {
            ctx.result(new ReleasingStream(blobs.open(blob, first, last), reading));
        } catch (BlobRefused e) {
            reading.close();
            throw problem(e);
        } catch (RuntimeException e) {
            reading.close();
            throw e;
        }
    }

    /** The bytes being served, releasing the reader's slot when closed. */
    private static final class ReleasingStream extends FilterInputStream {
        private final Admission.Slot slot;

        ReleasingStream(InputStream in, Admission.Slot slot) {
            super(in);
            this.slot = slot;
        }

        @Override
        public void close() throws IOException {
            try {
                super.close();
            } finally {
                slot.close();
            }
        }
    }

    private static Problem unsatisfiable(Context ctx, BlobStore.Blob blob, String range) {
        ctx.header("Content-Range", "bytes */" + blob.size());
        return Problem.rangeNotSatisfiable(
                "the range " + range + " is not within the content's " + blob.size() + " bytes");
    }

    /**
     * The artifact's state (read at the request's position, from whichever instance holds it), once {@link Access}
     * allowed {@code action} on it: 404 unless it exists within the caller's reach, 403 when its room's membership
     * does not allow it.
     */
    private JsonNode requireArtifact(Context ctx, String artifactId, Access.Action action) {
        Map<String, String> caller = Cluster.caller(ctx);
        JsonNode artifact = reads.owned(
                        caller, EntityKind.ARTIFACT, artifactId, null, ReadPosition.from(ctx), Requests.timeoutMs(ctx))
                .get("state");
        if (artifact == null) {
            throw Scope.hidden(EntityKind.ARTIFACT, artifactId);
        }
        rooms.requireArtifact(caller, Requests.principal(ctx), action, artifact);
        return artifact;
    }
}
