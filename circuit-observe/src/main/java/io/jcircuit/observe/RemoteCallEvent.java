package io.jcircuit.observe;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Threshold;
import jdk.jfr.Timespan;

/**
 * One remote call as JFR records it. Its start time and duration are the call's, as seen by the
 * thread that made or served it; {@code callDuration} is the runtime's own figure for the same call.
 * Stack traces are off by default: turn them on with the {@code stackTrace} setting.
 *
 * <p>Like the JDK's socket read and write events, it is on by default with a 20 ms threshold, so a
 * recording with default settings shows the slow calls only; {@code withoutThreshold()} (or
 * {@code threshold=0 ms} in a {@code .jfc}) records every call.
 */
@Name(JfrCallEvents.EVENT_NAME)
@Label("Remote Call")
@Category({"JCircuit"})
@Description("A call that crossed runtimes: a remote method call, a go or a service lookup")
@StackTrace(false)
@Threshold(JfrCallEvents.DEFAULT_THRESHOLD)
final class RemoteCallEvent extends Event {

    @Label("Direction")
    @Description("OUT on the caller, IN on the callee")
    String direction;

    @Label("Peer")
    @Description("The runtime on the other side")
    String peer;

    @Label("Method")
    @Description("Interface.method(ParamType,...), go, or dial NAME")
    String method;

    @Label("Bytes Out")
    @Description("Payload bytes this side sent")
    @DataAmount
    long bytesOut;

    @Label("Bytes In")
    @Description("Payload bytes this side received")
    @DataAmount
    long bytesIn;

    @Label("Outcome")
    @Description("OK, THREW or FAILED")
    String outcome;

    @Label("Call Duration")
    @Description("The call's duration as the runtime measured it")
    @Timespan(Timespan.NANOSECONDS)
    long callDuration;
}
