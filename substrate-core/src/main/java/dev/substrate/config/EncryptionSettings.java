package dev.substrate.config;

import java.util.List;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;

/** Encryption of rooms' content, for the projects that opt in, so that erasing a room destroys its key. */
public final class EncryptionSettings {

    /** The project patterns whose rooms' content is encrypted; empty (the default): none. */
    public static final Setting<List<String>> PROJECTS = Setting.of(
            "encryption.projects",
            Type.LIST,
            "",
            null,
            Importance.MEDIUM,
            "Project patterns (`*` matches anything, comma-separated) whose rooms' content is appended encrypted"
                    + " (AES-GCM under a key per room, kept wrapped on `<prefix>keys`), so that `POST /v1/erasures`"
                    + " makes it unreadable everywhere by destroying the key. Empty: none; outside Kafka consumers"
                    + " read plain records. Needs `encryption.master.key.file`.",
            (value, config) -> ((List<?>) value)
                    .stream()
                            .map(String::valueOf)
                            .filter(pattern -> !pattern.isBlank())
                            .toList());

    /** The file of master keys that wrap the rooms' keys. */
    public static final Setting<String> MASTER_KEY_FILE = Setting.text(
            "encryption.master.key.file",
            "",
            null,
            Importance.MEDIUM,
            "A file of master keys, one `id=<base64 of 32 bytes>` a line: the first wraps new room keys, the others"
                    + " still unwrap the keys they wrapped (rotation: put a new line first, `substrate keys rewrap`,"
                    + " then remove the old line). Every instance reads the same file. Keep it out of Kafka and backups"
                    + " of Kafka.");

    static final List<Setting<?>> ALL = List.of(PROJECTS, MASTER_KEY_FILE);

    private EncryptionSettings() {}
}
