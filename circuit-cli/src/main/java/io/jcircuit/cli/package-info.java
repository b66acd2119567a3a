/**
 * The {@code circuit} command line (picocli). Each subcommand is a small class that hands its work to
 * the layer that owns it; help text is generated from the command table in
 * {@link io.jcircuit.cli.CircuitCommand}.
 */
package io.jcircuit.cli;
