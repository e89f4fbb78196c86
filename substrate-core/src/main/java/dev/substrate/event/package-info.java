/**
 * Events on the wire: the {@linkplain dev.substrate.event.WireCodec codec} (Avro single-object encoding),
 * the {@linkplain dev.substrate.event.EventValidator rules} every event meets at every boundary, and
 * {@linkplain dev.substrate.event.EventIds time-ordered ids}.
 */
package dev.substrate.event;
