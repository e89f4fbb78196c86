/**
 * The Java client services append events with: {@link dev.substrate.client.SubstrateClient}.
 */
package dev.substrate.client;
