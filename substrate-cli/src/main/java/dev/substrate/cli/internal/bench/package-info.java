/** {@code substrate bench}: each part beside raw Kafka on the same machine, and the scale run. Not an API. */
package dev.substrate.cli.internal.bench;
