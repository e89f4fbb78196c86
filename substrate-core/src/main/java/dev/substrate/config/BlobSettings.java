package dev.substrate.config;

import java.nio.file.Path;
import java.util.List;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;

/** Artifact content: its size limits, quota, this instance's cache, and how many uploads and reads at once. */
public final class BlobSettings {

    /** The directory of this instance's cache of artifact content. */
    public static final Setting<Path> DIR = Setting.text(
                    "blob.dir",
                    "",
                    null,
                    Importance.MEDIUM,
                    "Directory of this instance's cache of artifact content (the content itself lives in Kafka, on "
                            + "the `blobs` topic). Empty means `<data.dir>/blobs`. Not shared between instances.")
            .derived((value, config) ->
                    value.isBlank() ? config.get(KafkaSettings.DATA_DIR).resolve("blobs") : Path.of(value.strip()));

    /** The largest artifact content accepted. */
    public static final Setting<Long> MAX_BYTES = Setting.number(
            "blob.max.bytes",
            1024L * 1024 * 1024,
            Range.atLeast(0),
            Importance.LOW,
            "Largest artifact content `PUT /v1/artifacts/{id}/content` accepts; larger uploads are refused "
                    + "with 413 and nothing is kept.");

    /** The most bytes the blob store may hold. */
    public static final Setting<Long> QUOTA_BYTES = Setting.number(
            "blob.quota.bytes",
            0L,
            Range.atLeast(0),
            Importance.LOW,
            "The most bytes of artifact content the substrate may hold in Kafka (every blob counted once); an "
                    + "upload that would pass it is refused with 507. 0 for no quota.");

    /** The most bytes of blobs this instance keeps a copy of on local disk. */
    public static final Setting<Long> CACHE_BYTES = Setting.number(
            "blob.cache.bytes",
            1024L * 1024 * 1024,
            Range.atLeast(0),
            Importance.LOW,
            "The most bytes of artifact content this instance keeps a copy of in `blob.dir`, the least "
                    + "recently used put out first; 0 keeps none (every read comes from Kafka).");

    /** Uploads of artifact content one instance takes at once. */
    public static final Setting<Integer> UPLOADS_MAX = Setting.integer(
            "blob.uploads.max",
            4,
            Range.between(1, 256),
            Importance.LOW,
            "Uploads of artifact content one instance takes at once, each with a transactional producer of "
                    + "its own holding at most 4 MiB; one more is refused with 503 and `Retry-After`.");

    /** Reads of artifact content from Kafka one instance serves at once. */
    public static final Setting<Integer> READS_MAX = Setting.integer(
            "blob.reads.max",
            32,
            Range.between(1, 10_000),
            Importance.LOW,
            "Reads of artifact content from Kafka one instance serves at once, each with a consumer of its "
                    + "own holding about 2 MiB; one more is refused with 503 and `Retry-After`. Reads from "
                    + "the local cache do not count.");

    /** Every setting of this component. */
    static final List<Setting<?>> ALL = List.of(DIR, MAX_BYTES, QUOTA_BYTES, CACHE_BYTES, UPLOADS_MAX, READS_MAX);

    private BlobSettings() {}
}
