package io.jcircuit.cli;

/**
 * The JVM's shutdown hooks as commands use them: a command that adds one (to stop what it started on
 * Ctrl-C or a kill) takes it off again when it ends by itself, and must know when the JVM is already
 * ending, where removing a hook throws and the hook does the stopping.
 */
final class ShutdownHooks {

    private ShutdownHooks() {
    }

    /**
     * Takes {@code hook} off the JVM's shutdown hooks. False when the JVM is already shutting down
     * (Ctrl-C): the hook then does its work, and the command's own thread must neither do it again nor
     * say that it did not. (Removing a hook during shutdown throws, and a demo ended with "Shutdown in
     * progress" instead of what went wrong.)
     */
    static boolean unhook(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
            return true;
        } catch (IllegalStateException shuttingDown) {
            return false;
        }
    }

    /**
     * Whether the JVM is ending (Ctrl-C, a kill): calls failing now are the close the shutdown hooks
     * run, not what the command measures, and it says it was stopped instead of reporting them.
     */
    static boolean jvmEnding() {
        Thread probe = new Thread(() -> { });
        try {
            Runtime.getRuntime().addShutdownHook(probe);
            Runtime.getRuntime().removeShutdownHook(probe);
            return false;
        } catch (IllegalStateException shuttingDown) {
            return true;
        }
    }
}
