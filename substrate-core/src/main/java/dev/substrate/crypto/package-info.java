/**
 * Crypto-shredding of rooms' content: in the projects of {@code encryption.projects}, a room's content is sealed with
 * AES-GCM under a key of its own ({@link dev.substrate.crypto.ContentKeys}), kept on Kafka wrapped by a master key;
 * erasing the room destroys the key, and with it every copy of the content (logs, changelogs, state topics, stores).
 */
package dev.substrate.crypto;
