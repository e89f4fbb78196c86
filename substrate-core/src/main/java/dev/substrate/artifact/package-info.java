/** The artifact rules: a pure function of an artifact's state and one event. */
package dev.substrate.artifact;
