/** The Kafka serde of the wire codecs. Internal. */
package dev.substrate.event.internal;
