/** The HTTP API's routes, JSON mapping and problem answers. */
package dev.substrate.api.internal;
