/** How the local store is kept; not part of the API. */
package dev.substrate.local.internal;
