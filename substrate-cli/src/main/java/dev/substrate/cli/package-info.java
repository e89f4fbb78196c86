/** The {@code substrate} command line: {@link dev.substrate.cli.SubstrateCli} and its subcommands. */
package dev.substrate.cli;
