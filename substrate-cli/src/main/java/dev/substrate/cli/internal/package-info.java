/** How the CLI's server commands run: the process's parts, its stop signal, its pre-flight checks. */
package dev.substrate.cli.internal;
