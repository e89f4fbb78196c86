/** The registry's REST client. Not API. */
package dev.substrate.registry.internal;
