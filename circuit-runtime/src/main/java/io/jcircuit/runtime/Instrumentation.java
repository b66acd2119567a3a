package io.jcircuit.runtime;

import io.jcircuit.CallEvent;
import io.jcircuit.CallInterceptor;
import io.jcircuit.CallInterceptor.CallInfo;
import io.jcircuit.CallInterceptor.Direction;
import io.jcircuit.Subscription;
import io.jcircuit.WorkerId;
import io.jcircuit.codec.MessageCodec;
import io.jcircuit.runtime.ops.CallMetrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The call hooks of one runtime: the built-in metrics, then the application's interceptors in the
 * order they were added. With no interceptor registered, a call pays only for the metrics.
 */
final class Instrumentation {

    private static final Logger LOG = LoggerFactory.getLogger(Instrumentation.class);
    private static final Hook[] NONE = {};

    private final CallMetrics metrics;
    private final java.util.function.LongSupplier nanoClock;
    private volatile Hook[] interceptors = NONE;

    /** {@code metrics} null: none kept (the benchmark's comparison run). */
    Instrumentation(CallMetrics metrics) {
        this(metrics, System::nanoTime);
    }

    /** As above, with the clock its warnings are limited by ({@link WarningLimit}); for tests. */
    Instrumentation(CallMetrics metrics, java.util.function.LongSupplier nanoClock) {
        this.metrics = metrics;
        this.nanoClock = nanoClock;
    }

    /** An interceptor as registered, with the limits of the warnings it causes, which go when it is removed. */
    private static final class Hook {
        final CallInterceptor interceptor;
        final WarningLimit failures;
        final WarningLimit unsendable;

        Hook(CallInterceptor interceptor, java.util.function.LongSupplier nanoClock) {
            this.interceptor = interceptor;
            this.failures = new WarningLimit(nanoClock);
            this.unsendable = new WarningLimit(nanoClock);
        }
    }

    CallMetrics metrics() {
        return metrics;
    }

    synchronized Subscription add(CallInterceptor interceptor) {
        java.util.Objects.requireNonNull(interceptor, "interceptor");
        Hook[] now = Arrays.copyOf(interceptors, interceptors.length + 1);
        now[now.length - 1] = new Hook(interceptor, nanoClock);
        interceptors = now;
        return () -> remove(interceptor);
    }

    private synchronized void remove(CallInterceptor interceptor) {
        Hook[] now = interceptors;
        for (int i = 0; i < now.length; i++) {
            if (now[i].interceptor == interceptor) {
                Hook[] less = new Hook[now.length - 1];
                System.arraycopy(now, 0, less, 0, i);
                System.arraycopy(now, i + 1, less, i, now.length - i - 1);
                interceptors = less;
                return;
            }
        }
    }

    /** Caller side, before encoding: the context the interceptors attach, empty when none. */
    Map<String, String> outgoing(WorkerId peer, long callId, String method) {
        Hook[] all = interceptors;
        if (all.length == 0) {
            return Map.of();
        }
        Map<String, String> context = new LinkedHashMap<>();
        CallInfo info = new CallInfo(Direction.OUT, peer, method, callId);
        for (Hook h : all) {
            try {
                h.interceptor.outgoing(info, context);
            } catch (VirtualMachineError e) {
                throw e;
            } catch (Throwable e) {
                contain(h, "an outgoing", method, e);
            }
            keepSendable(context, h, method);
        }
        return context.isEmpty() ? Map.of() : context;
    }

