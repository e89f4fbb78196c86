/**
 * The rules, in one package: what the fold decides for runs ({@link dev.substrate.fold.RunFold}), rooms ({@link
 * dev.substrate.fold.RoomFold}, with long blocks in parts) and artifacts ({@link dev.substrate.fold.ArtifactFold});
 * the step that looks up an event's earlier outcome, decides and records ({@link dev.substrate.fold.FoldStep}); its
 * {@link dev.substrate.fold.Decision}s and the stable {@link dev.substrate.fold.Reason} codes of rejections; the {@link
 * dev.substrate.fold.FoldLimits} every record it writes keeps within; and a fold of a log in memory ({@link
 * dev.substrate.fold.InMemoryFold}). Kafka Streams' topology, local runs and the API's checks all decide with these.
 */
package dev.substrate.fold;
