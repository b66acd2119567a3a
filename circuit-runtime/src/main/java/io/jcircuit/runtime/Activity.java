package io.jcircuit.runtime;

/**
 * What a runtime is doing for others, by which a spawned worker decides whether to live on
 * (DESIGN §1: it lives while its function runs or another runtime holds a reference into it).
 *
 * @param running      requests from other runtimes being served now
 * @param gosDone      {@code go} functions from other runtimes that have finished
 * @param heldRemotely whether another runtime holds a reference to an object here
 */
public record Activity(int running, long gosDone, boolean heldRemotely) {

    /** True when a function has run here and nothing here is running or held for another runtime. */
    public boolean finished() {
        return gosDone > 0 && running == 0 && !heldRemotely;
    }
}
