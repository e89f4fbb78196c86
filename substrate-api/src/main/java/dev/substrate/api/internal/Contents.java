package dev.substrate.api.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.substrate.blob.BlobRefused;
import dev.substrate.blob.BlobStore;
import dev.substrate.crypto.ContentKeys;
import dev.substrate.crypto.SealedContent;
import dev.substrate.entity.EntityKind;
import dev.substrate.events.artifact.ArtifactRevised;
import io.javalin.http.Context;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
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
    private final Sealing sealing;

    /** The artifact label that says its content is sealed under its room's key. */
    static final String SEALED_LABEL = "substrate.sealed";

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
            int waitsPerCaller,
            Sealing sealing) {
        this.sealing = sealing;
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
        JsonNode artifact = requireArtifact(ctx, artifactId, Access.Action.APPEND);
        String subject = sealedSubject(artifact);
        BlobStore.Blob blob;
        String digest;
        long size;
        Admission.Slot uploading = uploads.admit(Requests.tokenId(ctx));
        try {
            if (declared > 0) {
                blobs.requireRoomFor(subject == null ? declared : SealedContent.sealedSize(declared));
            }
            try (InputStream body = ctx.req().getInputStream()) {
                if (subject == null) {
                    blob = blobs.put(body, maxBytes, ctx.header(DIGEST_HEADER));
                    digest = blob.digest();
                    size = blob.size();
                } else {
                    // Sealed as it streams in; its plain digest and size are what the artifact records.
                    PlainCount plain = new PlainCount(body);
                    blob = blobs.put(
                            sealing.keys()
                                    .orElseThrow()
                                    .sealBytes(
                                            subject, artifact.path("parentId").asText(null), plain),
                            SealedContent.sealedSize(maxBytes),
                            null);
                    digest = plain.digest();
                    size = plain.count;
                    String expected = ctx.header(DIGEST_HEADER);
                    if (expected != null && !expected.equals(digest)) {
                        throw Problem.badRequest(
                                "the content's digest is " + digest + ", not " + expected, DIGEST_HEADER);
                    }
                }
            }
        } catch (ContentKeys.KeysUnavailable e) {
            throw Problem.unavailable(e.getMessage());
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
        payload.put("digest", digest);
        payload.put("size", size);
        if (subject != null) {
            payload.putObject("labels").put(SEALED_LABEL, "aes-256-gcm");
        }
        String mediaType = ctx.contentType();
        if (mediaType != null && !mediaType.isBlank()) {
            payload.put("mediaType", mediaType);
        }
        payload.put("note", "content stored");
        Appends.Result result = appends.append(ctx, EntityKind.ARTIFACT, artifactId, payload);
        result.body().put("locator", blob.locator());
        result.body().put("digest", digest);
        result.body().put("size", size);
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
        BlobStore.Blob stored = found.orElseThrow(() ->
                Problem.unavailable("blob " + digest + " is not in this instance's index yet; try again shortly"));
        boolean sealed = artifact.path("labels").has(SEALED_LABEL);
        // What the caller is served: for sealed content, the plain bytes' digest and size the artifact recorded.
        BlobStore.Blob blob = sealed
                ? new BlobStore.Blob(artifact.path("digest").asText(), SealedContent.plainSize(stored.size()))
                : stored;
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
        if (sealed && blob.size() == 0) {
            ctx.header("Content-Length", "0");
            ctx.result(new byte[0]);
            return;
        }
        ctx.header("Content-Length", Long.toString(last - first + 1));
        Admission.Slot reading = blobReads.admit(tokenId);
        try {
            InputStream bytes = sealed ? openSealed(artifact, stored, first, last) : blobs.open(blob, first, last);
            ctx.result(new ReleasingStream(bytes, reading));
        } catch (ContentKeys.ContentErased e) {
            reading.close();
            throw Problem.ofStatus(410, "Gone", "the content was erased with its room's keys (" + e.getMessage() + ")");
        } catch (BlobRefused e) {
            reading.close();
            throw problem(e);
        } catch (RuntimeException e) {
            reading.close();
            throw e;
        }
    }

    /**
     * The room whose key seals the artifact's content ({@code room:<id>}), or null when it is stored plain: an artifact
     * of a room, in a project that is encrypted or whose room already has a key.
     */
    private String sealedSubject(JsonNode artifact) {
        JsonNode roomId = artifact.path("provenance").path("roomId");
        if (sealing.keys().isEmpty() || !roomId.isTextual()) {
            return null;
        }
        ContentKeys keys = sealing.keys().get();
        String subject = ContentKeys.room(roomId.asText());
        return keys.covers(artifact.path("parentId").asText(null)) || keys.has(subject) ? subject : null;
    }

    /** The plain bytes {@code first} to {@code last} of the sealed content {@code stored}, opened as they are read. */
    private InputStream openSealed(JsonNode artifact, BlobStore.Blob stored, long first, long last) {
        String subject =
                ContentKeys.room(artifact.path("provenance").path("roomId").asText());
        ContentKeys keys = sealing.keys()
                .orElseThrow(() -> Problem.ofStatus(
                        410, "Gone", "the content is sealed and no project is encrypted here: no key opens it"));
        byte[] header;
        try (InputStream start = blobs.open(stored, 0, SealedContent.HEADER - 1)) {
            header = start.readAllBytes();
        } catch (IOException e) {
            throw Problem.unavailable("the content could not be read: " + e.getMessage());
        }
        long sealedEnd = Math.min(
                stored.size(), SealedContent.sealedStart(last) + SealedContent.SEGMENT + SealedContent.OVERHEAD);
        return keys.openBytes(
                subject,
                header,
                blobs.open(stored, SealedContent.sealedStart(first), sealedEnd - 1),
                stored.size(),
                first,
                last);
    }

    /** The plain bytes of an upload, counted and hashed as they pass. */
    private static final class PlainCount extends FilterInputStream {
        private final MessageDigest sha256;
        private long count;

        PlainCount(InputStream in) {
            super(in);
            try {
                this.sha256 = MessageDigest.getInstance("SHA-256");
            } catch (java.security.NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                sha256.update((byte) b);
                count++;
            }
            return b;
        }

        @Override
        public int read(byte[] into, int offset, int length) throws IOException {
            int n = super.read(into, offset, length);
            if (n > 0) {
                sha256.update(into, offset, n);
                count += n;
            }
            return n;
        }

        String digest() {
            return "sha256:" + java.util.HexFormat.of().formatHex(sha256.digest());
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
