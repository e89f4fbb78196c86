/**
 * Retention policies: which finished runs and closed rooms the fold deletes once they are old enough ({@link
 * dev.substrate.retention.RetentionPolicy}), kept on a compacted topic every instance follows ({@link
 * dev.substrate.retention.RetentionPolicyFollower}), and the deletion events the fold appends to the entities' own
 * logs ({@link dev.substrate.retention.Deletions}), so that a rebuild from the logs deletes the same.
 */
package dev.substrate.retention;
