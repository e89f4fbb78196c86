/**
 * Talking to a Confluent-compatible Schema Registry: what {@link dev.substrate.event.Wire} does in the {@code
 * confluent} wire format, and how it fails ({@link dev.substrate.registry.SchemaRegistryFailed}).
 */
package dev.substrate.registry;
