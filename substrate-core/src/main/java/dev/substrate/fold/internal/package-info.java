/** The fold's step ({@code FoldStep}) and the in-memory fold: what the topology and local runs decide with. Internal. */
package dev.substrate.fold.internal;
