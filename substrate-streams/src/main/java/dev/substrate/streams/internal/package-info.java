/** The fold's topology and processors, and its error handling. Not an API: use {@link dev.substrate.streams.SubstrateFold}. */
package dev.substrate.streams.internal;
