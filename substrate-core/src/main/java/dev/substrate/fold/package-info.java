/**
 * One step of the fold, the same wherever events are folded (the Kafka Streams topology, the in-memory fold, local
 * runs): {@link dev.substrate.fold.FoldStep}, its {@link dev.substrate.fold.Decision}s and reason codes, and the
 * {@link dev.substrate.fold.FoldLimits} every record it writes keeps within.
 */
package dev.substrate.fold;
