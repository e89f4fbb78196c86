/**
 * The HTTP API: interactive queries over the fold's state, appends, health and metrics. This is the only module
 * that imports the HTTP framework (Javalin).
 */
package dev.substrate.api;
