/** The room rules: membership, the runtime state, and the transcript with long blocks in parts. */
package dev.substrate.room;