    /**
     * Drops the entries of {@code context} that the codec cannot send, which {@code i} has just put in:
     * a null key or value, and every entry past the first {@link MessageCodec#MAX_CONTEXT_ENTRIES} in the
     * order they were put. The call goes on without them, with a warning (limited, {@link WarningLimit}): a
     * context it cannot carry is a bug of the instrumentation, which never fails a call.
     */
    private static void keepSendable(Map<String, String> context, Hook h, String method) {
        if (context.size() <= MessageCodec.MAX_CONTEXT_ENTRIES && !context.containsKey(null)
            && !context.containsValue(null)) {
            return; // each call's case: a look-up and a walk of a few entries, nothing allocated
        }
        List<String> dropped = null;
        int kept = 0;
        for (Iterator<Map.Entry<String, String>> it = context.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, String> e = it.next();
            if (e.getKey() != null && e.getValue() != null && kept < MessageCodec.MAX_CONTEXT_ENTRIES) {
                kept++;
                continue;
            }
            if (dropped == null) {
                dropped = new ArrayList<>();
            }
            dropped.add(e.getKey());
            it.remove();
        }
        String note = dropped == null ? null : h.unsendable.admit();
        if (note != null) {
            LOG.warn("call interceptor {} put entries into the context of an outgoing call of {} that cannot be sent"
                + " (a null key or value, or more than {} entries in all); the call goes without them: {}{}",
                h.interceptor, method, MessageCodec.MAX_CONTEXT_ENTRIES, dropped, note);
        }
    }

    /** Callee side: runs {@code call} inside every interceptor's {@code incoming}, outermost first. */
    Object incoming(WorkerId peer, long callId, String method, Map<String, String> context,
                    CallInterceptor.Proceed call) throws Throwable {
        Hook[] all = interceptors;
        if (all.length == 0) {
            return call.proceed();
        }
        return chain(all, 0, new CallInfo(Direction.IN, peer, method, callId), context, call);
    }

    private static Object chain(Hook[] all, int i, CallInfo info, Map<String, String> context,
                                CallInterceptor.Proceed call) throws Throwable {
        if (i == all.length) {
            return call.proceed();
        }
        return all[i].interceptor.incoming(info, context, () -> chain(all, i + 1, info, context, call));
    }

    /**
     * After a call crossing runtimes, on either side, with the same {@code callId} its first hook had.
     * Every interceptor's {@code completed} runs; the first {@link VirtualMachineError} one threw is
     * thrown after the last.
     */
    void completed(Direction direction, WorkerId peer, long callId, String method, long bytesOut, long bytesIn,
                   long startNanos, CallEvent.Outcome outcome) {
        completed(direction, peer, callId, method, method, bytesOut, bytesIn, startNanos, outcome);
    }

    /**
     * As above, counted in the metrics under {@code counted} while the interceptors see {@code method},
     * the name their other hook saw: a lookup that found nothing (see {@link Invoker#dialName}).
     */
    void completed(Direction direction, WorkerId peer, long callId, String method, String counted, long bytesOut,
                   long bytesIn, long startNanos, CallEvent.Outcome outcome) {
        long duration = System.nanoTime() - startNanos;
        if (metrics != null) {
            metrics.record(direction, peer, counted, bytesOut, bytesIn, duration, outcome);
        }
        Hook[] all = interceptors;
        if (all.length == 0) {
            return;
        }
        CallEvent event = new CallEvent(direction, peer, method, bytesOut, bytesIn, duration, outcome, callId);
        VirtualMachineError fatal = null;
        for (Hook h : all) {
            try {
                h.interceptor.completed(event);
            } catch (VirtualMachineError e) {
                // goes on up, once the others have had theirs: each sees every call it saw begin end
                if (fatal == null) {
                    fatal = e;
                }
            } catch (Throwable e) {
                contain(h, "a completed", method, e);
            }
        }
        if (fatal != null) {
            throw fatal;
        }
    }

    /**
     * Logs what an interceptor threw, which the call goes on without: any exception, and any error but
     * a {@link VirtualMachineError} (an {@link AssertionError}, a {@link NoClassDefFoundError} of an
     * optional dependency), so that a bug of the instrumentation never fails a call nor the link it
     * came on. The stack trace is left out when printing it fails (its message may throw). Limited as
     * {@link WarningLimit} says, for each interceptor: one that throws on every call logs a few, then one
     * a minute that counts the others.
     */
    private static void contain(Hook h, String what, String method, Throwable e) {
        String note = h.failures.admit();
        if (note == null) {
            return;
        }
        try {
            LOG.warn("call interceptor {} failed on {} call of {}{}", h.interceptor, what, method, note, e);
        } catch (RuntimeException | Error unprintable) {
            LOG.warn("call interceptor {} failed on {} call of {}: {}{}", h.interceptor.getClass().getName(), what,
                method, e.getClass().getName(), note);
        }
    }
}
