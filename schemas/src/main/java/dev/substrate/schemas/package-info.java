/**
 * The event schemas: the three {@linkplain dev.substrate.schemas.WireSchema envelopes} and every {@linkplain
 * dev.substrate.schemas.ReleasedSchemas released version} of them. The generated event classes live in
 * {@code dev.substrate.events.run}, {@code .room}, {@code .artifact} and {@code .common}.
 */
package dev.substrate.schemas;
