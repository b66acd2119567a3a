package io.jcircuit.bench;

/**
 * What {@code bin/circuit bench} was asked for.
 *
 * @param quick a short run of about 100-110 s on two cores, all passes and JVM starts included
 * @param json  print one JSON object instead of the table
 */
public record Options(boolean quick, boolean json) {
}
